/**
 * The Lambda composition root (STYLE 2): validated environment in, adapters built once per
 * container. No network calls here: the SDK client connects on first use.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DiscoveringProbe } from '../adapters/aws/discovering-probe.ts';
import type { TableRef } from '../adapters/aws/dynamo-items.ts';
import { DynamoAvailabilityAdapter } from '../adapters/aws/dynamodb-availability.ts';
import { DynamoComplianceAdapter } from '../adapters/aws/dynamodb-compliance.ts';
import { DynamoLatencyAdapter } from '../adapters/aws/dynamodb-latency.ts';
import { DynamoMcpAdapter } from '../adapters/aws/dynamodb-mcp.ts';
import { DynamoOpsAdapter } from '../adapters/aws/dynamodb-ops.ts';
import { DynamoPrivacyAdapter } from '../adapters/aws/dynamodb-privacy.ts';
import { DynamoDocumentStore, DynamoReplicationStore } from '../adapters/aws/dynamodb-replication.ts';
import { DynamoResourcesAdapter } from '../adapters/aws/dynamodb-resources.ts';
import { DynamoSelectiveStore } from '../adapters/aws/dynamodb-selective.ts';
import { DynamoStateAdapter } from '../adapters/aws/dynamodb-state.ts';
import { EventBridgeEvents } from '../adapters/aws/eventbridge.ts';
import { HttpProbe } from '../adapters/aws/http-probe.ts';
import { reportReplicatedWriteConflicts } from '../adapters/aws/mrsc.ts';
import { S3AuditArchive } from '../adapters/aws/s3-audit-archive.ts';
import { StepFunctionsWorkflow } from '../adapters/aws/step-functions.ts';
import type { ComplianceDeps } from '../app/compliance/deps.ts';
import type { ControlDeps, RegionalDeps } from '../app/deps.ts';
import type { LatencySamplerDeps } from '../app/latency/sampler.ts';
import type { OpsDeps } from '../app/ops/deps.ts';
import type { PrivacyDeps } from '../app/privacy/deps.ts';
import type { WitnessDeps } from '../app/probe-round.ts';
import { countedStateWrites, countingState } from '../app/replication/counting-state.ts';
import type { ReplicationDeps } from '../app/replication/deps.ts';
import { AWS_DEPLOYMENT_FACTS, parseDeploymentFacts } from '../core/compliance/facts.ts';
import type { DeploymentFacts } from '../core/compliance/types.ts';
import {
  placeReplication,
  resourcePoolTable,
  STATE_RECORD_TYPES,
  type StateRecordType,
  stateRecordTables,
  strategyTables,
} from '../core/replication/placement.ts';
import { openCompiledTopology } from '../core/topology/compiled.ts';
import type { Topology } from '../core/topology/types.ts';
import type { Clock, EventsPort, ProbePort, StatePort } from '../ports.ts';
import { createLambdaLogger, errorLog, logContext, recordLog } from './log.ts';
import { emfPublisher } from './metrics.ts';

/** The topology validated at synth, inlined by esbuild `define` at bundle time (lib/infra). */
declare const CORTEX_TOPOLOGY: unknown;

export interface LambdaEnvironment {
  readonly regionId: string;
  readonly tableName: string;
}

/** Reads and checks the function's environment; a missing or malformed variable names itself. */
export function readEnvironment(env: Record<string, string | undefined>): LambdaEnvironment {
  const problems: string[] = [];
  const regionId = env.CORTEX_REGION_ID ?? '';
  const tableName = env.CORTEX_TABLE_NAME ?? '';
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(regionId))
    problems.push(`CORTEX_REGION_ID "${regionId}" is not a region id`);
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(tableName))
    problems.push(`CORTEX_TABLE_NAME "${tableName}" is not a table name`);
  if (problems.length > 0) throw new Error(`invalid Lambda environment: ${problems.join('; ')}`);
  return Object.freeze({ regionId, tableName });
}

/** The failover/probe environment beyond the basics; each missing or malformed variable is named. */
export interface ControlEnvironment {
  readonly eventBus: string;
  readonly stateMachineArn: string;
  readonly endpoints: Readonly<Record<string, string>>;
  readonly endpointParameter: string | undefined;
}

