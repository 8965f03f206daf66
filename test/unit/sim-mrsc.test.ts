/**
 * The simulator's MRSC table (lib/sim/store/critical.ts): with a topology whose regions allow one,
 * region statuses, failovers and handoffs (and the pools, when `worker_assignments` is synchronous)
 * live in one copy that every region reaches through its quorum guard, as lib/adapters/local/mrsc.ts
 * and the deployment keep them. The StatePort and ResourcesPort contracts hold on it, a write is
 * visible everywhere at once, of two regions racing on one item one wins, and a region cut off from
 * the majority of the table's regions is refused while the majority goes on.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { keys } from '../../lib/adapters/aws/state-keys.ts';
import { ConflictError, StateUnavailableError } from '../../lib/core/errors.ts';
import type { StateRecordType } from '../../lib/core/replication/placement.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { createKernel } from '../../lib/sim/kernel.ts';
import { quorumGuarded } from '../../lib/sim/store/critical.ts';
import { createSimStores, criticalTableOf, type SimCriticalTable } from '../../lib/sim/store/index.ts';
import { createReplicatedStore, type SimReplica } from '../../lib/sim/store/replicated.ts';
import { SimResourcesPort } from '../../lib/sim/store/resources.ts';
import { putStatusSlot, SimStatePort } from '../../lib/sim/store/state.ts';
import { pool, reservation, resourcesContract } from '../contract/resources.contract.ts';
import { failover, handoff, stateContract, status } from '../contract/state.contract.ts';

const read = (file: string) =>
  validateTopology(JSON.parse(readFileSync(new URL(`../../topology/${file}`, import.meta.url), 'utf8')));
const MRSC = read('us-mrsc.json');
const DEFAULT = read('default.json');
const REGIONS = ['us-east-1', 'us-east-2', 'us-west-2'];
const TABLE = 'cortex-critical';
const SYNCHRONOUS: readonly StateRecordType[] = ['region_status', 'failover', 'handoff'];
const START = Date.parse('2026-11-26T12:00:00Z');

/** The contracts' store: the state table in every region, the MRSC table's one copy in us-east-1. */
function contractStore(reads: 'copy' | 'frozen') {
  const store = createReplicatedStore({
    kernel: createKernel({ seed: 1 }),
    regions: REGIONS,
    reads,
    tables: [{ name: 'state' }, { name: TABLE, regions: ['us-east-1'] }],
  });
  const copy = quorumGuarded(store.replica('us-east-1', TABLE), {
    table: TABLE,
    regions: REGIONS,
    caller: 'us-east-2',
    reaches: () => true,
  });
  const records = Object.fromEntries(SYNCHRONOUS.map((type) => [type, copy])) as Partial<
    Record<StateRecordType, SimReplica>
  >;
  return { store, copy, records, replica: store.replica('us-east-2') };
}

for (const reads of ['copy', 'frozen'] as const) {
  stateContract(`SimStatePort with the synchronous records in the MRSC copy (reads: ${reads})`, async () => {
    const { store, records, replica } = contractStore(reads);
    return {
      state: new SimStatePort({ replica, records }),
      stateAs: (writer) => new SimStatePort({ replica, records, writer }),
      // What a slot-per-writer port would have left in the one copy (no replication to wait for).
      replicated: async (writer, record) => putStatusSlot(store.replica('us-east-1', TABLE), writer, record),
      reset: async () => store.reset(),
      close: async () => undefined,
    };
  });

  resourcesContract(
    `SimResourcesPort with pools and handoffs in the MRSC copy (reads: ${reads})`,
    async () => {
      const { store, copy, records, replica } = contractStore(reads);
      return {
        resources: new SimResourcesPort({ replica, handoffs: copy, pools: copy }),
        resourcesAs: (writer, clock) =>
          new SimResourcesPort({ replica, handoffs: copy, pools: copy, strongPools: true, writer, clock }),
        state: new SimStatePort({ replica, records }),
        reset: async () => store.reset(),
        close: async () => undefined,
      };
    },
  );
}

/** The MRSC topology's stores with a network the test cuts: who is down, which pairs are cut. */
function mrscStores(critical: SimCriticalTable | null = criticalTableOf(MRSC) ?? null) {
  const kernel = createKernel({ seed: 5, start: START });
  const down = new Set<string>();
  const cuts = new Set<string>();
  const cut = (a: string, b: string) => cuts.add(`${a}|${b}`).add(`${b}|${a}`);
  const reaches = (from: string, to: string) =>
    from === to ? !down.has(from) : !down.has(from) && !down.has(to) && !cuts.has(`${from}|${to}`);
  const stores = createSimStores({ topology: MRSC, kernel, ...(critical ? { critical } : {}), reaches });
  const state = (region: string) => stores.region(region).state;
  return { kernel, stores, state, down, cut, cuts };
}

