/**
 * The simulator's shared state: one replicated store (the global table) with a replica per topology
 * region, and per region the ports the use cases take, each writing its own region's replica as the
 * DynamoDB adapters of that region would. The replication controls are the simulator's faults: a
 * partition pauses links, a region down pauses all of its links, and lag is set per ordered pair.
 *
 * With an MRSC table (a topology whose regions allow one, lib/core/replication/placement.ts), the
 * records of the synchronous data types (and the pools, when `worker_assignments` is one) live in its
 * one copy instead, which every region reaches through its quorum guard (critical.ts), as the local
 * plane and the deployment keep them (lib/runtime/local.ts).
 */
import {
  placeReplication,
  resourcePoolTable,
  STATE_RECORD_TYPES,
  type StateRecordType,
  stateRecordTables,
} from '../../core/replication/placement.ts';
import type { Topology } from '../../core/topology/types.ts';
import { quorumGuarded } from './critical.ts';
import { SimMcpPort } from './mcp.ts';
import {
  createReplicatedStore,
  DEFAULT_TABLE,
  type ReplicatedStore,
  type ReplicationControls,
  type SimReplica,
  type SimScheduler,
  type SimTableSpec,
} from './replicated.ts';
import { SimResourcesPort } from './resources.ts';
import { SimStatePort } from './state.ts';

export { quorumGuarded, quorumRefusal } from './critical.ts';
export { SimMcpPort } from './mcp.ts';
export { copyValue, createReplicatedStore, type ReplicatedStore, type SimReplica } from './replicated.ts';
export { SimConditionalCheckFailed, SimResourcesPort } from './resources.ts';
export { putStatusSlot, SimStatePort } from './state.ts';

export interface SimStoresOptions {
  readonly topology: Pick<Topology, 'regions'>;
  readonly kernel: SimScheduler;
  /** Lag of every link at the start; default 200 ms. */
  readonly lagMs?: number;
  /** More tables replicated among some regions (placement tables); the state table is always there. */
  readonly tables?: readonly SimTableSpec[];
  /** `frozen`: reads hand out deep-frozen stored images instead of copies (replicated.ts `reads`). */
  readonly reads?: 'copy' | 'frozen';
  /** The MRSC table (criticalTableOf), if the topology has one. */
  readonly critical?: SimCriticalTable;
  /**
   * Whether `from` reaches `to` now (`from === to`: whether it is up): the MRSC table's quorum guard
   * asks it on every call. Default: always.
   */
  readonly reaches?: (from: string, to: string) => boolean;
}

/** Where the MRSC table is and what it holds. */
export interface SimCriticalTable {
  /** `<name>-critical`. */
  readonly name: string;
  /** The regions holding a replica on AWS (MRSC: exactly three); a call needs a majority of them. */
  readonly regions: readonly string[];
  /** The region whose store keeps the one copy. */
  readonly homeRegion: string;
  /** The state record types it holds (placement.ts stateRecordTables). */
  readonly records: readonly StateRecordType[];
  /** Whether the resource pools live there too (placement.ts resourcePoolTable). */
  readonly pools: boolean;
}

/** The topology's MRSC table as the deployment places it, or undefined when it has none. */
export function criticalTableOf(topology: Topology): SimCriticalTable | undefined {
  // Placing the tables walks the whole topology: once per frozen (validated) topology, not once per
  // schedule and again for its invariants.
  if (!Object.isFrozen(topology)) return placeCriticalTable(topology);
  if (!criticalTables.has(topology)) criticalTables.set(topology, placeCriticalTable(topology));
  return criticalTables.get(topology);
}

const criticalTables = new WeakMap<Topology, SimCriticalTable | undefined>();

function placeCriticalTable(topology: Topology): SimCriticalTable | undefined {
  const critical = placeReplication(topology).tables.find((t) => t.role === 'critical');
  if (!critical) return undefined;
  const tables = stateRecordTables(topology);
  return {
    name: critical.name,
    regions: [...critical.regions],
    homeRegion: critical.homeRegion,
    records: STATE_RECORD_TYPES.filter((type) => tables[type] === critical.name),
    pools: resourcePoolTable(topology) === critical.name,
  };
}

