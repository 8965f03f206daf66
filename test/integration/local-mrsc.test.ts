/**
 * The MRSC table on the local control plane: with three regions in the US region set, the
 * synchronous data types' records (region statuses, failovers, handoffs) live in `cortex-critical`,
 * one authoritative copy that every region reads and writes strongly consistently while it reaches
 * a majority of the table's regions. Real dynalite stores; the network is a stub the test cuts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DynamoDBClient, ListTablesCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readPools } from '../../lib/app/resources/pools.ts';
import { ConflictError, StateUnavailableError } from '../../lib/core/errors.ts';
import type { RegionStatusRecord } from '../../lib/core/state/records.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { type LocalRuntime, startLocalRuntime } from '../../lib/runtime/local.ts';
import { handoff, status } from '../contract/state.contract.ts';
import { usRegionSetTopologyJson } from '../fixtures/replication-topologies.ts';
import { ManualScheduler } from '../support/manual-time.ts';

const EAST = 'us-east-1';
const OHIO = 'us-east-2';
const WEST = 'us-west-2';
const REGIONS = [EAST, OHIO, WEST];
const CRITICAL = 'cortex-critical';
const STATE = 'cortex-state';

/** Who cannot reach whom: a region listed as isolated reaches nobody but itself. */
class StubNetwork {
  readonly isolated = new Set<string>();
  blocked(from: string, to: string): boolean {
    if (from === to) return false;
    return this.isolated.has(from) || this.isolated.has(to);
  }
}

let runtime: LocalRuntime;
let dataDir: string;
let scheduler: ManualScheduler;
let network: StubNetwork;
const clients: DynamoDBClient[] = [];

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cortex-mrsc-'));
  scheduler = new ManualScheduler();
  network = new StubNetwork();
  runtime = await startLocalRuntime({
    topology: validateTopology(usRegionSetTopologyJson()),
    dataDir,
    fresh: true,
    inMemory: true,
    scheduler,
    network,
  });
});

afterEach(async () => {
  clients.splice(0);
  await runtime.close();
  await rm(dataDir, { recursive: true, force: true });
});

const state = (region: string) => runtime.region(region).deps.state;

function storeClient(region: string): DynamoDBClient {
  const client = runtime.region(region).store.createClient();
  clients.push(client);
  return client;
}

async function recordTypes(region: string, table: string): Promise<string[]> {
  const client = storeClient(region);
  const { TableNames = [] } = await client.send(new ListTablesCommand({}));
  if (!TableNames.includes(table)) return [];
  const { Items = [] } = await client.send(new ScanCommand({ TableName: table }));
  return [...new Set(Items.map((item) => item.record_type?.S ?? '?'))].sort();
}

function healthy(region: string, epoch = 1): RegionStatusRecord {
  return status({ region_id: region, status: 'healthy', epoch, role: 'primary' });
}

