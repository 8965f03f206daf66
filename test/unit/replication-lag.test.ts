import { describe, expect, it } from 'vitest';
import {
  ALERT_RECORDS,
  type LagThresholds,
  lagThresholds,
  lagTransition,
  measureAllPairs,
  measurePair,
  newestPosition,
  nextBeats,
  readReplica,
} from '../../lib/core/replication/lag.ts';
import type { ReplicationMark } from '../../lib/core/replication/records.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';

const US = 'us-east-1';
const EU = 'eu-west-1';
const T0 = Date.parse('2026-11-26T12:00:00Z');
const THRESHOLDS: LagThresholds = lagThresholds(validateTopology(defaultTopologyJson()));

/** A mark after `seq` beats every `interval` ms from T0, with `writes` counted (the last at `writtenAt`). */
function mark(
  seq: number,
  options: { interval?: number; writes?: number; writtenAt?: number } = {},
): ReplicationMark {
  const interval = options.interval ?? 5_000;
  let beats: [number, number][] = [];
  for (let s = 1; s <= seq; s++) beats = nextBeats(beats, s, T0 + s * interval, 64);
  return {
    region: US,
    seq,
    beat_at: seq === 0 ? 0 : T0 + seq * interval,
    beats,
    interval_ms: interval,
    writes: options.writes ?? 0,
    written_at: options.writtenAt ?? 0,
  };
}

function pair(atSource: ReplicationMark | undefined, atReplica: ReplicationMark | undefined, now: number) {
  return measurePair({ source: US, replica: EU, atSource, atReplica, now, thresholds: THRESHOLDS });
}

