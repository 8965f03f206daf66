/** The latency matrix adapter against dynalite: one item per ordered pair, read whole, keys hidden. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoLatencyAdapter } from '../../lib/adapters/aws/dynamodb-latency.ts';
import { type LatencyEntry, updateEntry } from '../../lib/core/latency/stats.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';

const SLA = { p50_target_ms: 100, p95_target_ms: 250, p99_target_ms: 500 };

function entry(from: string, to: string, samples: number[], now = 1_000): LatencyEntry {
  const made = updateEntry(undefined, { from, to, samples, failures: 0, now }, SLA);
  if (!made) throw new Error('no entry');
  return made;
}

describe('DynamoLatencyAdapter', () => {
  let table: TestTable;
  let store: DynamoLatencyAdapter;

  beforeAll(async () => {
    table = await startTestTable();
    store = new DynamoLatencyAdapter({ client: table.doc, tableName: table.tableName });
  });

  afterAll(async () => {
    await table.close();
  });

  it('stores one entry per ordered pair; a later write of a pair replaces it', async () => {
    await store.putLatency(entry('us-east-1', 'eu-west-1', [80, 81]));
    await store.putLatency(entry('eu-west-1', 'us-east-1', [79]));
    await store.putLatency(entry('us-east-1', 'eu-west-1', [300], 2_000));
    const all = await store.listLatency();
    expect(all).toHaveLength(2);
    const pair = all.find((e) => e.from === 'us-east-1' && e.to === 'eu-west-1');
    expect(pair).toEqual(entry('us-east-1', 'eu-west-1', [300], 2_000));
    expect(Object.keys(pair ?? {})).not.toContain('pk');
  });

  it('reads every page of a large matrix (35 regions: 1190 pairs)', async () => {
    const ids = Array.from({ length: 35 }, (_, i) => `syn-${i}`);
    const window = Array.from({ length: 30 }, (_, i) => 100 + i);
    const writes: Promise<void>[] = [];
    for (const from of ids) {
      for (const to of ids) if (from !== to) writes.push(store.putLatency(entry(from, to, window)));
    }
    await Promise.all(writes);
    const all = await store.listLatency();
    expect(all.filter((e) => e.from.startsWith('syn-'))).toHaveLength(35 * 34);
  });

  it('needs a table name', () => {
    expect(() => new DynamoLatencyAdapter({ client: table.doc, tableName: '' })).toThrow(/tableName/);
  });
});