/** One region's view of the shared state: the ports its use cases take. */
export interface SimRegionStore {
  readonly regionId: string;
  /**
   * Writes status slots as this region (its own slot in every region's status); with an MRSC table
   * holding region statuses, the one shared slot there, refused without a quorum.
   */
  readonly state: SimStatePort;
  /**
   * The same records as `state` without the quorum guard: what an observer outside the network (the
   * invariants, the simulated operator's reads) finds in this region's replica and the MRSC copy.
   * The same port as `state` without an MRSC table.
   */
  readonly view: SimStatePort;
  /** On the same replica as `state`: settling a handoff sees the handoffs `state` holds. */
  readonly resources: SimResourcesPort;
  /** The MCP registry in this region's replica of the state table. */
  readonly mcp: SimMcpPort;
  /** The region's replica of the state table. */
  readonly replica: SimReplica;
}

export interface SimStores {
  readonly store: ReplicatedStore;
  /** Pause, resume, lag, down/up, flush and the per-link figures. */
  readonly replication: ReplicationControls;
  /** In topology order. */
  readonly regions: readonly SimRegionStore[];
  /** The MRSC table's one copy, unguarded (tests and observers), when there is one. */
  readonly critical?: SimReplica;
  region(regionId: string): SimRegionStore;
}

export function createSimStores(options: SimStoresOptions): SimStores {
  const regionIds = options.topology.regions.map((region) => region.region_id);
  const { critical } = options;
  const store = createReplicatedStore({
    kernel: options.kernel,
    regions: regionIds,
    ...(options.lagMs === undefined ? {} : { lagMs: options.lagMs }),
    tables: [
      { name: DEFAULT_TABLE },
      ...(options.tables ?? []),
      // One copy in the home region's store, replicated nowhere (lib/adapters/local/mrsc.ts).
      ...(critical ? [{ name: critical.name, regions: [critical.homeRegion] }] : []),
    ],
    ...(options.reads === undefined ? {} : { reads: options.reads }),
  });
  const copy = critical ? store.replica(critical.homeRegion, critical.name) : undefined;
  const reaches = options.reaches ?? (() => true);
  const regions = regionIds.map((regionId): SimRegionStore => {
    const replica = store.replica(regionId);
    if (!critical || !copy) {
      const state = new SimStatePort({ replica, writer: regionId });
      return {
        regionId,
        state,
        view: state,
        resources: new SimResourcesPort({ replica, writer: regionId, clock: options.kernel }),
        mcp: new SimMcpPort(replica),
        replica,
      };
    }
    const guarded = quorumGuarded(copy, {
      table: critical.name,
      regions: critical.regions,
      caller: regionId,
      reaches,
    });
    const recordsIn = (table: SimReplica) =>
      Object.fromEntries(critical.records.map((type) => [type, table])) as Partial<
        Record<StateRecordType, SimReplica>
      >;
    // Region statuses in the MRSC table: one slot every region shares (conditions checked against
    // the latest write of every region), as the composition roots build DynamoStateAdapter there.
    const writer = critical.records.includes('region_status') ? {} : { writer: regionId };
    return {
      regionId,
      state: new SimStatePort({ replica, records: recordsIn(guarded), ...writer }),
      view: new SimStatePort({ replica, records: recordsIn(copy), ...writer }),
      resources: new SimResourcesPort({
        replica,
        writer: regionId,
        clock: options.kernel,
        ...(critical.records.includes('handoff') ? { handoffs: guarded } : {}),
        ...(critical.pools ? { pools: guarded, strongPools: true } : {}),
      }),
      mcp: new SimMcpPort(replica),
      replica,
    };
  });
  const byId = new Map(regions.map((region) => [region.regionId, region]));
  return {
    store,
    replication: store,
    regions,
    ...(copy ? { critical: copy } : {}),
    region(regionId) {
      const region = byId.get(regionId);
      if (!region) throw new Error(`sim stores: unknown region ${regionId}`);
      return region;
    },
  };
}
