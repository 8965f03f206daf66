/**
 * The local composition root (STYLE 2): one dynalite store per region, replication between them
 * like a global table, and each region's ControlDeps built once over its own replica (its state,
 * the simulated clock, the local probe, the shared event log, the failover workflow run by the ASL
 * interpreter, and the other regions' replicas as far as the simulated network lets it reach
 * them), plus one WitnessDeps per topology witness. The local control plane (lib/local) serves
 * these deps over HTTP and its scheduler runs their rounds.
 */
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { createFailoverHandler } from '../../functions/failover/handler.ts';
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
import { stateTableName } from '../adapters/aws/state-keys.ts';
import { LocalEventLog } from '../adapters/local/events.ts';
import { guardQuorum } from '../adapters/local/mrsc.ts';
import {
  type Replication,
  type Scheduler,
  startReplication,
  systemScheduler,
} from '../adapters/local/replication.ts';
import type { LocalWorkflow } from '../adapters/local/workflow.ts';
import type { WitnessDeps } from '../app/probe-round.ts';
import { countedStateWrites, countingState } from '../app/replication/counting-state.ts';
import { AWS_DEPLOYMENT_FACTS } from '../core/compliance/facts.ts';
import type { DeploymentFacts } from '../core/compliance/types.ts';
import { messageOf, ReplicaUnreachableError, TopologyError } from '../core/errors.ts';
import {
  placeReplication,
  type ReplicationPlacement,
  resourcePoolTable,
  STATE_RECORD_TYPES,
  stateRecordTables,
} from '../core/replication/placement.ts';
import type { Topology } from '../core/topology/types.ts';
import type { RegionalApiDeps } from '../local/regional-api.ts';
import { type RegionalStore, type RegionalStores, startRegionalStores } from '../local/stores.ts';
import type { McpProbePort, PrivacyPort, ProbePort, ReplicationPort, StatePort } from '../ports.ts';
import { createLocalWorkflow } from './local-workflow.ts';

interface LocalRuntimeOptions {
  readonly topology: Topology;
  /** Everything the runtime keeps lives under it (`dynamodb/`, `replication/`). */
  readonly dataDir: string;
  /** Starts from empty stores and an empty replication queue. */
  readonly fresh?: boolean;
  /**
   * The regional stores live in memory, not under `dynamodb/` (lib/local/stores.ts): for a run that
   * never restarts. It has nothing to resume, so it must start `fresh`.
   */
  readonly inMemory?: boolean;
  /** Replication lag of every region pair; default 200 ms. */
  readonly replicationLagMs?: number;
  /** The clock of the handlers, replication and workflow waits; default real time. */
  readonly scheduler?: Scheduler;
  /** Simulated ms per real ms of `scheduler` (the workflow's Wait states and retries scale by it); default 1. */
  readonly speed?: number;
  /** How regions and witnesses reach each other's endpoints; default: a probe that reaches nobody. */
  readonly probe?: ProbePort;
  /** How regions call the MCP servers' own endpoints; without it the MCP servers are not probed. */
  readonly mcpProbe?: McpProbePort;
  /** Who can reach whom (fault injection); default: everyone reaches everyone. */
  readonly network?: ReachabilityPort;
  readonly log?: (line: string) => void;
  /**
   * What the compliance rules assume of the deployment; default AWS_DEPLOYMENT_FACTS, so the local
   * runtime answers routes and compliance checks as the AWS deployment it stands for does.
   * LOCAL_DEPLOYMENT_FACTS judges the local stores as they are (`pii` and `sensitive` refused).
   */
  readonly deploymentFacts?: DeploymentFacts;
}

/** The part of the simulated network (lib/local/faults.ts) the deps need. */
interface ReachabilityPort {
  /** `from` cannot reach `to` at all (either is down, or a partition separates them). */
  blocked(from: string, to: string): boolean;
}

interface LocalRegion {
  readonly regionId: string;
  /** Built once; every handler, probe round and failover step of this region gets this object. */
  readonly deps: RegionalApiDeps;
  readonly store: RegionalStore;
  /** This region's selectively replicated data, in the placement's tables it holds. */
  readonly selective: DynamoSelectiveStore;
  /**
   * The local stand-in for DynamoDB TTL: deletes this replica's records past their `expires_at`
   * (selective data with a retention, consistency checks after a week); returns how many.
   */
  sweepExpired(): Promise<number>;
}

