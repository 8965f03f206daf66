/**
 * The cost model's inventory (lib/core/cost/inventory.ts), read from the synthesized app itself:
 * every stack's CloudFormation template is walked for what is billed (functions, schedules, APIs,
 * workflows, tables and replicas, keys, Route 53, log groups, alarms, sampling rules), so a
 * resource added to the stacks is priced without a second list to keep. The construct tree only
 * names each function's job (HandlerFunction), which a template does not say.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, type CfnElement, type Stack } from 'aws-cdk-lib';
import { PING_ENDPOINT } from '../app/latency/sampler.ts';
import { metricSeries } from '../app/metrics.ts';
import type {
  AlarmItem,
  BackupRuleItem,
  CostInventory,
  CustomMetricItem,
  DnsRecordItem,
  HealthCheckItem,
  HttpApiItem,
  KmsKeyItem,
  LambdaFunctionItem,
  LogGroupItem,
  QueueMappingItem,
  RouteItem,
  SamplingRuleItem,
  ScheduleItem,
  StateMachineItem,
  TableItem,
  Workload,
} from '../core/cost/inventory.ts';
import { probeRequestPaths } from '../core/health/probe-bundle.ts';
import { samplingOf } from '../core/latency/stats.ts';
import { DEFAULT_BEAT_INTERVAL_MS } from '../core/replication/lag.ts';
import type { Topology } from '../core/topology/types.ts';
import { buildApp, type CortexStacks } from './app.ts';
import type { NetworkMode } from './deploy-options.ts';
import { HANDLER_ENV, HandlerFunction } from './handler-function.ts';
import { SEND_MESSAGE_BATCH_ARN } from './minute-driver.ts';
import { WitnessStack } from './witness-stack.ts';

const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The DNS the model prices when asked for (`cortex cost --dns` or `--domain <d>`): the app deploys DNS
 * only with `-c domain=...`, so by default neither does the model. The names do not change the bill.
 */
export const COST_DNS = { domain: 'cortex.example.com', hostedZoneId: 'Z0COSTMODEL' } as const;

type Json = Record<string, unknown>;
type Template = { readonly Resources?: Readonly<Record<string, { Type: string; Properties?: Json }>> };

/**
 * Synthesizes the app for `topology` in-process (no bundling, no credentials, a temporary output
 * directory removed afterwards) and returns its inventory. Without `domain` it is the app's default
 * deployment, without DNS; with one, the Route 53 zone, health checks and records are priced too.
 * With `network: 'mesh'` the regional stacks hold what `-c network=mesh` adds to them (the MCP
 * health job); the mesh stacks themselves are not priced (docs/network.md says what they cost).
 */
