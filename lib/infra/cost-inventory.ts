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
    return costInventory(
      stacks,
      (stack) => assembly.getStackArtifact(stack.artifactId).template as Template,
      topology,
    );
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
 * embedded-format metrics each region's functions publish come from the code's catalog for `topology`.
 */
export function costInventory(
  stacks: CortexStacks,
  templateOf: (stack: Stack) => Template,
  topology: Topology,
): CostInventory {
  const all: Stack[] = [
    ...stacks.regionalStacks,
    ...stacks.witnessStacks,
    stacks.stateStack,
    ...stacks.replicationStacks,
    ...(stacks.dnsStack ? [stacks.dnsStack] : []),
  ];
  const inventory = {
    functions: [] as LambdaFunctionItem[],
    schedules: [] as ScheduleItem[],
    httpApis: [] as HttpApiItem[],
    routes: [] as RouteItem[],
    stateMachines: [] as StateMachineItem[],
    tables: [] as TableItem[],
    kmsKeys: [] as KmsKeyItem[],
    healthChecks: [] as HealthCheckItem[],
    dnsRecords: [] as DnsRecordItem[],
    logGroups: [] as LogGroupItem[],
    alarms: [] as AlarmItem[],
    queueMappings: [] as QueueMappingItem[],
    backupRules: [] as BackupRuleItem[],
  };
  const backupSelections: { stack: string; plan: string | undefined; tables: string[] }[] = [];
  const customMetrics: CustomMetricItem[] = stacks.regionalStacks.flatMap((stack) =>
    metricSeries(topology, stack.regionId).map((m) => ({
      stack: stack.stackName,
      series: `${m.name}{${Object.entries(m.dimensions)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')}}`,
      publisher: m.publisher,
    })),
  );
  let dashboards = 0;
  const zones = new Set<string>();
  const tableNames = new Map<string, number>();
  let metricFilters = 0;
  let snsTopics = 0;
  const samplingRules: SamplingRuleItem[] = [];

  for (const stack of all) {
    const name = stack.stackName;
    const resources = templateOf(stack).Resources ?? {};
    const jobs = jobNames(stack);
    const integrations = new Map<string, string | undefined>();
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type === 'AWS::ApiGatewayV2::Integration')
        integrations.set(id, refOf(r.Properties?.IntegrationUri));
    }
    for (const [id, r] of Object.entries(resources)) {
      const p = r.Properties ?? {};
      switch (r.Type) {
        case 'AWS::Lambda::Function': {
          const env = ((p.Environment as Json | undefined)?.Variables ?? {}) as Json;
          const table = env[HANDLER_ENV.tableName];
          if (typeof table === 'string') tableNames.set(table, (tableNames.get(table) ?? 0) + 1);
          const logging = (p.LoggingConfig ?? {}) as Json;
          const logGroup = refOf(logging.LogGroup);
          const quiet = (level: unknown) => level === 'WARN' || level === 'ERROR' || level === 'FATAL';
          inventory.functions.push({
            stack: name,
            logicalId: id,
            region: stack.region,
            witness: stack instanceof WitnessStack,
            name: jobs.get(id) ?? id,
            memoryMb: typeof p.MemorySize === 'number' ? p.MemorySize : 128,
            architecture: (p.Architectures as string[] | undefined)?.[0] === 'arm64' ? 'arm64' : 'x86_64',
            tracing: (p.TracingConfig as Json | undefined)?.Mode === 'Active',
            ...(logGroup ? { logGroup } : {}),
            platformLogs: !quiet(logging.SystemLogLevel),
            applicationInfoLogs: !quiet(logging.ApplicationLogLevel),
          });
          break;
        }
        case 'AWS::Scheduler::Schedule': {
          // A disabled schedule (a first deploy, -c schedules=disabled) runs nothing.
          if (p.State === 'DISABLED') break;
          const target = (p.Target ?? {}) as Json;
          const targetId = refOf(target.Arn);
          const targetType = targetId === undefined ? undefined : resources[targetId]?.Type;
          const task = taskOf(target.Input);
          const sends = SQS_SENDS[String(target.Arn)];
          const queue = sends === undefined ? undefined : refOf(target.Input);
          inventory.schedules.push({
            stack: name,
            logicalId: id,
            expression: String(p.ScheduleExpression),
            ...(queue === undefined ? {} : { targetQueue: queue, messages: sends?.(target.Input) ?? 1 }),
            ...(targetType === 'AWS::Lambda::Function' ? { targetFunction: targetId } : {}),
            ...(targetType === 'AWS::StepFunctions::StateMachine' ? { targetStateMachine: targetId } : {}),
            ...(task ? { task } : {}),
          });
          break;
        }
        case 'AWS::ApiGatewayV2::Api':
          if (p.ProtocolType === 'HTTP')
            inventory.httpApis.push({ stack: name, logicalId: id, accessLogs: false });
          break;
        case 'AWS::ApiGatewayV2::Stage': {
          const settings = p.AccessLogSettings as Json | undefined;
          const destination = refOf(settings?.DestinationArn);
          const format = settings?.Format;
          const api = inventory.httpApis.find((x) => x.stack === name && x.logicalId === refOf(p.ApiId));
          if (api && destination) {
            inventory.httpApis[inventory.httpApis.indexOf(api)] = {
              ...api,
              accessLogs: true,
              accessLogGroup: destination,
              ...(typeof format === 'string' ? { accessLogFormat: format } : {}),
            };
          }
          break;
        }
        case 'AWS::ApiGatewayV2::Route': {
          const integration = refOf(p.Target);
          const targetFunction = integration === undefined ? undefined : integrations.get(integration);
          inventory.routes.push({
            stack: name,
            routeKey: String(p.RouteKey),
            ...(targetFunction ? { targetFunction } : {}),
          });
          break;
        }
        case 'AWS::StepFunctions::StateMachine':
          inventory.stateMachines.push(stateMachine(name, id, p));
          break;
        case 'AWS::DynamoDB::GlobalTable': {
          const replicas = (p.Replicas ?? []) as Json[];
          inventory.tables.push({
            stack: name,
            tableName: String(p.TableName ?? id),
            replicaRegions: replicas.map((x) => String(x.Region)),
            globalSecondaryIndexes: ((p.GlobalSecondaryIndexes ?? []) as unknown[]).length,
            pointInTimeRecovery: replicas.some(
              (x) =>
                (x.PointInTimeRecoverySpecification as Json | undefined)?.PointInTimeRecoveryEnabled === true,
            ),
            strong: p.MultiRegionConsistency === 'STRONG',
          });
          break;
        }
        case 'AWS::DynamoDB::Table':
          inventory.tables.push({
            stack: name,
            tableName: String(p.TableName ?? id),
            replicaRegions: [stack.region],
            globalSecondaryIndexes: ((p.GlobalSecondaryIndexes ?? []) as unknown[]).length,
            pointInTimeRecovery:
              (p.PointInTimeRecoverySpecification as Json | undefined)?.PointInTimeRecoveryEnabled === true,
            strong: false,
          });
          break;
        case 'AWS::KMS::Key':
          inventory.kmsKeys.push({ stack: name, logicalId: id, rotation: p.EnableKeyRotation === true });
          break;
        case 'AWS::Route53::HostedZone':
          zones.add(`${name}/${id}`);
          break;
        case 'AWS::Route53::HealthCheck': {
          const c = (p.HealthCheckConfig ?? {}) as Json;
          const type = String(c.Type);
          inventory.healthChecks.push({
            stack: name,
            type,
            ...(type === 'CALCULATED' || type === 'CLOUDWATCH_METRIC'
              ? {}
              : { intervalSeconds: typeof c.RequestInterval === 'number' ? c.RequestInterval : 30 }),
            measureLatency: c.MeasureLatency === true,
            regions: (c.Regions ?? []) as string[],
            ...(typeof c.ResourcePath === 'string' ? { resourcePath: c.ResourcePath } : {}),
          });
          break;
        }
        case 'AWS::Route53::RecordSet': {
          if (typeof p.HostedZoneId === 'string') zones.add(p.HostedZoneId);
          inventory.dnsRecords.push({
            stack: name,
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
          break;
        }
        case 'AWS::Logs::LogGroup':
          inventory.logGroups.push({
            stack: name,
            logicalId: id,
            ...(typeof p.RetentionInDays === 'number' ? { retentionDays: p.RetentionInDays } : {}),
          });
          break;
        case 'AWS::CloudWatch::Alarm':
          inventory.alarms.push({
            stack: name,
            metrics: Array.isArray(p.Metrics)
              ? (p.Metrics as Json[]).filter((m) => m.MetricStat).length || 1
              : 1,
            highResolution:
              (typeof p.Period === 'number' && p.Period < 60) ||
              (Array.isArray(p.Metrics) &&
                (p.Metrics as Json[]).some((m) => Number((m.MetricStat as Json | undefined)?.Period) < 60)),
            composite: false,
          });
          break;
        case 'AWS::CloudWatch::CompositeAlarm':
          inventory.alarms.push({ stack: name, metrics: 0, highResolution: false, composite: true });
          break;
        case 'AWS::Logs::MetricFilter':
          metricFilters += ((p.MetricTransformations ?? []) as unknown[]).length || 1;
          break;
        case 'AWS::Lambda::EventSourceMapping': {
          const queue = refOf(p.EventSourceArn);
          const fn = refOf(p.FunctionName);
          if (queue && fn && resources[queue]?.Type === 'AWS::SQS::Queue')
            inventory.queueMappings.push({ stack: name, queue, targetFunction: fn });
          break;
        }
        case 'AWS::Backup::BackupPlan': {
          const plan = (p.BackupPlan ?? {}) as Json;
          for (const rule of (plan.BackupPlanRule ?? []) as Json[]) {
            const days = ((rule.Lifecycle ?? {}) as Json).DeleteAfterDays;
            inventory.backupRules.push({
              stack: name,
              expression: String(rule.ScheduleExpression),
              ...(typeof days === 'number' ? { deleteAfterDays: days } : {}),
              // Filled from the plan's selections below.
              tables: [id],
            });
          }
          break;
        }
        case 'AWS::Backup::BackupSelection': {
          const selection = (p.BackupSelection ?? {}) as Json;
          const tables = ((selection.Resources ?? []) as unknown[]).flatMap((r) => {
            const ref = refOf(r);
            const table = ref === undefined ? undefined : resources[ref];
            return table ? [String(table.Properties?.TableName ?? ref)] : [];
          });
          backupSelections.push({ stack: name, plan: refOf(p.BackupPlanId), tables });
          break;
        }
        case 'AWS::CloudWatch::Dashboard':
          dashboards += 1;
          break;
        case 'AWS::SNS::Topic':
          snsTopics += 1;
          break;
        case 'AWS::XRay::SamplingRule': {
          const rule = (p.SamplingRule ?? {}) as Json;
          samplingRules.push({
            serviceName: String(rule.ServiceName ?? '*'),
            fixedRate: Number(rule.FixedRate ?? 0),
            reservoirPerSecond: Number(rule.ReservoirSize ?? 0),
            priority: Number(rule.Priority ?? 10_000),
          });
          break;
        }
      }
    }
  }
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