export { ReplicaUnreachableError } from '../core/errors.ts';

export interface LocalRuntime {
  readonly topology: Topology;
  /** Absolute path. */
  readonly dataDir: string;
  readonly tableName: string;
  /** Which table holds which data; each store holds exactly the tables with a replica there. */
  readonly placement: ReplicationPlacement;
  /** In topology order. */
  readonly regions: readonly LocalRegion[];
  /** One per topology witness (probe-only observers; the gateway plays them locally). */
  readonly witnesses: readonly WitnessDeps[];
  readonly replication: Replication;
  /** The event log every region publishes to (`GET /v1/events`). */
  readonly events: LocalEventLog;
  /** Runs every region's failover workflows (each in its coordinator's deps). */
  readonly workflow: LocalWorkflow;
  region(regionId: string): LocalRegion;
  /** Stops replication (saving what is queued), then closes the stores. */
  close(): Promise<void>;
}

const DEFAULT_REPLICATION_LAG_MS = 200;

export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const { topology } = options;
  // Plain lines for a terminal (a test passes its own): the JSON lines are for CloudWatch.
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dataDir = resolve(options.dataDir);
  const tableName = stateTableName(topology.name);
  const scheduler = options.scheduler ?? systemScheduler;
  const clock = { now: () => scheduler.now() };
  const tables = placeTables(topology, tableName);
  if (options.inMemory && !options.fresh) {
    throw new Error('a local runtime with its stores in memory has nothing to resume: start it fresh');
  }

  const stores = await startRegionalStores({
    regionIds: topology.regions.map((r) => r.region_id),
    dataDir,
    tableName,
    tables: tables.placed,
    fresh: options.fresh ?? false,
    inMemory: options.inMemory ?? false,
  });
  const replication = await startStoreReplication(options, stores, {
    dataDir,
    tableName,
    replicated: tables.replicated,
    scheduler,
  });

  const probe = options.probe ?? unreachableProbe(clock);
  const network = options.network ?? { blocked: () => false };
  const events = new LocalEventLog();
  const portsContext: PortsContext = {
    ...tables,
    tableName,
    stores,
    replication,
    network,
    clock,
    log,
    countedMethods: countedStateWrites(tables.records, tableName),
    poolsInCritical: tables.critical !== undefined && resourcePoolTable(topology) === tables.critical.name,
  };
  const ports = new Map(stores.list.map((store) => [store.regionId, portsOf(store, portsContext)] as const));
  const access = replicaAccess(ports, topology, network);

  const byId = new Map<string, LocalRegion>();
  const workflow = await createWorkflowOrRelease(options, byId, replication, stores);
  const regionContext: RegionContext = {
    options,
    access,
    clock,
    probe,
    events,
    workflow,
    deploymentFacts: options.deploymentFacts ?? AWS_DEPLOYMENT_FACTS,
    log,
  };
  const regions = stores.list.map((store) => localRegionOf(store, regionContext));
  for (const region of regions) byId.set(region.regionId, region);
  const witnesses = topology.witnesses.map(
    (witness): WitnessDeps =>
      Object.freeze({
        witnessId: witness.witness_id,
        topology,
        clock,
        probe,
        replica: access.replicaFor(witness.witness_id),
      }),
  );

  let closing: Promise<void> | undefined;
  return {
    topology,
    dataDir,
    tableName,
    placement: tables.placement,
    regions,
    witnesses,
    replication,
    events,
    workflow,
    region: (regionId) => {
      const region = byId.get(regionId);
      if (!region) throw new Error(`region ${regionId} is not in topology ${topology.name}`);
      return region;
    },
    close: () => {
      closing ??= closeAll(workflow, replication, stores);
      return closing;
    },
  };
}

type PlacedTable = ReplicationPlacement['tables'][number];

