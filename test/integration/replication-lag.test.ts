/**
 * The lag monitor on the local runtime (one dynalite per region, replication like a global table) in
 * time that moves only when the test says so: lag measured under an injected lag and under a paused
 * link, in records and seconds, with events on crossing and recovery.
 */
import { describe, expect, it } from 'vitest';
import { readReplicationLag, runReplicationRound } from '../../lib/app/replication/monitor.ts';
import { useManualRuntime } from '../support/manual-time.ts';

const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';

const local = useManualRuntime('cortex-replication-lag-');
const { deps, tick } = local;

async function pairAt(observer: string, source: string, replica: string) {
  const reading = await readReplicationLag(deps(observer));
  const pair = reading.pairs.find((p) => p.source === source && p.replica === replica);
  if (!pair) throw new Error(`no pair ${source} -> ${replica}`);
  return pair;
}

function eventsOf(type: string) {
  return local.runtime.events
    .list()
    .map((e) => e.event)
    .filter((e) => e.type === type);
}

/** Every region beats once and everything is delivered: all links start caught up. */
async function settle(intervalMs: number): Promise<void> {
  for (const region of [US, EU, AP]) await runReplicationRound(deps(region), { intervalMs });
  await tick(1_000);
  for (const region of [US, EU, AP]) await runReplicationRound(deps(region), { intervalMs });
  await tick(1_000);
}

describe('the lag monitor on the local replication', () => {
  it('measures an injected lag per link, within one beat interval, and only on that link', async () => {
    await settle(1_000);
    expect((await pairAt(EU, US, EU)).lag_seconds).toBe(0);
    local.runtime.replication.setLag(US, EU, 5_000);
    for (let s = 0; s < 20; s++) {
      await runReplicationRound(deps(US), { intervalMs: 1_000 });
      await tick(1_000);
      if (s < 8) continue;
      const lagged = await pairAt(EU, US, EU);
      // The oldest beat eu-west-1 lacks was written 4 s ago (the one of 5 s ago just arrived).
      expect(lagged.lag_seconds).toBeGreaterThanOrEqual(4);
      expect(lagged.lag_seconds).toBeLessThanOrEqual(5);
      expect(lagged.replica_seq).toBe((lagged.source_seq ?? 0) - 4);
      expect(lagged.status).toBe('over_sync_target');
    }
    // The other link from us-east-1 keeps its 200 ms: delivered within each 1 s tick.
    expect(await pairAt(AP, US, AP)).toMatchObject({ lag_seconds: 0, lag_records: 0, status: 'ok' });
    // Measured from any region alike: the reading comes from the replicas, not from the observer.
    expect((await pairAt(AP, US, EU)).lag_seconds).toBe((await pairAt(EU, US, EU)).lag_seconds);

    const round = await runReplicationRound(deps(EU), { intervalMs: 1_000 });
    expect(round.links.find((l) => l.source === US)?.status).toBe('over_sync_target');
    expect(eventsOf('replication.lag_exceeded').map((e) => e.detail)).toEqual([
      expect.objectContaining({ source: US, replica: EU, status: 'over_sync_target', previous: 'ok' }),
    ]);
  });

  it('measures a paused link in records and seconds, alerts once, and recovers on resume', async () => {
    await settle(5_000);
    const pausedAt = local.scheduler.now();
    local.runtime.replication.pause(US, EU);
    const state = local.runtime.region(US).deps.state;
    for (let i = 0; i < 12; i++) {
      await runReplicationRound(deps(US), { intervalMs: 5_000 });
      if (i < 7) await state.putHeartbeat({ region: US, seq: 100 + i, at: local.scheduler.now() });
      await tick(5_000);
    }
    const paused = await pairAt(AP, US, EU);
    expect(paused).toMatchObject({
      lag_records: 7,
      // The first beat after the pause was written the moment the link paused, 60 s ago.
      lag_seconds: (local.scheduler.now() - pausedAt) / 1000,
      lag_lower_bound: false,
      source_seq: 14,
      replica_seq: 2,
      status: 'over_async_target',
    });
    expect(paused.data_loss_window_seconds).toBeGreaterThanOrEqual(55);
    // The other directions keep flowing.
    expect(await pairAt(AP, EU, US)).toMatchObject({ lag_seconds: 0, status: 'ok' });
    expect(await pairAt(AP, US, AP)).toMatchObject({ lag_records: 0, status: 'ok' });

    // Only eu-west-1 judges the link into its replica: one event, however many regions read it.
    await runReplicationRound(deps(AP), { intervalMs: 5_000 });
    await runReplicationRound(deps(EU), { intervalMs: 5_000 });
    await runReplicationRound(deps(EU), { intervalMs: 5_000 });
    expect(eventsOf('replication.lag_exceeded')).toHaveLength(1);
    expect(eventsOf('replication.lag_exceeded')[0]?.detail).toMatchObject({
      source: US,
      replica: EU,
      status: 'over_async_target',
      lag_records: 7,
    });

    local.runtime.replication.resume(US, EU);
    await tick(0);
    await runReplicationRound(deps(EU), { intervalMs: 5_000 });
    expect(await pairAt(EU, US, EU)).toMatchObject({ lag_records: 0, lag_seconds: 0, status: 'ok' });
    expect(eventsOf('replication.lag_recovered').map((e) => e.detail)).toEqual([
      expect.objectContaining({ source: US, replica: EU, status: 'ok', previous: 'over_async_target' }),
    ]);
    // eu-west-1's view of the link (when it entered its status) reaches every replica like any write.
    await tick(1_000);
    const reading = await readReplicationLag(deps(US));
    expect(reading.pairs).toHaveLength(6);
    expect(reading.pairs.find((p) => p.source === US && p.replica === EU)?.since).toBeDefined();
  });

  it('keeps a pair unknown, without events, while the source replica cannot be reached', async () => {
    await settle(5_000);
    const unreachable = {
      ...deps(EU),
      replication: (region: string) => {
        if (region === US) throw new Error('us-east-1 is partitioned away');
        return deps(EU).replication(region);
      },
    };
    const reading = await readReplicationLag(unreachable);
    expect(reading.unreachable).toEqual([{ region: US, error: 'us-east-1 is partitioned away' }]);
    expect(reading.pairs.find((p) => p.source === US && p.replica === EU)).toMatchObject({
      status: 'unknown',
      lag_seconds: null,
    });
    const round = await runReplicationRound(unreachable, { intervalMs: 5_000 });
    expect(round.events).toEqual([]);
  });
});