export function synthesizeCostInventory(
  topology: Topology,
  options: { readonly domain?: string; readonly network?: NetworkMode } = {},
): CostInventory {
  const outdir = mkdtempSync(join(tmpdir(), 'cortex-cost-'));
  try {
    const context = JSON.parse(readFileSync(join(REPOSITORY_ROOT, 'cdk.json'), 'utf8')).context ?? {};
    // No esbuild: the cost reads templates, not bundles.
    const app = new App({ outdir, context: { ...context, 'aws:cdk:bundling-stacks': [] } });
    const stacks = buildApp(app, topology, {
      ...(options.domain === undefined ? {} : { dns: { ...COST_DNS, domain: options.domain } }),
      ...(options.network === undefined ? {} : { network: options.network }),
    });
    // The synth prints its annotations report (DNS and replication notices) to the console: they are
    // for `cdk synth`, not for a cost estimate.
    const assembly = quietly(() => app.synth());
    return costInventory(stacks, (stack) => assembly.getStackArtifact(stack.artifactId).template as Template);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** What the code's constants make the plane do for `topology`, with the probe interval given or its policy's. */
export function costWorkload(
  topology: Topology,
  options: { readonly probeIntervalSeconds?: number; readonly requestsPerMonth: number },
): Workload {
  const health = topology.failover_policies.health_check;
  return {
    probeIntervalSeconds: options.probeIntervalSeconds ?? health.interval_seconds,
    probeEndpoints: health.endpoints,
    probeRequests: probeRequestPaths(health.endpoints),
    replicationBeatSeconds: DEFAULT_BEAT_INTERVAL_MS / 1000,
    latencySamplesPerRun: samplingOf(topology).samples_per_run,
    latencyPingPath: PING_ENDPOINT,
    requestsPerMonth: options.requestsPerMonth,
  };
}

/**
 * The inventory of built stacks, each read through `templateOf` (a synthesized template); the
 * embedded-format metrics each region's functions publish come from the code's catalog.
 */
export function costInventory(stacks: CortexStacks, templateOf: (stack: Stack) => Template): CostInventory {
  const all: Stack[] = [
    ...stacks.regionalStacks,
    ...stacks.witnessStacks,
    stacks.stateStack,
    ...stacks.replicationStacks,
    ...(stacks.dnsStack ? [stacks.dnsStack] : []),
  ];
  const customMetrics = customMetricsOf(stacks);
  const found = emptyFindings();
  for (const stack of all) readStack(found, stack, templateOf(stack).Resources ?? {});
  const {
    backupSelections,
    zones,
    tableNames,
    metricFilters,
    dashboards,
    snsTopics,
    samplingRules,
    ...inventory
  } = found;
  // A rule's tables: its plan's selections (the rule holds its plan's logical id until here).
  const backupRules = inventory.backupRules.map((rule) => ({
    ...rule,
    tables: backupSelections
      .filter((sel) => sel.stack === rule.stack && sel.plan === rule.tables[0])
      .flatMap((sel) => sel.tables),
  }));
  const stateTableName = [...tableNames].sort((x, y) => y[1] - x[1])[0]?.[0] ?? '';
  return {
    regions: stacks.regionalStacks.map((s) => s.regionId),
    stacks: all.map((s) => s.stackName),
    ...inventory,
    backupRules,
    hostedZones: zones.size,
    metricFilters,
    customMetrics,
    dashboards,
    snsTopics,
    stateTableName,
    samplingRules,
  };
}

/** What the templates' walk gathers: the inventory's lists, and the counts and links its totals come from. */
interface Findings {
  readonly functions: LambdaFunctionItem[];
  readonly schedules: ScheduleItem[];
  readonly httpApis: HttpApiItem[];
  readonly routes: RouteItem[];
  readonly stateMachines: StateMachineItem[];
  readonly tables: TableItem[];
  readonly kmsKeys: KmsKeyItem[];
  readonly healthChecks: HealthCheckItem[];
  readonly dnsRecords: DnsRecordItem[];
  readonly logGroups: LogGroupItem[];
  readonly alarms: AlarmItem[];
  readonly queueMappings: QueueMappingItem[];
  /** Each rule's `tables` holds its plan's logical id until the selections are joined to it. */
  readonly backupRules: BackupRuleItem[];
  readonly backupSelections: { stack: string; plan: string | undefined; tables: string[] }[];
  /** Hosted zones, created or referenced by a record. */
  readonly zones: Set<string>;
  /** Functions per table name in their environment: the most used is the state table. */
  readonly tableNames: Map<string, number>;
  metricFilters: number;
  dashboards: number;
  snsTopics: number;
  readonly samplingRules: SamplingRuleItem[];
}

/** Nothing found yet. */
function emptyFindings(): Findings {
  return {
    functions: [],
    schedules: [],
    httpApis: [],
    routes: [],
    stateMachines: [],
    tables: [],
    kmsKeys: [],
    healthChecks: [],
    dnsRecords: [],
    logGroups: [],
    alarms: [],
    queueMappings: [],
    backupRules: [],
    backupSelections: [],
    zones: new Set(),
    tableNames: new Map(),
    metricFilters: 0,
    dashboards: 0,
    snsTopics: 0,
    samplingRules: [],
  };
}

/** The stack a resource is read from, with what its resources need of the rest of the template. */
interface StackTemplate {
  readonly stack: Stack;
  readonly name: string;
  readonly resources: NonNullable<Template['Resources']>;
  /** Each HandlerFunction's job or concern, by logical id. */
  readonly jobs: ReadonlyMap<string, string>;
  /** Each API integration's target function, by the integration's logical id. */
  readonly integrations: ReadonlyMap<string, string | undefined>;
}

/** Reads what is billed from one resource of a stack into `found`. */
type ResourceReader = (found: Findings, s: StackTemplate, id: string, p: Json) => void;

/** Reads every billed resource of `stack`, in template order (a stage follows its API). */
function readStack(found: Findings, stack: Stack, resources: NonNullable<Template['Resources']>): void {
  const integrations = new Map<string, string | undefined>();
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::ApiGatewayV2::Integration')
      integrations.set(id, refOf(r.Properties?.IntegrationUri));
  }
  const s: StackTemplate = { stack, name: stack.stackName, resources, jobs: jobNames(stack), integrations };
  for (const [id, r] of Object.entries(resources))
    RESOURCE_READERS.get(r.Type)?.(found, s, id, r.Properties ?? {});
}

/** The embedded-format metric and dimension sets each regional stack's functions publish. */
function customMetricsOf(stacks: CortexStacks): CustomMetricItem[] {
  return stacks.regionalStacks.flatMap((stack) =>
    metricSeries(stack.regionId).map((m) => ({
      stack: stack.stackName,
      series: `${m.name}{${Object.entries(m.dimensions)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')}}`,
      publisher: m.publisher,
    })),
  );
}

/** A function: its job, size, tracing and logging, and the table its environment names. */
const readFunction: ResourceReader = (found, s, id, p) => {
  const env = ((p.Environment as Json | undefined)?.Variables ?? {}) as Json;
  const table = env[HANDLER_ENV.tableName];
  if (typeof table === 'string') found.tableNames.set(table, (found.tableNames.get(table) ?? 0) + 1);
  const logging = (p.LoggingConfig ?? {}) as Json;
  const logGroup = refOf(logging.LogGroup);
  const quiet = (level: unknown) => level === 'WARN' || level === 'ERROR' || level === 'FATAL';
  found.functions.push({
    stack: s.name,
    logicalId: id,
    region: s.stack.region,
    witness: s.stack instanceof WitnessStack,
    name: s.jobs.get(id) ?? id,
    memoryMb: typeof p.MemorySize === 'number' ? p.MemorySize : 128,
    architecture: (p.Architectures as string[] | undefined)?.[0] === 'arm64' ? 'arm64' : 'x86_64',
    tracing: (p.TracingConfig as Json | undefined)?.Mode === 'Active',
    ...(logGroup ? { logGroup } : {}),
    platformLogs: !quiet(logging.SystemLogLevel),
    applicationInfoLogs: !quiet(logging.ApplicationLogLevel),
  });
};

/** An enabled schedule and what it targets: a function, a workflow, or a queue's messages. */
const readSchedule: ResourceReader = (found, s, id, p) => {
  // A disabled schedule (a first deploy, -c schedules=disabled) runs nothing.
  if (p.State === 'DISABLED') return;
  const target = (p.Target ?? {}) as Json;
  const targetId = refOf(target.Arn);
  const targetType = targetId === undefined ? undefined : s.resources[targetId]?.Type;
  const task = taskOf(target.Input);
  const sends = SQS_SENDS[String(target.Arn)];
  const queue = sends === undefined ? undefined : refOf(target.Input);
  found.schedules.push({
    stack: s.name,
    logicalId: id,
    expression: String(p.ScheduleExpression),
    ...(queue === undefined ? {} : { targetQueue: queue, messages: sends?.(target.Input) ?? 1 }),
    ...(targetType === 'AWS::Lambda::Function' ? { targetFunction: targetId } : {}),
    ...(targetType === 'AWS::StepFunctions::StateMachine' ? { targetStateMachine: targetId } : {}),
    ...(task ? { task } : {}),
  });
};

/** An HTTP API stage's access logs, on the API read before it. */
const readStage: ResourceReader = (found, s, _id, p) => {
  const settings = p.AccessLogSettings as Json | undefined;
  const destination = refOf(settings?.DestinationArn);
  const format = settings?.Format;
  const api = found.httpApis.find((x) => x.stack === s.name && x.logicalId === refOf(p.ApiId));
  if (api && destination) {
    found.httpApis[found.httpApis.indexOf(api)] = {
      ...api,
      accessLogs: true,
      accessLogGroup: destination,
      ...(typeof format === 'string' ? { accessLogFormat: format } : {}),
    };
  }
};

/** A global table: its replicas, indexes, backups and consistency. */
const readGlobalTable: ResourceReader = (found, s, id, p) => {
  const replicas = (p.Replicas ?? []) as Json[];
  found.tables.push({
    stack: s.name,
    tableName: String(p.TableName ?? id),
    replicaRegions: replicas.map((x) => String(x.Region)),
    globalSecondaryIndexes: ((p.GlobalSecondaryIndexes ?? []) as unknown[]).length,
    pointInTimeRecovery: replicas.some(
      (x) => (x.PointInTimeRecoverySpecification as Json | undefined)?.PointInTimeRecoveryEnabled === true,
    ),
    strong: p.MultiRegionConsistency === 'STRONG',
  });
};

/** A Route 53 health check: its type, interval, optional features and path. */
const readHealthCheck: ResourceReader = (found, s, _id, p) => {
  const c = (p.HealthCheckConfig ?? {}) as Json;
  const type = String(c.Type);
  found.healthChecks.push({
    stack: s.name,
    type,
    ...(type === 'CALCULATED' || type === 'CLOUDWATCH_METRIC'
      ? {}
      : { intervalSeconds: typeof c.RequestInterval === 'number' ? c.RequestInterval : 30 }),
    measureLatency: c.MeasureLatency === true,
    regions: (c.Regions ?? []) as string[],
    ...(typeof c.ResourcePath === 'string' ? { resourcePath: c.ResourcePath } : {}),
  });
};

/** A DNS record, its routing policy (which prices its queries), and the zone it names. */
const readRecordSet: ResourceReader = (found, s, _id, p) => {
  if (typeof p.HostedZoneId === 'string') found.zones.add(p.HostedZoneId);
  found.dnsRecords.push({
    stack: s.name,
    name: String(p.Name),
    alias: p.AliasTarget !== undefined,
    policy:
      p.Region !== undefined
        ? 'latency'
        : p.Failover !== undefined
          ? 'failover'
          : p.Weight !== undefined
            ? 'weighted'
            : p.GeoLocation !== undefined || p.GeoProximityLocation !== undefined
              ? 'geolocation'
              : 'simple',
  });
};

/** A metric alarm: how many metrics it watches, and whether any at high resolution. */
const readAlarm: ResourceReader = (found, s, _id, p) => {
  found.alarms.push({
    stack: s.name,
    metrics: Array.isArray(p.Metrics) ? (p.Metrics as Json[]).filter((m) => m.MetricStat).length || 1 : 1,
    highResolution:
      (typeof p.Period === 'number' && p.Period < 60) ||
      (Array.isArray(p.Metrics) &&
        (p.Metrics as Json[]).some((m) => Number((m.MetricStat as Json | undefined)?.Period) < 60)),
    composite: false,
  });
};

/** A backup plan's rules, each holding the plan's logical id until its selections are joined. */
const readBackupPlan: ResourceReader = (found, s, id, p) => {
  const plan = (p.BackupPlan ?? {}) as Json;
  for (const rule of (plan.BackupPlanRule ?? []) as Json[]) {
    const days = ((rule.Lifecycle ?? {}) as Json).DeleteAfterDays;
    found.backupRules.push({
      stack: s.name,
      expression: String(rule.ScheduleExpression),
      ...(typeof days === 'number' ? { deleteAfterDays: days } : {}),
      // Filled from the plan's selections in costInventory.
      tables: [id],
    });
  }
};

/** A backup selection: the names of the tables it selects, for its plan. */
const readBackupSelection: ResourceReader = (found, s, _id, p) => {
  const selection = (p.BackupSelection ?? {}) as Json;
  const tables = ((selection.Resources ?? []) as unknown[]).flatMap((r) => {
    const ref = refOf(r);
    const table = ref === undefined ? undefined : s.resources[ref];
    return table ? [String(table.Properties?.TableName ?? ref)] : [];
  });
  found.backupSelections.push({ stack: s.name, plan: refOf(p.BackupPlanId), tables });
};

/** The reader of each billed resource type; other types cost nothing the model prices. */
const RESOURCE_READERS: ReadonlyMap<string, ResourceReader> = new Map<string, ResourceReader>([
  ['AWS::Lambda::Function', readFunction],
  ['AWS::Scheduler::Schedule', readSchedule],
  [
    'AWS::ApiGatewayV2::Api',
    (found, s, id, p) => {
      if (p.ProtocolType === 'HTTP') found.httpApis.push({ stack: s.name, logicalId: id, accessLogs: false });
    },
  ],
  ['AWS::ApiGatewayV2::Stage', readStage],
  [
    'AWS::ApiGatewayV2::Route',
    (found, s, _id, p) => {
      const integration = refOf(p.Target);
      const targetFunction = integration === undefined ? undefined : s.integrations.get(integration);
      found.routes.push({
        stack: s.name,
        routeKey: String(p.RouteKey),
        ...(targetFunction ? { targetFunction } : {}),
      });
    },
  ],
  [
    'AWS::StepFunctions::StateMachine',
    (found, s, id, p) => found.stateMachines.push(stateMachine(s.name, id, p)),
  ],
  ['AWS::DynamoDB::GlobalTable', readGlobalTable],
  [
    'AWS::DynamoDB::Table',
    (found, s, id, p) =>
      found.tables.push({
        stack: s.name,
        tableName: String(p.TableName ?? id),
        replicaRegions: [s.stack.region],
        globalSecondaryIndexes: ((p.GlobalSecondaryIndexes ?? []) as unknown[]).length,
        pointInTimeRecovery:
          (p.PointInTimeRecoverySpecification as Json | undefined)?.PointInTimeRecoveryEnabled === true,
        strong: false,
      }),
  ],
  [
    'AWS::KMS::Key',
    (found, s, id, p) =>
      found.kmsKeys.push({ stack: s.name, logicalId: id, rotation: p.EnableKeyRotation === true }),
  ],
  ['AWS::Route53::HostedZone', (found, s, id) => found.zones.add(`${s.name}/${id}`)],
  ['AWS::Route53::HealthCheck', readHealthCheck],
  ['AWS::Route53::RecordSet', readRecordSet],
  [
    'AWS::Logs::LogGroup',
    (found, s, id, p) =>
      found.logGroups.push({
        stack: s.name,
        logicalId: id,
        ...(typeof p.RetentionInDays === 'number' ? { retentionDays: p.RetentionInDays } : {}),
      }),
  ],
  ['AWS::CloudWatch::Alarm', readAlarm],
  [
    'AWS::CloudWatch::CompositeAlarm',
    (found, s) => found.alarms.push({ stack: s.name, metrics: 0, highResolution: false, composite: true }),
  ],
  [
    'AWS::Logs::MetricFilter',
    (found, _s, _id, p) => {
      found.metricFilters += ((p.MetricTransformations ?? []) as unknown[]).length || 1;
    },
  ],
  [
    'AWS::Lambda::EventSourceMapping',
    (found, s, _id, p) => {
      const queue = refOf(p.EventSourceArn);
      const fn = refOf(p.FunctionName);
      if (queue && fn && s.resources[queue]?.Type === 'AWS::SQS::Queue')
        found.queueMappings.push({ stack: s.name, queue, targetFunction: fn });
    },
  ],
  ['AWS::Backup::BackupPlan', readBackupPlan],
  ['AWS::Backup::BackupSelection', readBackupSelection],
  [
    'AWS::CloudWatch::Dashboard',
    (found) => {
      found.dashboards += 1;
    },
  ],
  [
    'AWS::SNS::Topic',
    (found) => {
      found.snsTopics += 1;
    },
  ],
  [
    'AWS::XRay::SamplingRule',
    (found, _s, _id, p) => {
      const rule = (p.SamplingRule ?? {}) as Json;
      found.samplingRules.push({
        serviceName: String(rule.ServiceName ?? '*'),
        fixedRate: Number(rule.FixedRate ?? 0),
        reservoirPerSecond: Number(rule.ReservoirSize ?? 0),
        priority: Number(rule.Priority ?? 10_000),
      });
    },
  ],
]);

/** Logical id of each HandlerFunction's function in `stack`, by the job or concern it runs. */
function jobNames(stack: Stack): Map<string, string> {
  const names = new Map<string, string>();
  for (const construct of stack.node.findAll()) {
    if (!(construct instanceof HandlerFunction)) continue;
    const cfn = construct.function.node.defaultChild as CfnElement;
    const name =
      stack instanceof WitnessStack && construct.concern === 'health-probe'
        ? 'witness-probe'
        : construct.concern;
    names.set(stack.getLogicalId(cfn), name);
  }
  return names;
}

/** The logical id a `Ref`, `Fn::GetAtt` or `Fn::Join` of one of them points at. */
function refOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Json;
  if (typeof v.Ref === 'string') return v.Ref;
  if (Array.isArray(v['Fn::GetAtt'])) return String(v['Fn::GetAtt'][0]);
  const join = v['Fn::Join'];
  if (Array.isArray(join) && Array.isArray(join[1])) {
    for (const part of join[1] as unknown[]) {
      const found = refOf(part);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * EventBridge Scheduler's universal targets that send to SQS, and the messages one run sends: a
 * batch's entries (each names its `MessageBody`), or one.
 */
const SQS_SENDS: Readonly<Record<string, (input: unknown) => number>> = {
  [SEND_MESSAGE_BATCH_ARN]: (input) => (textOf(input).match(/"MessageBody"/g) ?? []).length,
  'arn:aws:scheduler:::aws-sdk:sqs:sendMessage': () => 1,
};

/** A template string, or the string parts of its `Fn::Join`. */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as Json | undefined)?.['Fn::Join'];
  if (!Array.isArray(join) || !Array.isArray(join[1])) return '';
  return (join[1] as unknown[]).filter((part) => typeof part === 'string').join('');
}

function taskOf(input: unknown): string | undefined {
  if (typeof input !== 'string') return undefined;
  try {
    const task = (JSON.parse(input) as Json).task;
    return typeof task === 'string' ? task : undefined;
  } catch {
    return undefined;
  }
}

function stateMachine(stack: string, id: string, p: Json): StateMachineItem {
  const definition = definitionText(p.DefinitionString);
  let states = 0;
  let taskStates = 0;
  const taskArns = new Set<string>();
  const walk = (machine: Json) => {
    for (const state of Object.values((machine.States ?? {}) as Record<string, Json>)) {
      states += 1;
      if (state.Type === 'Task') {
        taskStates += 1;
        const fn = (state.Parameters as Json | undefined)?.FunctionName ?? state.Resource;
        if (typeof fn === 'string') taskArns.add(fn);
      }
      for (const branch of (state.Branches ?? []) as Json[]) walk(branch);
      const iterator = (state.ItemProcessor ?? state.Iterator) as Json | undefined;
      if (iterator) walk(iterator);
    }
  };
  try {
    walk(JSON.parse(definition) as Json);
  } catch {
    // A definition with tokens outside strings cannot be read: priced as one state.
    states = 1;
  }
  // `${Name}` placeholders resolve through the definition substitutions to a function.
  const substitutions = (p.DefinitionSubstitutions ?? {}) as Json;
  const taskFunctions = new Set<string>();
  for (const arn of taskArns) {
    const placeholder = /^\$\{(\w+)\}/.exec(arn)?.[1];
    const token = new RegExp(`${TOKEN}([A-Za-z0-9]+)${TOKEN}`).exec(arn)?.[1];
    const fn = token ?? (placeholder === undefined ? undefined : refOf(substitutions[placeholder]));
    if (fn) taskFunctions.add(fn);
  }
  const logging = (p.LoggingConfiguration ?? {}) as Json;
  const destination = ((logging.Destinations ?? []) as Json[])[0]?.CloudWatchLogsLogGroup as Json | undefined;
  const logGroup = refOf(destination?.LogGroupArn);
  return {
    stack,
    logicalId: id,
    ...(typeof p.StateMachineName === 'string' ? { name: p.StateMachineName } : {}),
    type: p.StateMachineType === 'EXPRESS' ? 'EXPRESS' : 'STANDARD',
    states,
    taskStates,
    tracing: (p.TracingConfiguration as Json | undefined)?.Enabled === true,
    logLevel: typeof logging.Level === 'string' ? logging.Level : 'OFF',
    ...(logGroup ? { logGroup } : {}),
    taskFunctions: [...taskFunctions],
  };
}

const TOKEN = '__cortex_ref__';

/**
 * The definition as text: a plain string (definition substitutions), or a `Fn::Join` of strings and
 * references (L2 workflows), whose references become `__cortex_ref__<logicalId>__cortex_ref__`.
 */
function definitionText(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as Json | undefined)?.['Fn::Join'];
  if (!Array.isArray(join) || !Array.isArray(join[1])) return '{}';
  return (join[1] as unknown[])
    .map((part) => (typeof part === 'string' ? part : `${TOKEN}${refOf(part) ?? 'unknown'}${TOKEN}`))
    .join(String(join[0] ?? ''));
}

function quietly<T>(fn: () => T): T {
  const saved = { error: console.error, warn: console.warn, log: console.log };
  console.error = console.warn = console.log = () => {};
  try {
    return fn();
  } finally {
    Object.assign(console, saved);
  }
}