describe('replication lag from marks', () => {
  it('takes the spec targets and alert thresholds from the topology', () => {
    expect(THRESHOLDS).toEqual({
      synchronous_seconds: 1,
      asynchronous_seconds: 30,
      alert_records: 10_000,
      alert_seconds: 300,
    });
  });

  it('is 0 when the replica holds the source mark as the source has it', () => {
    const now = T0 + 12_000;
    const reading = pair(
      mark(2, { writes: 7, writtenAt: T0 + 9_000 }),
      mark(2, { writes: 7, writtenAt: T0 + 9_000 }),
      now,
    );
    expect(reading).toMatchObject({
      source_seq: 2,
      replica_seq: 2,
      lag_records: 0,
      lag_seconds: 0,
      age_seconds: 2,
      data_loss_window_seconds: 0,
      status: 'ok',
      meets: { synchronous: true, asynchronous: true },
    });
  });

  it('is the pending time of the first heartbeat the replica lacks, exactly', () => {
    // Beats every 5 s; the replica holds beat 4 (T0+20 s) of 10; beat 5 was written at T0+25 s.
    const now = T0 + 52_000;
    const reading = pair(
      mark(10, { writes: 40, writtenAt: T0 + 49_000 }),
      mark(4, { writes: 16, writtenAt: T0 + 19_000 }),
      now,
    );
    expect(reading.lag_seconds).toBe(27);
    expect(reading.lag_lower_bound).toBe(false);
    expect(reading.lag_records).toBe(24);
    expect(reading.age_seconds).toBe(32);
    // What a failover to the replica would lose now: the source's last change minus the replica's.
    expect(reading.data_loss_window_seconds).toBe(30);
    expect(reading.status).toBe('over_sync_target');
    expect(reading.meets).toEqual({ synchronous: false, asynchronous: true });
  });

  it('says when only a lower bound is known (the first missing beat left the ring)', () => {
    const source = mark(100, { interval: 5_000 });
    const reading = pair(source, mark(3), T0 + 501_000);
    expect(reading.lag_lower_bound).toBe(true);
    // The oldest kept beat is #37 (T0+185 s): the replica has been behind at least 316 s.
    expect(reading.lag_seconds).toBe(316);
    expect(reading.status).toBe('alert');
  });

  it('measures writes made after the last beat by the last write (exact for one)', () => {
    const source = mark(3, { writes: 11, writtenAt: T0 + 16_000 });
    const replica = mark(3, { writes: 10, writtenAt: T0 + 14_000 });
    expect(pair(source, replica, T0 + 16_500)).toMatchObject({
      lag_records: 1,
      lag_seconds: 0.5,
      lag_lower_bound: false,
    });
    const several = pair({ ...source, writes: 14 }, replica, T0 + 18_000);
    expect(several).toMatchObject({
      lag_records: 4,
      lag_seconds: 2,
      lag_lower_bound: true,
      status: 'over_sync_target',
    });
  });

  it('raises the spec alert over 10,000 records or 300 s, and the targets in between', () => {
    const records = pair(mark(1, { writes: ALERT_RECORDS + 1, writtenAt: T0 + 5_000 }), mark(1), T0 + 5_100);
    expect(records.status).toBe('alert');
    expect(records.reasons[0]).toMatch(/10001 records behind \(alert above 10000\)/);
    expect(pair(mark(8), mark(1), T0 + 45_000).status).toBe('over_async_target');
    expect(pair(mark(80), mark(10), T0 + 400_000).status).toBe('alert');
  });

  it('is unknown, never ok, when the source mark cannot be read', () => {
    const reading = measurePair({
      source: US,
      replica: EU,
      atSource: undefined,
      sourceError: 'us-east-1 cannot be reached',
      atReplica: mark(3),
      now: T0 + 20_000,
      thresholds: THRESHOLDS,
    });
    expect(reading).toMatchObject({
      status: 'unknown',
      lag_seconds: null,
      lag_records: null,
      age_seconds: 5,
    });
    expect(reading.reasons[0]).toMatch(/cannot be reached/);
  });

  it('counts every write as missing when the replica never received the mark', () => {
    const reading = pair(mark(2, { writes: 5, writtenAt: T0 + 9_000 }), undefined, T0 + 11_000);
    expect(reading).toMatchObject({
      lag_records: 5,
      lag_seconds: 6,
      replica_seq: null,
      status: 'over_sync_target',
    });
    expect(reading.reasons).toContain(`${EU}'s replica holds no mark of ${US} yet`);
  });

  it('measures every ordered pair and marks pairs of an unreadable replica unknown', () => {
    const marks = new Map([[US, mark(2)]]);
    const pairs = measureAllPairs({
      regions: [US, EU],
      marks: { [US]: marks, [EU]: { error: 'timeout' } },
      now: T0 + 10_000,
      thresholds: THRESHOLDS,
    });
    expect(pairs.map((p) => `${p.source}->${p.replica}:${p.status}`)).toEqual([
      `${US}->${EU}:unknown`,
      `${EU}->${US}:unknown`,
    ]);
    expect(pairs[0]?.reasons[0]).toMatch(/eu-west-1's replica cannot be read: timeout/);
  });

  it('turns status changes into crossing and recovery, never on unknown', () => {
    expect(lagTransition(undefined, 'ok')).toBeUndefined();
    expect(lagTransition(undefined, 'over_async_target')).toBe('exceeded');
    expect(lagTransition('over_sync_target', 'alert')).toBe('exceeded');
    expect(lagTransition('alert', 'over_async_target')).toBe('recovered');
    expect(lagTransition('alert', 'ok')).toBe('recovered');
    expect(lagTransition('alert', 'unknown')).toBeUndefined();
    expect(lagTransition('ok', 'ok')).toBeUndefined();
  });

  it('is the failover sync step reading: newest known marker and how far a replica lags it', () => {
    const known = newestPosition(
      US,
      [
        { region: US, seq: 4, at: T0 + 40_000 },
        { region: EU, seq: 9, at: T0 + 90_000 },
      ],
      [{ seq: 6, at: T0 + 60_000 }, undefined, { seq: 5, at: T0 + 50_000 }],
    );
    expect(known).toEqual({ seq: 6, at: T0 + 60_000 });
    expect(readReplica(known as { seq: number; at: number }, { seq: 6, at: T0 + 60_000 }).caught_up).toBe(
      true,
    );
    expect(readReplica({ seq: 6, at: T0 + 60_000 }, { seq: 4, at: T0 + 40_000 })).toEqual({
      caught_up: false,
      missing: 2,
      window_ms: 20_000,
    });
    expect(newestPosition(AP_ONLY, [], [])).toBeUndefined();
  });
});

const AP_ONLY = 'ap-south-1';
