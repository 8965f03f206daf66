/**
 * Consistency checks on the local runtime: a copy corrupted in one region (without replicating it) is
 * found with every region's version, left alone unless reconciliation is asked for, and repaired by
 * its data type's rule: primary_wins (region statuses, handoffs), last_write_wins (heartbeats, views)
 * and vector_clock (document slots: the slot's own region).
 */
import { describe, expect, it } from 'vitest';
import { itemKey } from '../../lib/adapters/aws/dynamodb-replication.ts';
import { keys } from '../../lib/adapters/aws/state-keys.ts';
import { runConsistencyCheck } from '../../lib/app/replication/consistency-check.ts';
import { putDocument } from '../../lib/app/replication/versioned-store.ts';
import { useManualRuntime } from '../support/manual-time.ts';

const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';

const local = useManualRuntime('cortex-replication-check-');
const { deps, tick } = local;

const table = () => local.runtime.tableName;
/** us-east-1's status as us-east-1 wrote it: its own slot (lib/adapters/aws/dynamodb-state.ts). */
const STATUS = keys.regionStatus(US, US);
const STATUS_KEY = itemKey(STATUS.pk, STATUS.sk);
const HEARTBEAT_KEY = itemKey('HEARTBEAT', US);
const HANDOFF_KEY = itemKey('HANDOFF#cross-region-t-1', 'HANDOFF');
const SLOT_KEY = itemKey('DOC#settings', `SLOT#${EU}`);

/** Records of three data types written in their home regions, replicated everywhere, then left to settle. */
async function seed(): Promise<void> {
  const us = local.runtime.region(US).deps.state;
  await us.putRegionStatus(
    {
      region_id: US,
      status: 'healthy',
      role: 'active',
      epoch: 1,
      updated_at: new Date(local.scheduler.now()).toISOString(),
      updated_by: 'test',
    },
    undefined,
  );
  await us.putHeartbeat({ region: US, seq: 7, at: local.scheduler.now() });
  await us.createHandoff({
    handoff_id: 'cross-region-t-1',
    task_id: 't-1',
    source_region: US,
    target_region: EU,
    routing_score: 80,
    status: 'pending',
    created_at: new Date(local.scheduler.now()).toISOString(),
    task: { task_id: 't-1' },
    request_hash: 'h',
    decision: { candidates: [], excluded: [] },
  });
  await putDocument(deps(EU), 'settings', { content: { mode: 'fast' } });
  await tick(1_000);
  // Past the settle window (the asynchronous target, 30 s): nothing is still in flight.
  await tick(60_000);
}

async function corruptAll(): Promise<void> {
  // eu-west-1's copy of us-east-1's status says failed; ap-south-1's heartbeat copy is rolled back;
  // ap-south-1 lost the handoff; us-east-1's copy of eu-west-1's document slot was edited.
  await local.runtime.replication.corrupt(EU, table(), STATUS, { status: 'failed', epoch: 9 });
  await local.runtime.replication.corrupt(AP, table(), { pk: 'HEARTBEAT', sk: US }, { seq: 3 });
  await local.runtime.replication.corrupt(
    AP,
    table(),
    { pk: 'HANDOFF#cross-region-t-1', sk: 'HANDOFF' },
    null,
  );
  await local.runtime.replication.corrupt(
    US,
    table(),
    { pk: 'DOC#settings', sk: `SLOT#${EU}` },
    { revision: 42 },
  );
}

