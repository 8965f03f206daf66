/**
 * The Lambda composition root (STYLE 2): validated environment in, adapters built once per
 * container. No network calls here: the SDK client connects on first use.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
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
import { HttpMcpProbe, mcpEndpointAllowList, meshAllowList } from '../adapters/aws/mcp-probe.ts';
import { reportReplicatedWriteConflicts } from '../adapters/aws/mrsc.ts';
import { S3AuditArchive } from '../adapters/aws/s3-audit-archive.ts';
import { StepFunctionsWorkflow } from '../adapters/aws/step-functions.ts';
import {
  FUNCTION_PORTS,
  type FunctionDeps,
  type PortName,
  type Ports,
  type WiredFunction,
} from '../app/deps.ts';
import type { WitnessDeps } from '../app/probe-round.ts';
import { countedStateWrites, countingState } from '../app/replication/counting-state.ts';
import { AWS_DEPLOYMENT_FACTS } from '../core/compliance/facts.ts';
import { planMesh } from '../core/network/mesh.ts';
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
import type { Clock, ProbePort, StatePort } from '../ports.ts';
import {
  type Environment,
  LAMBDA_ENV,
  type LambdaFunction,
  type NeedsOf,
  parseFunctionEnvironment,
  WITNESS_PROBE,
} from './env.ts';
import { createLambdaLogger, errorLog, logContext, recordLog } from './log.ts';
import { emfPublisher } from './metrics.ts';

/** The topology validated at synth, inlined by esbuild `define` at bundle time (lib/infra). */
declare const CORTEX_TOPOLOGY: unknown;

