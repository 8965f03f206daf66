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
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { createFailoverHandler } from '../../functions/failover/handler.ts';
import type { TableRef } from '../adapters/aws/dynamo-items.ts';
import { DynamoComplianceAdapter } from '../adapters/aws/dynamodb-compliance.ts';
import { DynamoLatencyAdapter } from '../adapters/aws/dynamodb-latency.ts';
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
import { LocalWorkflow } from '../adapters/local/workflow.ts';
import type { ControlDeps } from '../app/deps.ts';
import type { WitnessDeps } from '../app/probe-round.ts';
import { countedStateWrites, countingState } from '../app/replication/counting-state.ts';
import { LOCAL_DEPLOYMENT_FACTS } from '../core/compliance/facts.ts';
import type { DeploymentFacts } from '../core/compliance/types.ts';
import { CortexError, TopologyError } from '../core/errors.ts';
import {
  placeReplication,
  type ReplicationPlacement,
  resourcePoolTable,
  STATE_RECORD_TYPES,
  type StateRecordType,
  stateRecordTables,
} from '../core/replication/placement.ts';
import type { Topology } from '../core/topology/types.ts';
import { type RegionalStore, type RegionalStores, startRegionalStores } from '../local/stores.ts';
import type { PrivacyPort, ProbePort, ReplicationPort, StatePort } from '../ports.ts';

export interface LocalRuntimeOptions {
  readonly topology: Topology;
  /** Everything the runtime keeps lives under it (`dynamodb/`, `replication/`). */
  readonly dataDir: string;
  /** Starts from empty stores and an empty replication queue. */
  readonly fresh?: boolean;
  /** Replication lag of every region pair; default 200 ms. */
  readonly replicationLagMs?: number;
  /** The clock of the handlers, replication and workflow waits; default real time. */
  readonly scheduler?: Scheduler;
  /** Simulated ms per real ms of `scheduler` (the workflow's Wait states and retries scale by it); default 1. */
  readonly speed?: number;
  /** How regions and witnesses reach each other's endpoints; default: a probe that reaches nobody. */
  readonly probe?: ProbePort;
  /** Who can reach whom (fault injection); default: everyone reaches everyone. */
  readonly network?: ReachabilityPort;
  readonly log?: (line: string) => void;
  /**
   * What the compliance rules may assume of the local stores and endpoints; default the honest
   * LOCAL_DEPLOYMENT_FACTS (no encryption, no authentication: `pii` and `sensitive` are refused).
   */
  readonly deploymentFacts?: DeploymentFacts;
}

/** The part of the simulated network (lib/local/faults.ts) the deps need. */
export interface ReachabilityPort {
  /** `from` cannot reach `to` at all (either is down, or a partition separates them). */
  blocked(from: string, to: string): boolean;
}

export interface LocalRegion {
  readonly regionId: string;
  /** Built once; every handler, probe round and failover step of this region gets this object. */
  readonly deps: ControlDeps;
  readonly store: RegionalStore;
  /** This region's selectively replicated data, in the placement's tables it holds. */
  readonly selective: DynamoSelectiveStore;
}

/** Another region's replica could not be reached (partition, region down): nothing was read or written. */
export class ReplicaUnreachableError extends CortexError {
  readonly code = 'REPLICA_UNREACHABLE';
  readonly from: string;
  readonly to: string;
  constructor(from: string, to: string) {
    super(`${from} cannot reach the replica in ${to}`);
    this.from = from;
    this.to = to;
  }
}

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

export const DEFAULT_REPLICATION_LAG_MS = 200;