export function readControlEnvironment(env: Record<string, string | undefined>): ControlEnvironment {
  const problems: string[] = [];
  const eventBus = readEventBus(env, problems);
  const stateMachineArn = env.CORTEX_FAILOVER_STATE_MACHINE_ARN ?? '';
  if (!/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]+$/.test(stateMachineArn)) {
    problems.push(`CORTEX_FAILOVER_STATE_MACHINE_ARN "${stateMachineArn}" is not a state machine ARN`);
  }
  const endpoints = readEndpoints(env, problems);
  if (problems.length > 0) throw new Error(`invalid Lambda environment: ${problems.join('; ')}`);
  return Object.freeze({
    eventBus,
    stateMachineArn,
    endpoints,
    endpointParameter: env.CORTEX_ENDPOINT_PARAMETER,
  });
}

/** `CORTEX_EVENT_BUS`; a malformed one is added to `problems`, naming it. */
function readEventBus(env: Record<string, string | undefined>, problems: string[]): string {
  const eventBus = env.CORTEX_EVENT_BUS ?? '';
  if (!/^[A-Za-z0-9._\-/:]{1,256}$/.test(eventBus)) {
    problems.push(`CORTEX_EVENT_BUS "${eventBus}" is not a bus name`);
  }
  return eventBus;
}

/** This region's bus (`CORTEX_EVENT_BUS`); a malformed name fails the cold start, naming it. */
function busEvents(): EventsPort {
  const problems: string[] = [];
  const eventBusName = readEventBus(process.env, problems);
  if (problems.length > 0) throw new Error(`invalid Lambda environment: ${problems.join('; ')}`);
  return new EventBridgeEvents({ client: new EventBridgeClient({}), eventBusName });
}

function readEndpoints(env: Record<string, string | undefined>, problems: string[]): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(env.CORTEX_REGION_ENDPOINTS ?? '{}');
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not an object');
    for (const [region, url] of Object.entries(parsed)) {
      if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new Error(`${region} is not a URL`);
    }
    return parsed as Record<string, string>;
  } catch (error) {
    problems.push(`CORTEX_REGION_ENDPOINTS is not a JSON object of URLs (${(error as Error).message})`);
    return {};
  }
}

function bundledTopology(): Topology {
  if (typeof CORTEX_TOPOLOGY === 'undefined') throw new Error('topology was not bundled (CORTEX_TOPOLOGY)');
  return openCompiledTopology(CORTEX_TOPOLOGY);
}

const clock: Clock = { now: () => Date.now() };

/** One client per region and container: created on first use, never at module scope. */
function perRegion<T>(make: (region: string) => T): (region: string) => T {
  const clients = new Map<string, T>();
  return (region) => {
    let client = clients.get(region);
    if (!client) {
      client = make(region);
      clients.set(region, client);
    }
    return client;
  };
}

// Another region's replica must not stall a round when that region is unreachable.
const REMOTE_REQUEST = { requestTimeout: 3_000, connectionTimeout: 1_000 };

/**
 * The table of each state record type: the MRSC table `<name>-critical` for the synchronous data
 * types' records when the placement has one (lib/core/replication/placement.ts), else the state table.
 */
function recordTablesFor(topology: Topology): Readonly<Record<StateRecordType, string>> {
  return stateRecordTables(topology);
}

/** The record types kept outside the state table, each as a reference on `client`. */
function elsewhere(
  records: Readonly<Record<StateRecordType, string>>,
  tableName: string,
  client: DynamoDBDocumentClient,
): Partial<Record<StateRecordType, TableRef>> {
  return Object.fromEntries(
    STATE_RECORD_TYPES.filter((type) => records[type] !== tableName).map((type) => [
      type,
      { client, tableName: records[type] },
    ]),
  );
}