describe('the MRSC table on local stores', () => {
  it('keeps statuses, failovers and handoffs in cortex-critical, one copy in its home region', async () => {
    expect(runtime.placement.mrsc.allowed).toBe(true);
    const home = runtime.placement.tables.find((t) => t.role === 'critical')?.homeRegion;
    expect(home).toBe(EAST);
    await state(OHIO).putRegionStatus(healthy(OHIO), undefined);
    await state(WEST).createHandoff(handoff({ handoff_id: 'mrsc-1', target_region: WEST }));
    await state(OHIO).putHeartbeat({ region: OHIO, seq: 1, at: scheduler.now() });
    await runtime.replication.flush({ all: true });

    expect(await recordTypes(EAST, CRITICAL)).toEqual(['handoff', 'region_status']);
    expect(await recordTypes(OHIO, CRITICAL)).toEqual([]);
    expect(await recordTypes(WEST, CRITICAL)).toEqual([]);
    for (const region of REGIONS) {
      const inState = await recordTypes(region, STATE);
      expect(inState).toContain('heartbeat');
      expect(inState).not.toContain('region_status');
      expect(inState).not.toContain('handoff');
    }
  });

  it('shows a write to a strongly consistent read in every region at once, without replication', async () => {
    await state(WEST).putRegionStatus(healthy(WEST), undefined);
    await state(WEST).putHeartbeat({ region: WEST, seq: 7, at: scheduler.now() });
    // No time passes and nothing is flushed: the heartbeat (state table, MREC) has not replicated.
    for (const region of [EAST, OHIO]) {
      expect(await state(region).getRegionStatus(WEST)).toMatchObject({ status: 'healthy', epoch: 1 });
      expect((await state(region).listHeartbeats()).map((b) => b.region)).not.toContain(WEST);
    }
  });

  it('lets one of two regions racing on the same epoch win; the other gets a conflict', async () => {
    await state(EAST).putRegionStatus(healthy(EAST), undefined);
    const results = await Promise.allSettled([
      state(OHIO).putRegionStatus({ ...healthy(EAST, 2), status: 'failed', role: 'standby' }, 1),
      state(WEST).putRegionStatus({ ...healthy(EAST, 2), status: 'fenced', role: 'standby' }, 1),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]?.reason).toBeInstanceOf(ConflictError);
    expect(lost[0]?.reason.code).toBe('EPOCH_CONFLICT');
    const stored = await state(EAST).getRegionStatus(EAST);
    expect(stored?.epoch).toBe(2);
    // Every region reads the one winner.
    for (const region of REGIONS) expect(await state(region).getRegionStatus(EAST)).toEqual(stored);
  });

  it('refuses a region cut off from the majority; the other two go on and it reads their writes after', async () => {
    await state(EAST).putRegionStatus(healthy(EAST), undefined);
    network.isolated.add(WEST);

    const write = await state(WEST)
      .putRegionStatus(healthy(WEST), undefined)
      .catch((error: unknown) => error);
    expect(write).toBeInstanceOf(StateUnavailableError);
    expect((write as StateUnavailableError).message).toMatch(
      /cortex-critical is unavailable from us-west-2: reaches 1 of its 3 replicas \(us-west-2\); a strongly consistent read or write needs 2/,
    );
    await expect(state(WEST).getRegionStatus(EAST)).rejects.toBeInstanceOf(StateUnavailableError);
    // A batch read names the table in its RequestItems: refused all the same.
    await expect(state(WEST).getHandoffs(['cross-region-task-1'])).rejects.toBeInstanceOf(
      StateUnavailableError,
    );
    // The state table (MREC) stays writable in the cut-off region: only MRSC needs the majority.
    await state(WEST).putHeartbeat({ region: WEST, seq: 1, at: scheduler.now() });

    // The majority (us-east-1 and us-east-2) still writes and reads strongly.
    await state(OHIO).putRegionStatus({ ...healthy(EAST, 2), status: 'failed', role: 'standby' }, 1);
    expect((await state(EAST).getRegionStatus(EAST))?.status).toBe('failed');

    network.isolated.delete(WEST);
    expect((await state(WEST).getRegionStatus(EAST))?.status).toBe('failed');
    await state(WEST).putRegionStatus(healthy(WEST), undefined);
  });

  it('refuses every region when no two of them reach each other', async () => {
    network.isolated.add(EAST);
    network.isolated.add(OHIO);
    for (const region of REGIONS) {
      await expect(state(region).listRegionStatuses()).rejects.toBeInstanceOf(StateUnavailableError);
    }
  });

  it('does not count MRSC writes as replication backlog; state table writes still count', async () => {
    const marks = runtime.region(OHIO).deps.replication;
    if (!marks) throw new Error('replication is wired in the local runtime');
    const before = (await marks(OHIO).listMarks()).find((m) => m.region === OHIO)?.writes ?? 0;
    await state(OHIO).putRegionStatus(healthy(OHIO), undefined);
    await state(OHIO).createHandoff(handoff({ handoff_id: 'mrsc-count', target_region: OHIO }));
    const afterCritical = (await marks(OHIO).listMarks()).find((m) => m.region === OHIO)?.writes ?? 0;
    expect(afterCritical).toBe(before);
    await state(OHIO).putHeartbeat({ region: OHIO, seq: 1, at: scheduler.now() });
    const afterState = (await marks(OHIO).listMarks()).find((m) => m.region === OHIO)?.writes ?? 0;
    expect(afterState).toBe(before + 1);
  });

  it('settles and erases handoffs where they live: the critical table', async () => {
    const deps = runtime.region(OHIO).deps;
    await deps.state.createHandoff(
      handoff({
        handoff_id: 'mrsc-settle',
        target_region: OHIO,
        task: { ...handoff().task, subject_id: 'subject-7' },
      }),
    );
    const settled = await deps.resources?.settleHandoff('mrsc-settle', 'completed', { at: 1 });
    expect(settled?.handoff_id).toBe('mrsc-settle');
    expect((await state(WEST).getHandoff('mrsc-settle'))?.status).toBe('completed');

    const privacy = deps.privacy?.(OHIO);
    const found = await privacy?.findSubjectHandoffs('subject-7', [OHIO]);
    expect(found?.map((h) => h.handoff_id)).toEqual(['mrsc-settle']);
    expect(await privacy?.eraseHandoff('mrsc-settle', 'subject-7')).toBe(true);
    expect(await state(EAST).getHandoff('mrsc-settle')).toBeUndefined();
  });

  it('keeps the resource pools there: two regions racing for the last worker get one reservation', async () => {
    const resources = (region: string) => {
      const port = runtime.region(region).deps.resources;
      if (!port) throw new Error('the local runtime wires the resource pool');
      return port;
    };
    const pools = await readPools(runtime.topology, resources(OHIO), scheduler.now());
    const pool = pools.get(WEST);
    if (!pool) throw new Error('us-west-2 has a pool');
    // Leave one worker free in us-west-2's pool.
    await resources(WEST).reportUsage(
      WEST,
      pool.hour,
      { ...pool.usage, workers: pool.allocation.workers - 1 },
      new Date(scheduler.now()).toISOString(),
    );
    const current = (await resources(EAST).getPool(WEST, pool.hour)) as typeof pool;
    expect(current.usage.workers).toBe(pool.allocation.workers - 1);
    const one = { region: WEST, hour: pool.hour, workers: 1, tokens: 0, compute_units: 0 };
    const results = await Promise.allSettled([
      resources(EAST).reserve(one, current),
      resources(OHIO).reserve(one, current),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(lost?.reason).toBeInstanceOf(ConflictError);
    expect((await resources(WEST).getPool(WEST, pool.hour))?.usage.workers).toBe(pool.allocation.workers);
    await runtime.replication.flush({ all: true });
    expect(await recordTypes(EAST, CRITICAL)).toContain('region_pool');
    for (const region of REGIONS) expect(await recordTypes(region, STATE)).not.toContain('region_pool');
  });
});