/** Which tables each store holds and which of them replicate. */
interface PlacedTables {
  readonly placement: ReplicationPlacement;
  /** The MRSC table, if the topology has one. */
  readonly critical: PlacedTable | undefined;
  /** The tables that replicate between their regions, the state table and the MRSC table aside. */
  readonly replicated: readonly { readonly name: string; readonly regions: readonly string[] }[];
  /** What the stores create: the replicated tables, and the MRSC table in its home region only. */
  readonly placed: readonly { readonly name: string; readonly regions: readonly string[] }[];
  readonly records: ReturnType<typeof stateRecordTables>;
}

/** The same placement as `cdk synth`: one with a replica outside its jurisdiction does not start. */
function placeTables(topology: Topology, tableName: string): PlacedTables {
  const placement = placeReplication(topology);
  if (placement.errors.length > 0) throw new TopologyError(placement.errors);
  // The MRSC table has one authoritative copy, in its home region's store (lib/adapters/local/mrsc.ts).
  const critical = placement.tables.find((t) => t.role === 'critical');
  const replicated = placement.tables
    .filter((t) => t.name !== tableName && t !== critical)
    .map((t) => ({ name: t.name, regions: t.regions }));
  const placed = critical
    ? [...replicated, { name: critical.name, regions: [critical.homeRegion] }]
    : replicated;
  return { placement, critical, replicated, placed, records: stateRecordTables(topology) };
}

/** Starts replication between the stores (closing them if it cannot start). */
async function startStoreReplication(
  options: LocalRuntimeOptions,
  stores: RegionalStores,
  between: {
    dataDir: string;
    tableName: string;
    replicated: PlacedTables['replicated'];
    scheduler: Scheduler;
  },
): Promise<Replication> {
  const replicationDir = join(between.dataDir, 'replication');
  try {
    // After the stores: they hold the data dir's lock, so a running control plane keeps its queue.
    if (options.fresh) await rm(replicationDir, { recursive: true, force: true });
    return await startReplication({
      regions: stores.list.map((store) => ({ regionId: store.regionId, client: store.createClient() })),
      lagMs: options.replicationLagMs ?? DEFAULT_REPLICATION_LAG_MS,
      // Each placed table replicates among its own regions only (a jurisdiction's table stays home).
      tables: [between.tableName, ...between.replicated],
      scheduler: between.scheduler,
      statePath: join(replicationDir, 'state.json'),
      ...(options.log ? { log: options.log } : {}),
    });
  } catch (error) {
    await stores.close().catch(() => undefined);
    throw error;
  }
}

/** What building one region's ports needs. */
interface PortsContext extends PlacedTables {
  readonly tableName: string;
  readonly stores: RegionalStores;
  readonly replication: Replication;
  readonly network: ReachabilityPort;
  readonly clock: { now(): number };
  readonly log: (line: string) => void;
  readonly countedMethods: ReturnType<typeof countedStateWrites>;
  /** The resource pools live in the MRSC table (with worker_assignments). */
  readonly poolsInCritical: boolean;
}

/** `region`'s way to the MRSC table: the one copy, refused without a majority of its regions. */
function criticalRefOf(region: string, context: PortsContext): TableRef | undefined {
  const { critical, stores, network } = context;
  if (!critical) return undefined;
  const client = stores.get(critical.homeRegion).createClient();
  guardQuorum(client, {
    tableName: critical.name,
    regions: critical.regions,
    caller: region,
    reaches: (from, to) => !network.blocked(from, to),
  });
  return { client: documentClient(client), tableName: critical.name };
}

/**
 * Every port of one region, on one client of its store whose writes replicate like a global
 * table's (and, with an MRSC table, one guarded client of that table's copy).
 */