export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const { topology } = options;
  const dataDir = resolve(options.dataDir);
  const tableName = stateTableName(topology.name);
  const scheduler = options.scheduler ?? systemScheduler;
  const clock = { now: () => scheduler.now() };
  const replicationDir = join(dataDir, 'replication');
  // The same placement as `cdk synth`: one with a replica outside its jurisdiction does not start.
  const placement = placeReplication(topology);
  if (placement.errors.length > 0) throw new TopologyError(placement.errors);
  // The MRSC table has one authoritative copy, in its home region's store (lib/adapters/local/mrsc.ts).
  const critical = placement.tables.find((t) => t.role === 'critical');
  const replicatedTables = placement.tables
    .filter((t) => t.name !== tableName && t !== critical)
    .map((t) => ({ name: t.name, regions: t.regions }));
  const placedTables = critical
    ? [...replicatedTables, { name: critical.name, regions: [critical.homeRegion] }]
    : replicatedTables;
  const records = stateRecordTables(topology);

  const stores = await startRegionalStores({
    regionIds: topology.regions.map((r) => r.region_id),
    dataDir,
    tableName,
    tables: placedTables,
    fresh: options.fresh ?? false,
  });
  let replication: Replication;
  try {
    // After the stores: they hold the data dir's lock, so a running control plane keeps its queue.
    if (options.fresh) await rm(replicationDir, { recursive: true, force: true });
    replication = await startReplication({
      regions: stores.list.map((store) => ({ regionId: store.regionId, client: store.createClient() })),
      lagMs: options.replicationLagMs ?? DEFAULT_REPLICATION_LAG_MS,
      // Each placed table replicates among its own regions only (a jurisdiction's table stays home).
      tables: [tableName, ...replicatedTables],
      scheduler,
      statePath: join(replicationDir, 'state.json'),
      ...(options.log ? { log: options.log } : {}),
    });
  } catch (error) {
    await stores.close().catch(() => undefined);
    throw error;
  }

  const probe = options.probe ?? unreachableProbe(clock);
  const network = options.network ?? { blocked: () => false };
  /** Where `region` keeps the record types that live outside the state table (the MRSC table). */
  /** `region`'s way to the MRSC table: the one copy, refused without a majority of its regions. */
  const criticalRef = (region: string): TableRef | undefined => {
    if (!critical) return undefined;
    const client = stores.get(critical.homeRegion).createClient();
    guardQuorum(client, {
      tableName: critical.name,
      regions: critical.regions,
      caller: region,
      reaches: (from, to) => !network.blocked(from, to),
    });
    const document = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    return { client: document, tableName: critical.name };
  };
  const criticalRecords = (region: string): Partial<Record<StateRecordType, TableRef>> => {
    const ref = criticalRef(region);
    if (!ref) return {};
    return Object.fromEntries(
      STATE_RECORD_TYPES.filter((type) => records[type] === ref.tableName).map((type) => [type, ref]),
    );
  };
  const events = new LocalEventLog();
  // Issue 5: each region's replication bookkeeping (its mark, lag views, check records) and versioned
  // documents; the state port's writes are counted on the region's mark (lag in records).
  const replicationPorts = new Map(
    stores.list.map((store) => {
      const client = store.createClient();
      replication.attach(store.regionId, client);
      const document = DynamoDBDocumentClient.from(client, {
        marshallOptions: { removeUndefinedValues: true },
      });
      const marks = new DynamoReplicationStore({
        client: document,
        tableName,
        regionId: store.regionId,
        clock,
      });
      const documents = new DynamoDocumentStore({ client: document, tableName, counter: marks, clock });
      return [store.regionId, { marks, documents }] as const;
    }),
  );
  const replicationFor =
    (caller: string) =>
    (regionId: string): ReplicationPort => {
      const port = replicationPorts.get(regionId)?.marks;
      if (!port) throw new Error(`region ${regionId} is not in topology ${topology.name}`);
      if (regionId === caller) return port;
      return guardedReplica(port, () => network.blocked(caller, regionId), caller, regionId);
    };
  const states = new Map(
    stores.list.map((store) => {
      const client = store.createClient();
      replication.attach(store.regionId, client);
      const document = DynamoDBDocumentClient.from(client, {
        marshallOptions: { removeUndefinedValues: true },
      });
      const state = new DynamoStateAdapter({
        client: document,
        tableName,
        records: criticalRecords(store.regionId),
      });
      const marks = replicationPorts.get(store.regionId)?.marks as DynamoReplicationStore;
      // Writes to the MRSC table are replicated before they return: never backlog, never counted.
      const methods = countedStateWrites(records, tableName);
      return [store.regionId, countingState(state, marks, clock, { methods })] as const;
    }),
  );
  const selectiveStores = new Map(
    stores.list.map((store) => {
      const client = store.createClient();
      replication.attach(store.regionId, client);
      const document = DynamoDBDocumentClient.from(client, {
        marshallOptions: { removeUndefinedValues: true },
      });
      const selective = new DynamoSelectiveStore({
        client: document,
        regionId: store.regionId,
        placement,
        clock,
      });
      return [store.regionId, selective] as const;
    }),
  );
  /** `caller`'s way to another region's replica: refused while the network separates them. */
  const replicaFor =
    (caller: string) =>
    (regionId: string): StatePort => {
      const state = states.get(regionId);
      if (!state) throw new Error(`region ${regionId} is not in topology ${topology.name}`);
      if (regionId === caller) return state;
      return guardedReplica(state, () => network.blocked(caller, regionId), caller, regionId);
    };
  // Issue 6: each region's privacy records, on clients that replicate like the state's.
  const privacyPorts = new Map(
    stores.list.map((store) => {
      const client = store.createClient();
      replication.attach(store.regionId, client);
      const document = DynamoDBDocumentClient.from(client, {
        marshallOptions: { removeUndefinedValues: true },
      });
      const handoffs = criticalRecords(store.regionId).handoff;
      const adapter = new DynamoPrivacyAdapter({
        client: document,
        tableName,
        ...(handoffs ? { handoffs } : {}),
      });
      return [store.regionId, adapter] as const;
    }),
  );
  const privacyFor =
    (caller: string) =>
    (regionId: string): PrivacyPort => {
      const port = privacyPorts.get(regionId);
      if (!port) throw new Error(`region ${regionId} is not in topology ${topology.name}`);
      if (regionId === caller) return port;
      return guardedReplica(port, () => network.blocked(caller, regionId), caller, regionId);
    };
  // Issue 6: each region's compliance approvals and audit reports, replicated like the state.
  const compliancePorts = new Map(
    stores.list.map((store) => {
      const client = store.createClient();
      replication.attach(store.regionId, client);
      const document = DynamoDBDocumentClient.from(client, {
        marshallOptions: { removeUndefinedValues: true },
      });
      return [store.regionId, new DynamoComplianceAdapter({ client: document, tableName })] as const;
    }),
  );
  // Issue 4: each region's measured latency matrix, replicated like the state.
  const latencyPorts = new Map(
    stores.list.map((store) => {
      const client = store.createClient();
      replication.attach(store.regionId, client);
      const document = DynamoDBDocumentClient.from(client);
      return [store.regionId, new DynamoLatencyAdapter({ client: document, tableName })] as const;
    }),
  );
  // Issue 4 part B: each region's resource pool (allocations, live usage, rebalances), replicated like the state.
  const resourcesPorts = new Map(
    stores.list.map((store) => {
      const client = store.createClient();
      replication.attach(store.regionId, client);
      const document = DynamoDBDocumentClient.from(client, {
        marshallOptions: { removeUndefinedValues: true },
      });
      const handoffs = criticalRecords(store.regionId).handoff;
      // The pools follow `worker_assignments`: in the MRSC table when it is synchronous there.
      const pools = resourcePoolTable(topology) === critical?.name ? criticalRef(store.regionId) : undefined;
      const adapter = new DynamoResourcesAdapter({
        client: document,
        tableName,
        ...(handoffs ? { handoffs } : {}),
        ...(pools ? { pools } : {}),
      });
      return [store.regionId, adapter] as const;
    }),
  );
  const deploymentFacts = options.deploymentFacts ?? LOCAL_DEPLOYMENT_FACTS;

  const byId = new Map<string, LocalRegion>();
  let workflow: LocalWorkflow;
  try {
    workflow = new LocalWorkflow({
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
  const regions = stores.list.map((store): LocalRegion => {
    const deps: ControlDeps = Object.freeze({
      regionId: store.regionId,
      topology,
      state: states.get(store.regionId) as StatePort,
      clock,
      probe,
      events,
      workflow,
      replica: replicaFor(store.regionId),
      privacy: privacyFor(store.regionId),
      deployment: deploymentFacts,
      compliance: compliancePorts.get(store.regionId),
      replication: replicationFor(store.regionId),
      documents: replicationPorts.get(store.regionId)?.documents,
      latency: latencyPorts.get(store.regionId),
      resources: resourcesPorts.get(store.regionId),
      selective: selectiveStores.get(store.regionId),
    });
    const selective = selectiveStores.get(store.regionId) as DynamoSelectiveStore;
    return { regionId: store.regionId, deps, store, selective };
  });
  for (const region of regions) byId.set(region.regionId, region);
  const witnesses = topology.witnesses.map(
    (witness): WitnessDeps =>
      Object.freeze({
        witnessId: witness.witness_id,
        topology,
        clock,
        probe,
        replica: replicaFor(witness.witness_id),
      }),
  );

  let closing: Promise<void> | undefined;
  return {
    topology,
    dataDir,
    tableName,
    placement,
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
