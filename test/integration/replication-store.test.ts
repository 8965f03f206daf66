/**
 * The replication and document stores against dynalite: the mark (atomic write counter, heartbeat
 * with its ring), lag views, sampling, item copies and guarded repairs, check records, document
 * slots with their condition, conflicts recorded once, and the counting wrapper of the state port.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checksumOf,
  DynamoDocumentStore,
  DynamoReplicationStore,
  itemKey,
  parseItemKey,
} from '../../lib/adapters/aws/dynamodb-replication.ts';
import { DynamoStateAdapter } from '../../lib/adapters/aws/dynamodb-state.ts';
import { countingState } from '../../lib/app/replication/counting-state.ts';
import { ConflictError } from '../../lib/core/errors.ts';
import type { ConsistencyCheckRecord, DocumentSlot } from '../../lib/core/replication/records.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';

const US = 'us-east-1';
const T0 = Date.parse('2026-11-26T12:00:00Z');

let table: TestTable;
const now = T0;
const clock = { now: () => now };

function store(regionId = US): DynamoReplicationStore {
  return new DynamoReplicationStore({ client: table.doc, tableName: table.tableName, regionId, clock });
}

beforeAll(async () => {
  table = await startTestTable('replication-store-test');
});
afterAll(async () => {
  await table?.close();
});

describe('the region mark', () => {
  it('counts writes atomically and beats with increasing sequence numbers, keeping the last beats', async () => {
    const marks = store('eu-west-1');
    await Promise.all(Array.from({ length: 25 }, (_, i) => marks.countWrites(1, T0 + i)));
    await marks.countWrites(5, T0 + 100);
    const first = await marks.beat(T0 + 1_000, 5_000);
    const second = await marks.beat(T0 + 6_000, 5_000);
    expect(first.seq).toBe(1);
    expect(second).toMatchObject({
      region: 'eu-west-1',
      seq: 2,
      beat_at: T0 + 6_000,
      interval_ms: 5_000,
      writes: 30,
      written_at: T0 + 100,
      beats: [
        [1, T0 + 1_000],
        [2, T0 + 6_000],
      ],
    });
    // Two monitor runs beating at once still hand out distinct numbers.
    const [a, b] = await Promise.all([marks.beat(T0 + 7_000, 5_000), marks.beat(T0 + 7_001, 5_000)]);
    expect(new Set([a.seq, b.seq])).toEqual(new Set([3, 4]));
    for (let i = 0; i < 70; i++) await marks.beat(T0 + 10_000 + i, 5_000);
    const listed = (await marks.listMarks()).find((m) => m.region === 'eu-west-1');
    expect(listed?.seq).toBe(74);
    expect(listed?.beats).toHaveLength(64);
    expect(listed?.beats[63]?.[0]).toBe(74);
  });

  it('counts every write of a wrapped state port, after it succeeded', async () => {
    const marks = store('ap-south-1');
    const state = countingState(
      new DynamoStateAdapter({ client: table.doc, tableName: table.tableName }),
      marks,
      clock,
    );
    await state.putHeartbeat({ region: 'ap-south-1', seq: 1, at: T0 });
    await state.putRegionStatus(
      {
        region_id: 'ap-south-1',
        status: 'healthy',
        role: 'active',
        epoch: 1,
        updated_at: 'x',
        updated_by: 'test',
      },
      undefined,
    );
    // A refused write (the epoch conflict) is not counted; reads are not counted.
    await expect(
      state.putRegionStatus(
        {
          region_id: 'ap-south-1',
          status: 'healthy',
          role: 'active',
          epoch: 2,
          updated_at: 'x',
          updated_by: 'test',
        },
        undefined,
      ),
    ).rejects.toBeInstanceOf(ConflictError);
    await state.listHeartbeats();
    const mark = (await marks.listMarks()).find((m) => m.region === 'ap-south-1');
    expect(mark?.writes).toBe(2);
    expect(mark?.seq).toBe(0);
  });
});

describe('items for consistency checks', () => {
  beforeAll(async () => {
    for (let i = 0; i < 30; i++) {
      await table.doc.send(
        new PutCommand({
          TableName: table.tableName,
          Item: { pk: `SAMPLE-TEST#${i}`, sk: 'ITEM', record_type: 'heartbeat', n: i, at: T0 + i },
        }),
      );
    }
  });

  it('samples from a random start, wraps around, and never samples replication marks', async () => {
    const marks = store();
    await marks.countWrites(1, T0);
    const all = await marks.sampleKeys(10_000, 0.3);
    expect(all).not.toContain(itemKey('REPLICATION', `MARK#${US}`));
    expect(new Set(all).size).toBe(all.length);
    expect(all.filter((k) => k.startsWith('SAMPLE-TEST#'))).toHaveLength(30);
    const few = await marks.sampleKeys(5, 0.7);
    expect(few).toHaveLength(5);
    expect(await marks.sampleKeys(5, 0.7)).toEqual(few);
    expect(await marks.sampleKeys(5, 0.1)).not.toEqual(few);
  });

  it('reads copies with checksums of the content alone, and repairs only a copy that did not change', async () => {
    const marks = store();
    const key = itemKey('SAMPLE-TEST#3', 'ITEM');
    const copies = await marks.readCopies([key, itemKey('NOPE', 'ITEM')]);
    const copy = copies.get(key);
    expect(copies.size).toBe(1);
    expect(copy).toMatchObject({ key, record_type: 'heartbeat', write_time: T0 + 3 });
    // Attribute order and replication metadata do not change a checksum; content does.
    expect(checksumOf({ b: 1, a: [1, { y: 2, x: 1 }] })).toBe(checksumOf({ a: [1, { x: 1, y: 2 }], b: 1 }));
    expect(checksumOf({ a: 1, 'aws:rep:updatetime': 5 })).toBe(checksumOf({ a: 1 }));
    expect(checksumOf({ a: 1 })).not.toBe(checksumOf({ a: 2 }));
    expect(parseItemKey(key)).toEqual({ pk: 'SAMPLE-TEST#3', sk: 'ITEM' });

    const replacement = { ...(copy?.image as Record<string, unknown>), n: 99 };
    // Someone wrote meanwhile: the repair leaves it alone.
    expect(await marks.repair(key, replacement, 'not-the-checksum')).toBe(false);
    expect(await marks.repair(key, replacement, copy?.checksum)).toBe(true);
    expect((await marks.readCopies([key])).get(key)?.checksum).toBe(checksumOf(replacement));
    // A missing copy is created only if still missing; a delete removes it.
    const gone = itemKey('SAMPLE-TEST#gone', 'ITEM');
    expect(await marks.repair(gone, { pk: 'SAMPLE-TEST#gone', sk: 'ITEM', n: 1 }, undefined)).toBe(true);
    expect(await marks.repair(gone, { pk: 'SAMPLE-TEST#gone', sk: 'ITEM', n: 2 }, undefined)).toBe(false);
    const created = (await marks.readCopies([gone])).get(gone);
    expect(await marks.repair(gone, undefined, created?.checksum)).toBe(true);
    expect((await marks.readCopies([gone])).size).toBe(0);
    await expect(marks.repair(key, { pk: 'OTHER', sk: 'ITEM' }, checksumOf(replacement))).rejects.toThrow(
      /not item/,
    );
  });

  it('keeps check records and lag views', async () => {
    const marks = store();
    const record = {
      check_id: 'check-us-east-1-abc-0001',
      observer: US,
      trigger: 'api',
      reconcile: false,
      regions: [US],
      sample_size: 100,
      sampled: 3,
      consistent: 3,
      inconsistent: 0,
      reconciled: 0,
      unreachable: [],
      inconsistencies: [],
      truncated: 0,
      started_at: new Date(T0).toISOString(),
      finished_at: new Date(T0).toISOString(),
      duration_ms: 0,
    } satisfies ConsistencyCheckRecord;
    await marks.putCheck(record);
    expect(await marks.getCheck(record.check_id)).toEqual(record);
    await expect(marks.putCheck(record)).rejects.toMatchObject({ code: 'CHECK_EXISTS' });
    expect(await marks.getCheck('check-none')).toBeUndefined();
    await marks.putLagView({
      source: 'eu-west-1',
      replica: US,
      status: 'ok',
      known_status: 'ok',
      since: 'x',
      lag_records: 0,
      lag_seconds: 0,
      updated_at: 'x',
    });
    expect((await marks.listLagViews()).map((v) => `${v.source}->${v.replica}`)).toEqual([
      `eu-west-1->${US}`,
    ]);
  });
});

describe('document slots', () => {
  const slot = (revision: number, updatedAt: string): DocumentSlot => ({
    key: 'settings',
    region: US,
    versions: [
      {
        dot: { region: US, counter: revision },
        context: {},
        content: { v: revision },
        written_at: updatedAt,
        written_by: US,
      },
    ],
    revision,
    updated_at: updatedAt,
  });

  it('writes a region slot only from the revision it read, and lists recently changed documents', async () => {
    const before = (await store().listMarks()).find((m) => m.region === US)?.writes ?? 0;
    const documents = new DynamoDocumentStore({
      client: table.doc,
      tableName: table.tableName,
      counter: store(),
      clock,
    });
    await documents.putSlot(slot(1, '2026-11-26T12:00:00.000Z'), undefined);
    await expect(documents.putSlot(slot(1, '2026-11-26T12:00:01.000Z'), undefined)).rejects.toMatchObject({
      code: 'DOCUMENT_CHANGED',
    });
    await documents.putSlot(slot(2, '2026-11-26T12:00:02.000Z'), 1);
    await expect(documents.putSlot(slot(3, '2026-11-26T12:00:03.000Z'), 1)).rejects.toMatchObject({
      code: 'DOCUMENT_CHANGED',
      current: { revision: 2 },
    });
    expect(await documents.getSlots('settings')).toEqual([slot(2, '2026-11-26T12:00:02.000Z')]);
    expect(await documents.listChangedKeys('2026-11-26T12:00:00.500Z')).toEqual(['settings']);
    expect(await documents.listChangedKeys('2026-11-26T12:00:05.000Z')).toEqual([]);
    const conflict = {
      key: 'settings',
      conflict_id: 'conflict-1',
      vectors: [{ [US]: 2 }, { 'eu-west-1': 1 }],
      written_by: [US, 'eu-west-1'],
      kind: 'concurrent_writes',
      detected_at: 'x',
      detected_by: US,
    } as const;
    expect(await documents.recordConflict(conflict)).toBe(true);
    expect(await documents.recordConflict(conflict)).toBe(false);
    expect(await documents.listConflicts('settings')).toEqual([conflict]);
    // Each document write is counted on the region mark too (two slots, one conflict).
    const after = (await store().listMarks()).find((m) => m.region === US)?.writes ?? 0;
    expect(after - before).toBe(3);
  });
});