/** Function `name`'s environment; its callers build deps once per container, so it is parsed once. */
function environmentOf<F extends LambdaFunction>(name: F): Environment<NeedsOf<F>> {
  return parseFunctionEnvironment(name, process.env);
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

let ssm: Promise<typeof import('@aws-sdk/client-ssm')> | undefined;

/**
 * The SSM client's module, loaded on the first lookup, not at import: a deployment that knows every
 * region's URL at synth never looks one up, and a cold start pays for the module only when it does.
 */
function ssmModule(): Promise<typeof import('@aws-sdk/client-ssm')> {
  ssm ??= import('@aws-sdk/client-ssm');
  return ssm;
}

/** Every region's API, probed: the URLs known at synth, the others looked up in each region's SSM. */
function probeFor(topology: Topology, env: Environment<'endpoints'>): ProbePort {
  const ssmFor = perRegion(async (region) => {
    const { SSMClient } = await ssmModule();
    return new SSMClient({ region, requestHandler: REMOTE_REQUEST });
  });
  const template = env.CORTEX_ENDPOINT_PARAMETER;
  return new DiscoveringProbe({
    known: env.CORTEX_REGION_ENDPOINTS,
    regions: topology.regions.map((r) => r.region_id),
    lookup: async (region) => {
      if (!template) return undefined;
      const name = template.replace('{region}', region);
      const [{ GetParameterCommand }, client] = await Promise.all([ssmModule(), ssmFor(region)]);
      const { Parameter } = await client.send(new GetParameterCommand({ Name: name }));
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

/** What a region's port builders share: its environment, topology, tables and clients. */
export interface Region {
  readonly env: Environment<'region'> & Partial<Environment<'events' | 'workflow' | 'endpoints' | 'archive'>>;
  readonly regionId: string;
  readonly tableName: string;
  readonly topology: Topology;
  readonly records: Readonly<Record<StateRecordType, string>>;
  /** The client of this region's tables, shared by the container's adapters. */
  readonly document: DynamoDBDocumentClient;
  /** Every region's state port as this region's functions reach it. */
  readonly replicas: (region: string) => StatePort;
}

/** A variable the function's needs guarantee (env.ts derives them from the same ports). */
function given<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`invalid Lambda environment: ${name} is not set`);
  return value;
}

/** How the Lambda root builds port `P` from its region (undefined: a deployment option left out). */
type PortBuilder<P extends PortName> = (region: Region) => Ports[P] | undefined;

/**
 * The builders of function `F`'s ports, one for each port FUNCTION_PORTS lists for it: each entry
 * point names the builders it imports, so its bundle holds its own ports' adapters and clients only.
 */
type PortBuilders<F extends WiredFunction> = {
  readonly [P in (typeof FUNCTION_PORTS)[F][number]]: PortBuilder<P>;
};

export const deploymentPort: PortBuilder<'deployment'> = (r) =>
  r.env.CORTEX_DEPLOYMENT_FACTS ?? AWS_DEPLOYMENT_FACTS;

export const compliancePort: PortBuilder<'compliance'> = (r) =>
  new DynamoComplianceAdapter({ client: r.document, tableName: r.tableName });

/** The measured latency matrix the router prefers and `GET /v1/latency` answers. */
export const latencyPort: PortBuilder<'latency'> = (r) =>
  new DynamoLatencyAdapter({ client: r.document, tableName: r.tableName });

/** The probe round's per-minute samples and the availability `GET /v1/regions` answers. */
export const availabilityPort: PortBuilder<'availability'> = (r) =>
  new DynamoAvailabilityAdapter({ client: r.document, tableName: r.tableName });

export const mcpPort: PortBuilder<'mcp'> = (r) =>
  new DynamoMcpAdapter({ client: r.document, tableName: r.tableName });

/**
 * The MCP servers' own health routes, called from inside the region's mesh VPC (the only function
 * wired with it runs there): the endpoints the topology names, in regions the mesh joins to this one.
 */
export const mcpProbePort: PortBuilder<'mcpProbe'> = (r) =>
  new HttpMcpProbe({
    allow: meshAllowList(mcpEndpointAllowList(r.topology), planMesh(r.topology), r.regionId),
    clock,
  });

const opsPort: PortBuilder<'ops'> = (r) =>
  new DynamoOpsAdapter({ client: r.document, tableName: r.tableName });

/** The resource pool the router reserves on and the resources API answers from. */
export const resourcesPort: PortBuilder<'resources'> = (r) => {
  const pools = resourcePoolTable(r.topology);
  return new DynamoResourcesAdapter({
    client: r.document,
    tableName: r.tableName,
    handoffs: { client: r.document, tableName: r.records.handoff },
    // Held counters and the claim journal: this region's own items, written in its replica only.
    writer: r.regionId,
    // The pools follow `worker_assignments`: in the MRSC table when it is synchronous there.
    pools: { client: r.document, tableName: pools },
    strongPools: pools === strategyTables(r.topology).criticalName,
    clock,
  });
};

/** This region's replicas of the selective tables (the placement computed from the bundled topology). */
export const selectivePort: PortBuilder<'selective'> = (r) =>
  new DynamoSelectiveStore({
    client: r.document,
    regionId: r.regionId,
    placement: placeReplication(r.topology),
    clock,
  });

/** Every region's replica of the state (the router claims a task's handoff in its owner's). */
export const replicaPort: PortBuilder<'replica'> = (r) => r.replicas;

/** Each region's privacy records: an erasure reaches every replica; remote ones time out quickly. */
export const privacyPort: PortBuilder<'privacy'> = (r) =>
  perRegion((region) => {
    // Two attempts: an API invocation has 10 s for every region's search.
    const client = documentClientFor(region, r.regionId, { maxAttempts: 2 });
    return new DynamoPrivacyAdapter({
      client,
      tableName: r.tableName,
      handoffs: { client, tableName: r.records.handoff },
    });
  });

/** Each region's replication bookkeeping; remote replicas time out quickly. */
export const replicationPort: PortBuilder<'replication'> = (r) =>
  perRegion(
    (region) =>
      new DynamoReplicationStore({
        client: region === r.regionId ? r.document : documentClientFor(region, r.regionId),
        tableName: r.tableName,
        regionId: region,
        clock,
      }),
  );

/** This region's versioned documents, counted on its own replication mark. */
export const documentsPort: PortBuilder<'documents'> = (r) =>
  new DynamoDocumentStore({
    client: r.document,
    tableName: r.tableName,
    counter: portOf(r, 'replication', replicationPort)(r.regionId),
    clock,
  });

export const probePort: PortBuilder<'probe'> = (r) =>
  probeFor(r.topology, {
    CORTEX_REGION_ENDPOINTS: given(r.env.CORTEX_REGION_ENDPOINTS, LAMBDA_ENV.regionEndpoints),
    ...(r.env.CORTEX_ENDPOINT_PARAMETER
      ? { CORTEX_ENDPOINT_PARAMETER: r.env.CORTEX_ENDPOINT_PARAMETER }
      : {}),
  });

export const eventsPort: PortBuilder<'events'> = (r) =>
  new EventBridgeEvents({
    client: new EventBridgeClient({}),
    eventBusName: given(r.env.CORTEX_EVENT_BUS, LAMBDA_ENV.eventBus),
  });

export const workflowPort: PortBuilder<'workflow'> = (r) => {
  const stateMachineArn = given(r.env.CORTEX_FAILOVER_STATE_MACHINE_ARN, LAMBDA_ENV.failoverStateMachineArn);
  return new StepFunctionsWorkflow({
    homeRegion: r.regionId,
    regions: r.topology.regions.map((region) => region.region_id),
    clientFor: perRegion((region) => new SFNClient(region === r.regionId ? {} : { region })),
    // Deterministic names: the same state machine name in every region.
    stateMachineArnFor: (region) => stateMachineArn.replace(`:states:${r.regionId}:`, `:states:${region}:`),
  });
};

/** Reports are also copied to the audit bucket when the deployment has one. */
export const archivePort: PortBuilder<'archive'> = (r) =>
  r.env.CORTEX_AUDIT_BUCKET
    ? new S3AuditArchive({ bucket: r.env.CORTEX_AUDIT_BUCKET, region: r.regionId })
    : undefined;

/** The builders of CONTROL_PORTS: the health probe, the failover steps and the failover API. */
export const controlPortBuilders: PortBuilders<'failover'> = {
  deployment: deploymentPort,
  latency: latencyPort,
  resources: resourcesPort,
  availability: availabilityPort,
  mcp: mcpPort,
  replica: replicaPort,
  probe: probePort,
  workflow: workflowPort,
  events: eventsPort,
};

/** The builders of OPERATIONS_PORTS: the operations API and the daily report. */
export const operationsPortBuilders: PortBuilders<'ops'> = {
  deployment: deploymentPort,
  compliance: compliancePort,
  latency: latencyPort,
  resources: resourcesPort,
  availability: availabilityPort,
  ops: opsPort,
  replication: replicationPort,
  documents: documentsPort,
  events: eventsPort,
};

/** The container's ports, each built once whichever functions of the bundle ask for it. */
const builtPorts = new Map<PortName, unknown>();

function portOf<P extends PortName>(region: Region, port: P, build: PortBuilder<P>): Ports[P] {
  if (!builtPorts.has(port)) builtPorts.set(port, build(region));
  return builtPorts.get(port) as Ports[P];
}

let region: Region | undefined;

/** The container's region: its environment checked against the bundled topology, its clients. */
function regionOf(env: Region['env']): Region {
  if (region) return region;
  const topology = bundledTopology();
  const regionId = env.CORTEX_REGION_ID;
  if (!topology.regions.some((r) => r.region_id === regionId)) {
    throw new Error(`CORTEX_REGION_ID ${regionId} is not a region of the topology`);
  }
  const records = recordTablesFor(topology);
  // One client for this region's tables, shared by every adapter of the container.
  const document = documentClientFor(regionId, regionId);
  region = {
    env,
    regionId,
    tableName: env.CORTEX_TABLE_NAME,
    topology,
    records,
    document,
    replicas: replicas(env.CORTEX_TABLE_NAME, records, regionId, document),
  };
  return region;
}

const functionDepsCache = new Map<WiredFunction, unknown>();

/**
 * The deps of function `name`, built once per container: its environment parsed (lib/runtime/env.ts),
 * the region's basics and exactly the ports FUNCTION_PORTS lists for it.
 */
export function functionDeps<F extends WiredFunction>(
  name: F,
  builders: NoInfer<PortBuilders<F>>,
): FunctionDeps<F> {
  const cachedDeps = functionDepsCache.get(name) as FunctionDeps<F> | undefined;
  if (cachedDeps) return cachedDeps;
  const r = regionOf(environmentOf(name) as unknown as Region['env']);
  const deps: Record<string, unknown> = {
    regionId: r.regionId,
    topology: r.topology,
    state: r.replicas(r.regionId),
    clock,
    // An error the HTTP boundary cannot explain, with its stack and the invocation's correlation keys.
    log: errorLog(containerLogger),
  };
  const ports: readonly PortName[] = FUNCTION_PORTS[name];
  for (const port of ports) {
    const build = (builders as Readonly<Record<string, PortBuilder<PortName>>>)[port];
    if (!build) throw new Error(`${name}: no builder for its ${port} port`);
    const built = portOf(r, port, build);
    if (built !== undefined) deps[port] = built;
  }
  const frozen = Object.freeze(deps) as unknown as FunctionDeps<F>;
  functionDepsCache.set(name, frozen);
  return frozen;
}

let witness: WitnessDeps | undefined;

/** Deps for a witness probe: no region of its own, writes its views into every region's replica. */
export function witnessDeps(): WitnessDeps {
  if (witness) return witness;
  const env = environmentOf(WITNESS_PROBE);
  const topology = bundledTopology();
  if (!topology.witnesses.some((w) => w.witness_id === env.CORTEX_WITNESS_ID)) {
    throw new Error(
      `invalid Lambda environment: CORTEX_WITNESS_ID "${env.CORTEX_WITNESS_ID}" is not a witness of the topology`,
    );
  }
  witness = {
    witnessId: env.CORTEX_WITNESS_ID,
    topology,
    clock,
    probe: probeFor(topology, env),
    replica: replicas(env.CORTEX_TABLE_NAME, recordTablesFor(topology), undefined),
  };
  return witness;
}