describe('consistency checks', () => {
  it('the local corruption changes one copy only and is never replicated', async () => {
    await seed();
    const change = await local.runtime.replication.corrupt(EU, table(), STATUS, { status: 'failed' });
    expect(change).toMatchObject({ region: EU, before: { status: 'healthy' }, after: { status: 'failed' } });
    await tick(60_000);
    expect((await local.runtime.region(EU).deps.state.getRegionStatus(US))?.status).toBe('failed');
    expect((await local.runtime.region(US).deps.state.getRegionStatus(US))?.status).toBe('healthy');
    expect((await local.runtime.region(AP).deps.state.getRegionStatus(US))?.status).toBe('healthy');
    await expect(local.runtime.replication.corrupt(EU, table(), STATUS, { sk: 'other' })).rejects.toThrow(
      /key attribute/,
    );
  });

  it('finds each corrupted key with every region version and changes nothing without reconcile', async () => {
    await seed();
    await corruptAll();
    const check = await runConsistencyCheck(
      deps(US),
      { sample_size: 100 },
      { trigger: 'api', random: () => 0.42 },
    );
    expect(check.inconsistent).toBe(4);
    expect(check.reconciled).toBe(0);
    expect(check.sampled).toBe(check.consistent + check.inconsistent);
    expect(check.regions).toEqual([US, EU, AP]);
    const byKey = Object.fromEntries(check.inconsistencies.map((i) => [i.key, i]));
    expect(Object.keys(byKey).sort()).toEqual([HANDOFF_KEY, SLOT_KEY, HEARTBEAT_KEY, STATUS_KEY].sort());
    expect(byKey[STATUS_KEY]).toMatchObject({
      record_type: 'region_status',
      data_type: 'master_state',
      rule: 'primary_wins',
    });
    expect(byKey[HEARTBEAT_KEY]).toMatchObject({ data_type: 'metrics', rule: 'last_write_wins' });
    expect(byKey[SLOT_KEY]).toMatchObject({ data_type: 'coordination_documents', rule: 'vector_clock' });
    const status = byKey[STATUS_KEY]?.copies ?? {};
    expect(status[US]?.checksum).toBe(status[AP]?.checksum);
    expect(status[EU]?.checksum).not.toBe(status[US]?.checksum);
    expect(byKey[HANDOFF_KEY]?.copies[AP]).toEqual({ present: false });
    expect(byKey[STATUS_KEY]?.reconciliation).toBeUndefined();
    expect((await local.runtime.region(EU).deps.state.getRegionStatus(US))?.status).toBe('failed');
    // The record is kept and readable, and an event says what was found.
    expect(await deps(US).replication(US).getCheck(check.check_id)).toEqual(check);
    const found = local.runtime.events
      .list()
      .find((e) => e.event.type === 'replication.inconsistency_detected');
    expect(found?.event.detail).toMatchObject({ check_id: check.check_id, inconsistent: 4 });
  });

  it('reconciles by each data type rule, records what it wrote, and the next check is clean', async () => {
    await seed();
    await corruptAll();
    // Sampled from ap-south-1's replica, the handoff it lost is not among the keys: another region's check finds it.
    const fromAp = await runConsistencyCheck(
      deps(AP),
      { sample_size: 100 },
      { trigger: 'api', random: () => 0.42 },
    );
    expect(fromAp.inconsistencies.map((i) => i.key)).not.toContain(HANDOFF_KEY);
    expect(fromAp.inconsistent).toBe(3);
    await tick(60_000);
    const check = await runConsistencyCheck(
      deps(US),
      { sample_size: 100, reconcile: true },
      { trigger: 'api', random: () => 0.42 },
    );
    expect(check.inconsistent).toBe(4);
    expect(check.reconciled).toBe(4);
    const byKey = Object.fromEntries(check.inconsistencies.map((i) => [i.key, i.reconciliation]));
    // primary_wins: us-east-1 is the primary (the topology's primary tier; no failover promoted another).
    expect(byKey[STATUS_KEY]).toMatchObject({
      rule: 'primary_wins',
      winner: US,
      writes: [{ region: EU, action: 'put', applied: true }],
    });
    expect(byKey[HANDOFF_KEY]).toMatchObject({
      winner: US,
      writes: [{ region: AP, action: 'put', applied: true }],
    });
    // last_write_wins: the copies claim the same write; the writing region's copy is the true one.
    expect(byKey[HEARTBEAT_KEY]).toMatchObject({
      rule: 'last_write_wins',
      winner: US,
      reason: expect.stringMatching(/equal write times; us-east-1 made the write/),
      writes: [{ region: AP, action: 'put', applied: true }],
    });
    // vector_clock: only eu-west-1 writes its slot.
    expect(byKey[SLOT_KEY]).toMatchObject({
      rule: 'vector_clock',
      winner: EU,
      writes: [{ region: US, applied: true }],
    });

    expect((await local.runtime.region(EU).deps.state.getRegionStatus(US))?.status).toBe('healthy');
    expect(
      (await local.runtime.region(AP).deps.state.listHeartbeats()).find((h) => h.region === US)?.seq,
    ).toBe(7);
    expect(await local.runtime.region(AP).deps.state.getHandoff('cross-region-t-1')).toBeDefined();
    expect(local.runtime.events.list().some((e) => e.event.type === 'replication.reconciled')).toBe(true);

    // The repairs replicate like any write; once they (and the check record) have settled, all agree.
    await tick(60_000);
    const again = await runConsistencyCheck(
      deps(EU),
      { sample_size: 10_000 },
      { trigger: 'api', random: () => 0.9 },
    );
    expect(again.inconsistencies).toEqual([]);
    expect(again.sampled).toBeGreaterThanOrEqual(5);
  });

  it('reports but does not reconcile a key written within the settle window', async () => {
    await seed();
    await local.runtime.region(US).deps.state.putHeartbeat({ region: US, seq: 8, at: local.scheduler.now() });
    // Not delivered yet: ap-south-1 and eu-west-1 still hold seq 7, as replication in flight would.
    const check = await runConsistencyCheck(
      deps(US),
      { sample_size: 100, reconcile: true },
      { trigger: 'api', random: () => 0.42 },
    );
    const heartbeat = check.inconsistencies.find((i) => i.key === HEARTBEAT_KEY);
    expect(heartbeat?.reconciliation).toMatchObject({
      writes: [],
      skipped: expect.stringMatching(/in flight/),
    });
    expect(check.reconciled).toBe(0);
  });
});