function portsOf(store: RegionalStore, context: PortsContext): RegionPorts {
  const { tableName, records, placement, clock, log } = context;
  const regionId = store.regionId;
  const client = store.createClient();
  context.replication.attach(regionId, client);
  const document = documentClient(client);
  const critical = criticalRefOf(regionId, context);
  // The synchronous data types' records (and the pools, with worker_assignments) in the MRSC table.
  const inCritical = critical
    ? Object.fromEntries(
        STATE_RECORD_TYPES.filter((type) => records[type] === critical.tableName).map((type) => [
          type,
          critical,
        ]),
      )
    : {};
  const handoffs = inCritical.handoff;
  const pools = context.poolsInCritical ? critical : undefined;
  // The region's replication bookkeeping (mark, lag views, check records) and versioned
  // documents; the state port's writes are counted on the region's mark (lag in records), except
  // those to the MRSC table: replicated before they return, never backlog.
  const marks = new DynamoReplicationStore({ client: document, tableName, regionId, clock });
  // Region statuses: in the state table (last writer wins between replicas) this region's own
  // slot; in the MRSC table (one copy, conditions checked everywhere) one slot every region shares.
  const state = new DynamoStateAdapter({
    client: document,
    tableName,
    records: inCritical,
    ...(inCritical.region_status ? {} : { writer: regionId }),
  });
  return {
    marks,
    documents: new DynamoDocumentStore({ client: document, tableName, counter: marks, clock }),
    state: countingState(state, marks, clock, {
      methods: context.countedMethods,
      log: (message, error) => log(`${regionId}: ${message}: ${messageOf(error)}`),
    }),
    selective: new DynamoSelectiveStore({ client: document, regionId, placement, clock }),
    // Privacy records, approvals and audit reports.
    privacy: new DynamoPrivacyAdapter({ client: document, tableName, ...(handoffs ? { handoffs } : {}) }),
    compliance: new DynamoComplianceAdapter({ client: document, tableName }),
    // The measured latency matrix and the resource pool (allocations, usage, rebalances).
    latency: new DynamoLatencyAdapter({ client: document, tableName }),
    availability: new DynamoAvailabilityAdapter({ client: document, tableName }),
    mcp: new DynamoMcpAdapter({ client: document, tableName }),
    // Emergency shutdown incidents and daily operations reports.
    ops: new DynamoOpsAdapter({ client: document, tableName }),
    resources: new DynamoResourcesAdapter({
      client: document,
      tableName,
      ...(handoffs ? { handoffs } : {}),
      ...(pools ? { pools, strongPools: true } : {}),
      // Held counters and the claim journal: this region's own items, written in its replica only.
      writer: store.regionId,
      clock,
    }),
  };
}

/** How a caller reaches each region's ports: its own directly, the others' through the network. */
interface ReplicaAccess {
  portsIn(regionId: string): RegionPorts;
  readonly replicaFor: (caller: string) => (regionId: string) => StatePort;
  readonly privacyFor: (caller: string) => (regionId: string) => PrivacyPort;
  readonly replicationFor: (caller: string) => (regionId: string) => ReplicationPort;
}

/** The regions' ports by caller, each refused while the network separates caller and region. */
function replicaAccess(
  ports: ReadonlyMap<string, RegionPorts>,
  topology: Topology,
  network: ReachabilityPort,
): ReplicaAccess {
  const portsIn = (regionId: string): RegionPorts => {
    const found = ports.get(regionId);
    if (!found) throw new Error(`region ${regionId} is not in topology ${topology.name}`);
    return found;
  };
  /** `caller`'s way to a region's port: refused while the network separates them. */
  const reach =
    <P extends object>(pick: (ports: RegionPorts) => P) =>
    (caller: string) =>
    (regionId: string): P => {
      const port = pick(portsIn(regionId));
      if (regionId === caller) return port;
      return guardedReplica(port, () => network.blocked(caller, regionId), caller, regionId);
    };
  return {
    portsIn,
    replicaFor: reach((p): StatePort => p.state),
    privacyFor: reach((p): PrivacyPort => p.privacy),
    replicationFor: reach((p): ReplicationPort => p.marks),
  };
}

/**
 * The failover workflow over the regions' deps (`byId`, filled once they are built); releases
 * what started if its definition cannot load.
 */