describe('the MRSC table in the simulator', () => {
  it('is placed as the deployment places it: statuses, failovers, handoffs and pools in one copy', () => {
    expect(criticalTableOf(MRSC)).toEqual({
      name: TABLE,
      regions: REGIONS,
      homeRegion: 'us-east-1',
      records: SYNCHRONOUS,
      pools: true,
    });
    // Three regions in three region sets: no MRSC table, everything eventually consistent.
    expect(criticalTableOf(DEFAULT)).toBeUndefined();
  });

  // Invariant: one copy, no replication lag to observe: every region reads a write as soon as it returns.
  it('makes a write visible in every region at once, with no replication to wait for', async () => {
    const { stores, state } = mrscStores();
    await state('us-west-2').putRegionStatus(status({ region_id: 'us-east-1', epoch: 3 }), undefined);
    await state('us-east-2').createHandoff(handoff({ target_region: 'us-west-2' }));
    await state('us-east-1').createFailover(failover({ failed_region: 'us-east-2' }));
    expect(stores.replication.queued()).toBe(0);
    for (const region of REGIONS) {
      expect((await state(region).getRegionStatus('us-east-1'))?.epoch).toBe(3);
      expect((await state(region).listHandoffsByTarget('us-west-2')).map((h) => h.handoff_id)).toEqual([
        'cross-region-task-1',
      ]);
      expect((await state(region).listFailovers()).map((f) => f.failed_region)).toEqual(['us-east-2']);
    }
    // Heartbeats and views stay in the eventually consistent state table, written per replica.
    await state('us-east-2').putHeartbeat({ region: 'us-east-2', seq: 1, at: START });
    expect(await state('us-west-2').listHeartbeats()).toEqual([]);
    expect(stores.replication.queued()).toBeGreaterThan(0);
  });

  // Invariant: conditions are checked against the latest value in every region, so two regions
  // deciding from one epoch at once cannot both win (on the state table both would, each on its replica).
  it('lets one of two regions racing on one status win; the other gets the winner as its conflict', async () => {
    const { stores, state } = mrscStores();
    await state('us-east-1').putRegionStatus(status({ region_id: 'us-east-1', epoch: 4 }), undefined);
    const [east, west] = await Promise.allSettled([
      state('us-east-2').putRegionStatus(
        status({ region_id: 'us-east-1', status: 'failed', epoch: 5, updated_by: 'failover@us-east-2' }),
        4,
      ),
      state('us-west-2').putRegionStatus(
        status({ region_id: 'us-east-1', status: 'draining', epoch: 5, updated_by: 'failover@us-west-2' }),
        4,
      ),
    ]);
    expect(east.status).toBe('fulfilled');
    expect(west.status).toBe('rejected');
    const error = (west as PromiseRejectedResult).reason;
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.code).toBe('EPOCH_CONFLICT');
    expect(error.current).toMatchObject({ status: 'failed', epoch: 5 });
    // One shared slot, as DynamoStateAdapter without a writer: no per-region slots to merge.
    const copy = stores.critical as SimReplica;
    expect(copy.query(keys.regionStatusPartition).map((row) => row.sk)).toEqual(['us-east-1#_']);
    const [first, second] = await Promise.allSettled([
      state('us-east-2').createHandoff(handoff({ target_region: 'us-east-2' })),
      state('us-west-2').createHandoff(handoff({ target_region: 'us-west-2' })),
    ]);
    expect([first.status, second.status]).toEqual(['fulfilled', 'rejected']);
    expect((second as PromiseRejectedResult).reason.code).toBe('HANDOFF_EXISTS');
    expect((await state('us-west-2').getHandoff('cross-region-task-1'))?.target_region).toBe('us-east-2');
  });

  // Invariant: reservations are checked against the latest pool everywhere: no over-commit across regions.
  it('refuses the second of two reservations for the last workers of a pool in the MRSC copy', async () => {
    const { stores } = mrscStores();
    const resources = (region: string) => stores.region(region).resources;
    await resources('us-east-1').seedPool(pool({ region: 'us-east-1' }));
    const last = reservation({ region: 'us-east-1', workers: 3, tokens: 0, compute_units: 0 });
    const current = (await resources('us-east-2').getPool('us-east-1', pool().hour)) as ReturnType<
      typeof pool
    >;
    await resources('us-east-2').reserve(last, current);
    const error = await resources('us-west-2')
      .reserve(last, current)
      .catch((e) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.code).toBe('CAPACITY_EXHAUSTED');
    expect((await resources('us-east-1').getPool('us-east-1', pool().hour))?.usage.workers).toBe(10);
  });

  // Invariant: a region cut off from the majority of the table's regions can neither read nor write
  // the table (StateUnavailableError on every call), changes nothing, and the majority goes on.
  it('refuses every call on the table from a region cut off from both others; the majority goes on', async () => {
    const { state, cut, cuts, stores } = mrscStores();
    await state('us-east-1').putRegionStatus(status({ region_id: 'us-west-2', epoch: 1 }), undefined);
    cut('us-west-2', 'us-east-1');
    cut('us-west-2', 'us-east-2');
    const isolated = state('us-west-2');
    const calls: [string, () => Promise<unknown>][] = [
      ['getRegionStatus', () => isolated.getRegionStatus('us-west-2')],
      ['listRegionStatuses', () => isolated.listRegionStatuses()],
      ['putRegionStatus', () => isolated.putRegionStatus(status({ region_id: 'us-west-2', epoch: 2 }), 1)],
      ['createHandoff', () => isolated.createHandoff(handoff())],
      ['listFailovers', () => isolated.listFailovers()],
      ['createFailover', () => isolated.createFailover(failover())],
      ['getPool', () => stores.region('us-west-2').resources.getPool('us-west-2', pool().hour)],
      [
        'settleHandoff',
        () => stores.region('us-west-2').resources.settleHandoff('cross-region-task-1', 'completed', {}),
      ],
    ];
    for (const [name, call] of calls) {
      const error: unknown = await call().catch((e) => e);
      expect(error, name).toBeInstanceOf(StateUnavailableError);
      expect((error as StateUnavailableError).message, name).toBe(
        'cortex-critical is unavailable from us-west-2: reaches 1 of its 3 replicas (us-west-2); a strongly consistent read or write needs 2',
      );
    }
    // Its heartbeat and views are in the state table: its own replica takes them.
    await isolated.putHeartbeat({ region: 'us-west-2', seq: 7, at: START });
    expect(await isolated.listHeartbeats()).toHaveLength(1);
    // The majority side reads and writes on; the refused write changed nothing.
    expect((await state('us-east-2').getRegionStatus('us-west-2'))?.epoch).toBe(1);
    await state('us-east-2').putRegionStatus(
      status({ region_id: 'us-west-2', status: 'failed', epoch: 2, updated_by: 'failover@us-east-2' }),
      1,
    );
    // Back in reach, it reads the majority's decision at once (nothing to replicate).
    cuts.clear();
    expect(await isolated.getRegionStatus('us-west-2')).toMatchObject({ status: 'failed', epoch: 2 });
  });

  it('keeps one cut link harmless: a region reaching one other of three holds a majority', async () => {
    const { state, cut } = mrscStores();
    cut('us-west-2', 'us-east-1');
    await state('us-west-2').putRegionStatus(status({ region_id: 'us-west-2' }), undefined);
    expect(await state('us-east-1').getRegionStatus('us-west-2')).toEqual(status({ region_id: 'us-west-2' }));
  });

  // A region down reaches not even itself; the copy outlives its home region going down (MRSC keeps
  // the other replicas' data on AWS).
  it('refuses a region that is down, and serves the others when the home region is down', async () => {
    const { state, down } = mrscStores();
    await state('us-east-2').createHandoff(handoff());
    down.add('us-east-1');
    expect(
      await state('us-east-1')
        .getHandoff('cross-region-task-1')
        .catch((e) => e),
    ).toBeInstanceOf(StateUnavailableError);
    expect((await state('us-west-2').getHandoff('cross-region-task-1'))?.task_id).toBe('task-1');
    down.add('us-west-2');
    expect(
      await state('us-east-2')
        .listFailovers()
        .catch((e) => e),
    ).toBeInstanceOf(StateUnavailableError);
  });

  // The invariants read past the guard: what the copy holds, whoever can reach it.
  it('gives observers an unguarded view of the same records', async () => {
    const { stores, state, cut } = mrscStores();
    await state('us-east-1').createFailover(failover());
    cut('us-west-2', 'us-east-1');
    cut('us-west-2', 'us-east-2');
    expect((await stores.region('us-west-2').view.listFailovers()).map((f) => f.failover_id)).toEqual([
      'failover-eu-west-1-e0',
    ]);
  });

  it('keeps everything in the replicated state table without an MRSC table', async () => {
    const { stores, state } = mrscStores(null);
    await state('us-east-2').createHandoff(handoff());
    expect(await state('us-west-2').getHandoff('cross-region-task-1')).toBeUndefined();
    expect(stores.critical).toBeUndefined();
    expect(stores.region('us-west-2').view).toBe(stores.region('us-west-2').state);
  });
});