/** A document client for `region`'s replicas; another region's times out quickly. */
function documentClientFor(
  region: string,
  home: string | undefined,
  options: object = {},
): DynamoDBDocumentClient {
  const client = new DynamoDBClient(
    region === home ? {} : { region, requestHandler: REMOTE_REQUEST, ...options },
  );
  reportReplicatedWriteConflicts(client, region);
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

function replicas(
  tableName: string,
  records: Readonly<Record<StateRecordType, string>>,
  home: string | undefined,
  /** The home region's client, when the caller has one already. */
  homeDocument?: DynamoDBDocumentClient,
): (region: string) => StatePort {
  return perRegion((region) => {
    const document = region === home && homeDocument ? homeDocument : documentClientFor(region, home);
    const state = new DynamoStateAdapter({
      client: document,
      tableName,
      records: elsewhere(records, tableName, document),
      // Region statuses in the state table: the slot of the replica this adapter writes, whichever
      // region's function writes it, so each slot is written in one replica only. In the MRSC table
      // (one copy, conditions checked everywhere) one slot every region shares.
      ...(records.region_status === tableName ? { writer: region } : {}),
    });
    // Each write is counted on the mark of the region whose replica it lands in (an UpdateItem
    // ADD), except writes to the MRSC table: replicated before they return, they are never backlog.
    const marks = new DynamoReplicationStore({ client: document, tableName, regionId: region, clock });
    return countingState(state, marks, clock, { methods: countedStateWrites(records, tableName) });
  });
}

function probeFor(topology: Topology, control: ControlEnvironment): ProbePort {
  const ssmFor = perRegion((region) => new SSMClient({ region, requestHandler: REMOTE_REQUEST }));
  const template = control.endpointParameter;
  return new DiscoveringProbe({
    known: control.endpoints,
    regions: topology.regions.map((r) => r.region_id),
    lookup: async (region) => {
      if (!template) return undefined;
      const name = template.replace('{region}', region);
      const { Parameter } = await ssmFor(region).send(new GetParameterCommand({ Name: name }));
      return Parameter?.Value;
    },
    probeFor: (baseUrls) => new HttpProbe({ baseUrls, clock }),
  });
}

let logger: ReturnType<typeof createLambdaLogger> | undefined;

/** The container's structured logger (lib/runtime/log.ts), created on first use. */
function containerLogger(): ReturnType<typeof createLambdaLogger> {
  logger ??= createLambdaLogger();
  return logger;
}

/**
 * A handler's logging and metrics on Lambda: `logContext`, the middleware that puts the request id and
 * the event's correlation keys on every line; `log`, a job's one record per invocation as a
 * structured line; `metrics`, the spec's key metrics as EMF (lib/runtime/metrics.ts).
 */
export function lambdaObservability() {
  return {
    logContext: logContext(containerLogger),
    log: recordLog(containerLogger),
    metrics: emfPublisher({
      warn: (message, error) => containerLogger().warn(message, { error: String(error) }),
    }),
  };
}

/** The middleware of `lambdaObservability` alone, for the HTTP handlers (they publish no metrics). */
export function lambdaLogContext() {
  return logContext(containerLogger);
}

let cached: RegionalDeps | undefined;
/** Every region's state port as this region's functions reach it (lambdaDeps builds it). */
let ownReplicas: ((region: string) => StatePort) | undefined;
/** The client of this region's tables, shared by the container's adapters (lambdaDeps builds it). */
let ownDocument: DynamoDBDocumentClient | undefined;

export function lambdaDeps(): RegionalDeps {
  if (cached) return cached;
  const env = readEnvironment(process.env);
  const topology = bundledTopology();
  if (!topology.regions.some((r) => r.region_id === env.regionId)) {
    throw new Error(`CORTEX_REGION_ID ${env.regionId} is not a region of the topology`);
  }
  const records = recordTablesFor(topology);
  // One client for this region's tables, shared by every adapter of the container.
  const document = documentClientFor(env.regionId, env.regionId);
  ownDocument = document;
  const handoffs = { client: document, tableName: records.handoff };
  ownReplicas = replicas(env.tableName, records, env.regionId, document);
  cached = {
    regionId: env.regionId,
    topology,
    // An error the HTTP boundary cannot explain, with its stack and the invocation's correlation keys.
    log: errorLog(containerLogger),
    state: ownReplicas(env.regionId),
    // The router claims a task's handoff in its owner region's replica.
    replica: ownReplicas,
    clock,
    deployment: deploymentFacts(process.env),
    compliance: new DynamoComplianceAdapter({ client: document, tableName: env.tableName }),
    // The measured latency matrix the router prefers and `GET /v1/latency` answers.
    latency: new DynamoLatencyAdapter({ client: document, tableName: env.tableName }),
    // The probe round's per-minute samples and the availability `GET /v1/regions` answers.
    availability: new DynamoAvailabilityAdapter({ client: document, tableName: env.tableName }),
    mcp: new DynamoMcpAdapter({ client: document, tableName: env.tableName }),
    // The resource pool the router reserves on and the resources API answers from.
    resources: new DynamoResourcesAdapter({
      client: document,
      tableName: env.tableName,
      handoffs,
      // Held counters and the claim journal: this region's own items, written in its replica only.
      writer: env.regionId,
      // The pools follow `worker_assignments`: in the MRSC table when it is synchronous there.
      pools: { client: document, tableName: resourcePoolTable(topology) },
      strongPools: resourcePoolTable(topology) === strategyTables(topology).criticalName,
      clock,
    }),
  };
  return cached;
}

/**
 * What the deployment configures, for the compliance rules: `CORTEX_DEPLOYMENT_FACTS` (JSON, set by
 * the CDK) or, without it, the controls lib/infra always builds (AWS_DEPLOYMENT_FACTS).
 */
export function deploymentFacts(env: Record<string, string | undefined>): DeploymentFacts {
  const raw = env.CORTEX_DEPLOYMENT_FACTS;
  if (raw === undefined || raw === '') return AWS_DEPLOYMENT_FACTS;
  try {
    return parseDeploymentFacts(JSON.parse(raw));
  } catch (error) {
    throw new Error(`invalid Lambda environment: CORTEX_DEPLOYMENT_FACTS: ${(error as Error).message}`);
  }
}

let control: ControlDeps | undefined;

/** Deps for the probe, the failover steps and the failover API of this region. */
export function controlDeps(): ControlDeps {
  if (control) return control;
  const base = lambdaDeps();
  const env = readControlEnvironment(process.env);
  const replica = ownReplicas as (region: string) => StatePort;
  const ownRegion = base.regionId;
  const sfnFor = perRegion((region) => new SFNClient(region === ownRegion ? {} : { region }));
  control = {
    ...base,
    replica,
    probe: probeFor(base.topology, env),
    events: new EventBridgeEvents({ client: new EventBridgeClient({}), eventBusName: env.eventBus }),
    workflow: new StepFunctionsWorkflow({
      homeRegion: ownRegion,
      regions: base.topology.regions.map((r) => r.region_id),
      clientFor: sfnFor,
      // Deterministic names: the same state machine name in every region.
      stateMachineArnFor: (region) =>
        env.stateMachineArn.replace(`:states:${ownRegion}:`, `:states:${region}:`),
    }),
  };
  return control;
}

let witness: WitnessDeps | undefined;

/** Deps for a witness probe: no region of its own, writes its views into every region's replica. */
export function witnessDeps(): WitnessDeps {
  if (witness) return witness;
  const witnessId = process.env.CORTEX_WITNESS_ID ?? '';
  const tableName = process.env.CORTEX_TABLE_NAME ?? '';
  const topology = bundledTopology();
  if (!topology.witnesses.some((w) => w.witness_id === witnessId)) {
    throw new Error(
      `invalid Lambda environment: CORTEX_WITNESS_ID "${witnessId}" is not a witness of the topology`,
    );
  }
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(tableName)) {
    throw new Error(`invalid Lambda environment: CORTEX_TABLE_NAME "${tableName}" is not a table name`);
  }
  const problems: string[] = [];
  const endpoints = readEndpoints(process.env, problems);
  if (problems.length > 0) throw new Error(`invalid Lambda environment: ${problems.join('; ')}`);
  witness = {
    witnessId,
    topology,
    clock,
    probe: probeFor(topology, {
      eventBus: '',
      stateMachineArn: '',
      endpoints,
      endpointParameter: process.env.CORTEX_ENDPOINT_PARAMETER,
    }),
    replica: replicas(tableName, recordTablesFor(topology), undefined),
  };
  return witness;
}

