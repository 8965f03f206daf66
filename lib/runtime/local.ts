/**
 * The local composition root (STYLE 2): one dynalite store per region, replication between them
 * like a global table, and each region's RegionalDeps built once over its own replica. The local
 * control plane (lib/local) serves these deps over HTTP; later pieces (scheduler, DNS, workflows)
 * take them from here too.
 */
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoStateAdapter } from '../adapters/aws/dynamodb-state.ts';
import { stateTableName } from '../adapters/aws/state-keys.ts';
import {
  type Replication,
  type Scheduler,
  startReplication,
  systemScheduler,
} from '../adapters/local/replication.ts';
import type { RegionalDeps } from '../app/deps.ts';
import type { Topology } from '../core/topology/types.ts';
import { type RegionalStore, type RegionalStores, startRegionalStores } from '../local/stores.ts';

export interface LocalRuntimeOptions {
  readonly topology: Topology;
  /** Everything the runtime keeps lives under it (`dynamodb/`, `replication/`). */
  readonly dataDir: string;
  /** Starts from empty stores and an empty replication queue. */
  readonly fresh?: boolean;
  /** Replication lag of every region pair; default 200 ms. */
  readonly replicationLagMs?: number;
  /** The clock of the handlers and of replication; default real time. */
  readonly scheduler?: Scheduler;
  readonly log?: (line: string) => void;
}

export interface LocalRegion {
  readonly regionId: string;
  /** Built once; every handler of this region gets this object. */
  readonly deps: RegionalDeps;
  readonly store: RegionalStore;
}

export interface LocalRuntime {
  readonly topology: Topology;
  /** Absolute path. */
  readonly dataDir: string;
  readonly tableName: string;
  /** In topology order. */
  readonly regions: readonly LocalRegion[];
  readonly replication: Replication;
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

  const stores = await startRegionalStores({
    regionIds: topology.regions.map((r) => r.region_id),
    dataDir,
    tableName,
    fresh: options.fresh ?? false,
  });
  let replication: Replication;
  try {
    // After the stores: they hold the data dir's lock, so a running control plane keeps its queue.
    if (options.fresh) await rm(replicationDir, { recursive: true, force: true });
    replication = await startReplication({
      regions: stores.list.map((store) => ({ regionId: store.regionId, client: store.createClient() })),
      lagMs: options.replicationLagMs ?? DEFAULT_REPLICATION_LAG_MS,
      tables: [tableName],
      scheduler,
      statePath: join(replicationDir, 'state.json'),
      ...(options.log ? { log: options.log } : {}),
    });
  } catch (error) {
    await stores.close().catch(() => undefined);
    throw error;
  }

  const regions = stores.list.map((store): LocalRegion => {
    const client = store.createClient();
    replication.attach(store.regionId, client);
    const document = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const deps: RegionalDeps = Object.freeze({
      regionId: store.regionId,
      topology,
      state: new DynamoStateAdapter({ client: document, tableName }),
      clock,
    });
    return { regionId: store.regionId, deps, store };
  });
  const byId = new Map(regions.map((region) => [region.regionId, region]));

  let closing: Promise<void> | undefined;
  return {
    topology,
    dataDir,
    tableName,
    regions,
    replication,
    region: (regionId) => {
      const region = byId.get(regionId);
      if (!region) throw new Error(`region ${regionId} is not in topology ${topology.name}`);
      return region;
    },
    close: () => {
      closing ??= closeAll(replication, stores);
      return closing;
    },
  };
}

async function closeAll(replication: Replication, stores: RegionalStores): Promise<void> {
  try {
    await replication.close();
  } finally {
    await stores.close();
  }
}