async function createWorkflowOrRelease(
  options: LocalRuntimeOptions,
  byId: ReadonlyMap<string, LocalRegion>,
  replication: Replication,
  stores: RegionalStores,
): Promise<LocalWorkflow> {
  const { topology } = options;
  try {
    return createLocalWorkflow({
      topology,
      depsFor: (regionId) => {
        const region = byId.get(regionId);
        if (!region) throw new Error(`region ${regionId} is not in topology ${topology.name}`);
        return region.deps;
      },
      // The same task function as the Lambda, through its middy chain.
      invokerFor: (deps) => {
        const handler = createFailoverHandler(deps);
        return (event) => handler(event, LOCAL_CONTEXT);
      },
      speed: options.speed ?? 1,
      ...(options.log ? { log: options.log } : {}),
    });
  } catch (error) {
    // A definition that cannot be loaded: release what started.
    await closeAll(undefined, replication, stores).catch(() => undefined);
    throw error;
  }
}

/** What every region's deps share. */
interface RegionContext {
  readonly options: LocalRuntimeOptions;
  readonly access: ReplicaAccess;
  readonly clock: { now(): number };
  readonly probe: ProbePort;
  readonly events: LocalEventLog;
  readonly workflow: LocalWorkflow;
  readonly deploymentFacts: DeploymentFacts;
  readonly log: (line: string) => void;
}

/** One region: its deps, built once over its own ports and the others' replicas. */
function localRegionOf(store: RegionalStore, context: RegionContext): LocalRegion {
  const { options, access, clock, probe, events, workflow, deploymentFacts, log } = context;
  const own = access.portsIn(store.regionId);
  const deps: RegionalApiDeps = Object.freeze({
    regionId: store.regionId,
    topology: options.topology,
    state: own.state,
    clock,
    probe,
    events,
    workflow,
    replica: access.replicaFor(store.regionId),
    privacy: access.privacyFor(store.regionId),
    deployment: deploymentFacts,
    compliance: own.compliance,
    replication: access.replicationFor(store.regionId),
    documents: own.documents,
    latency: own.latency,
    availability: own.availability,
    mcp: own.mcp,
    ...(options.mcpProbe ? { mcpProbe: options.mcpProbe } : {}),
    ops: own.ops,
    resources: own.resources,
    selective: own.selective,
    log: (message: string, error: unknown) => log(`${store.regionId}: ${message}: ${messageOf(error)}`),
  });
  return {
    regionId: store.regionId,
    deps,
    store,
    selective: own.selective,
    sweepExpired: async () => (await own.selective.sweepExpired()) + (await own.marks.sweepExpired()),
  };
}

async function closeAll(
  workflow: LocalWorkflow | undefined,
  replication: Replication,
  stores: RegionalStores,
): Promise<void> {
  try {
    // Executions in flight stop first: their steps write to the stores.
    await workflow?.close();
    await replication.close();
  } finally {
    await stores.close();
  }
}

const LOCAL_CONTEXT = {
  functionName: 'cortex-failover-local',
  callbackWaitsForEmptyEventLoop: false,
} as unknown as Context;

/** A StatePort whose every call first checks that the caller still reaches the replica. */
function guardedReplica<P extends object>(state: P, blocked: () => boolean, from: string, to: string): P {
  return new Proxy(state, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (blocked()) return Promise.reject(new ReplicaUnreachableError(from, to));
        return value.apply(target, args);
      };
    },
  });
}

/** Without a probe (a runtime started for its stores only), every call fails: nobody is reachable. */
function unreachableProbe(clock: { now(): number }): ProbePort {
  return {
    probe: async (observer, target, endpoint, timeoutMs) => ({
      observer,
      target,
      endpoint,
      ok: false,
      error: 'unreachable',
      latency_ms: timeoutMs,
      at: clock.now(),
    }),
  };
}

/** Every port one region's deps take from its store. */
interface RegionPorts {
  readonly marks: DynamoReplicationStore;
  readonly documents: DynamoDocumentStore;
  readonly state: StatePort;
  readonly selective: DynamoSelectiveStore;
  readonly privacy: DynamoPrivacyAdapter;
  readonly compliance: DynamoComplianceAdapter;
  readonly latency: DynamoLatencyAdapter;
  readonly availability: DynamoAvailabilityAdapter;
  readonly mcp: DynamoMcpAdapter;
  readonly ops: DynamoOpsAdapter;
  readonly resources: DynamoResourcesAdapter;
}

function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