let privacy: PrivacyDeps | undefined;

/**
 * Deps for the privacy API and the privacy sweeper: this region's basics, its bus, and
 * each region's privacy records (an erasure reaches every replica; remote ones time out quickly).
 */
export function privacyDeps(): PrivacyDeps {
  if (privacy) return privacy;
  const base = lambdaDeps();
  const { tableName } = readEnvironment(process.env);
  const home = base.regionId;
  const records = recordTablesFor(base.topology);
  privacy = {
    ...base,
    events: busEvents(),
    privacy: perRegion((region) => {
      // Two attempts: an API invocation has 10 s for every region's search.
      const client = documentClientFor(region, home, { maxAttempts: 2 });
      return new DynamoPrivacyAdapter({
        client,
        tableName,
        handoffs: { client, tableName: records.handoff },
      });
    }),
  };
  return privacy;
}

let compliance: ComplianceDeps | undefined;

/**
 * Deps for the compliance API and the daily audit: this region's basics, its bus, and the
 * audit bucket when `CORTEX_AUDIT_BUCKET` names one (reports are then copied there too).
 */
export function complianceDeps(): ComplianceDeps {
  if (compliance) return compliance;
  const base = lambdaDeps();
  const bucket = process.env.CORTEX_AUDIT_BUCKET;
  if (bucket !== undefined && bucket !== '' && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new Error(`invalid Lambda environment: CORTEX_AUDIT_BUCKET "${bucket}" is not a bucket name`);
  }
  compliance = {
    ...base,
    // The audit reads this region's selectively replicated records too.
    selective: selectiveStoreFor(base),
    events: busEvents(),
    ...(bucket ? { archive: new S3AuditArchive({ bucket, region: base.regionId }) } : {}),
  };
  return compliance;
}

