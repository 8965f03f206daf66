/**
 * The simulator's shared state: one replicated store (the global table) with a replica per topology
 * region, and per region the ports the use cases take, each writing its own region's replica as the
 * DynamoDB adapters of that region would. The replication controls are the simulator's faults: a
 * partition pauses links, a region down pauses all of its links, and lag is set per ordered pair.
 */
import type { Topology } from '../../core/topology/types.ts';
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
}

/** One region's view of the shared state: the ports its use cases take. */
export interface SimRegionStore {
  readonly regionId: string;
  /** Writes status slots as this region (its own slot in every region's status). */
  readonly state: SimStatePort;
  /** On the same replica as `state`: settling a handoff sees the handoffs `state` holds. */
  readonly resources: SimResourcesPort;
  /** The region's replica of the state table. */
  readonly replica: SimReplica;
}

export interface SimStores {
  readonly store: ReplicatedStore;
  /** Pause, resume, lag, down/up, flush and the per-link figures. */
  readonly replication: ReplicationControls;
  /** In topology order. */
  readonly regions: readonly SimRegionStore[];
  region(regionId: string): SimRegionStore;
}

export function createSimStores(options: SimStoresOptions): SimStores {
  const regionIds = options.topology.regions.map((region) => region.region_id);
  const store = createReplicatedStore({
    kernel: options.kernel,
    regions: regionIds,
    ...(options.lagMs === undefined ? {} : { lagMs: options.lagMs }),
    tables: [{ name: DEFAULT_TABLE }, ...(options.tables ?? [])],
    ...(options.reads === undefined ? {} : { reads: options.reads }),
  });
  const regions = regionIds.map((regionId): SimRegionStore => {
    const replica = store.replica(regionId);
    return {
      regionId,
      state: new SimStatePort({ replica, writer: regionId }),
      resources: new SimResourcesPort({ replica }),
      replica,
    };
  });
  const byId = new Map(regions.map((region) => [region.regionId, region]));
  return {
    store,
    replication: store,
    regions,
    region(regionId) {
      const region = byId.get(regionId);
      if (!region) throw new Error(`sim stores: unknown region ${regionId}`);
      return region;
    },
  };
}