let replicationCached: ReplicationDeps | undefined;

/**
 * Deps for the replication API and the lag monitor: this region's basics, its bus, each
 * region's replication bookkeeping (remote replicas time out quickly) and this region's documents.
 */
export function replicationDeps(): ReplicationDeps {
  if (replicationCached) return replicationCached;
  const base = lambdaDeps();
  const { tableName } = readEnvironment(process.env);
  const home = base.regionId;
  const document = ownDocument as DynamoDBDocumentClient;
  const replication = perRegion(
    (region) =>
      new DynamoReplicationStore({
        client: region === home ? document : documentClientFor(region, home),
        tableName,
        regionId: region,
        clock,
      }),
  );
  const own = replication(home);
  replicationCached = {
    ...base,
    events: busEvents(),
    replication,
    documents: new DynamoDocumentStore({
      client: document,
      tableName,
      counter: own,
      clock,
    }),
  };
  return replicationCached;
}

let sampler: LatencySamplerDeps | undefined;

/**
 * Deps for the latency sampler: this region's matrix, the probe and the event bus; unlike
 * `controlDeps` it needs no failover state machine.
 */
export function latencySamplerDeps(): LatencySamplerDeps {
  if (sampler) return sampler;
  const base = lambdaDeps();
  const problems: string[] = [];
  const eventBus = readEventBus(process.env, problems);
  const endpoints = readEndpoints(process.env, problems);
  if (problems.length > 0) throw new Error(`invalid Lambda environment: ${problems.join('; ')}`);
  if (!base.latency) throw new Error('no latency store (lambdaDeps().latency)');
  sampler = {
    ...base,
    latency: base.latency,
    probe: probeFor(base.topology, {
      eventBus,
      stateMachineArn: '',
      endpoints,
      endpointParameter: process.env.CORTEX_ENDPOINT_PARAMETER,
    }),
    events: busEvents(),
  };
  return sampler;
}

let resourcesCached: (RegionalDeps & { readonly events: EventsPort }) | undefined;

/**
 * Deps for the resources API and the rebalancer: this region's basics (with its
 * resource pool) and its bus for `resources.rebalanced`.
 */
export function resourcesDeps(): RegionalDeps & { readonly events: EventsPort } {
  if (resourcesCached) return resourcesCached;
  const base = lambdaDeps();
  resourcesCached = {
    ...base,
    events: busEvents(),
  };
  return resourcesCached;
}

let dataCached: RegionalDeps | undefined;

/**
 * Deps for the data API (selectively replicated data): this region's basics and its
 * replicas of the selective tables (the placement computed from the bundled topology).
 */
export function dataDeps(): RegionalDeps {
  if (dataCached) return dataCached;
  const base = lambdaDeps();
  dataCached = { ...base, selective: selectiveStoreFor(base) };
  return dataCached;
}

/** This region's replicas of the selective tables (the placement computed from the bundled topology). */
function selectiveStoreFor(base: RegionalDeps): DynamoSelectiveStore {
  return new DynamoSelectiveStore({
    client: ownDocument as DynamoDBDocumentClient,
    regionId: base.regionId,
    placement: placeReplication(base.topology),
    clock,
  });
}

let opsCached: OpsDeps | undefined;

/**
 * Deps for the operations API and the daily report: the replication deps (the report reads every
 * replica's lag), the bus for notifications, and the incident and report store in this replica.
 */
export function opsDeps(): OpsDeps {
  if (opsCached) return opsCached;
  const base = replicationDeps();
  const { tableName } = readEnvironment(process.env);
  opsCached = {
    ...base,
    ops: new DynamoOpsAdapter({ client: ownDocument as DynamoDBDocumentClient, tableName }),
  };
  return opsCached;
}
