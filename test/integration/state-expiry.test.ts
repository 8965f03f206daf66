/**
 * Records the plane no longer needs expire, as with DynamoDB TTL on AWS: a consistency check's record
 * carries `expires_at` a week on, reads as absent once past it, and the local sweep (dynalite has no
 * TTL) deletes it while leaving everything without an expiry alone.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHECK_RETENTION_SECONDS,
  DynamoReplicationStore,
} from '../../lib/adapters/aws/dynamodb-replication.ts';
import type { ConsistencyCheckRecord } from '../../lib/core/replication/records.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';

const T0 = Date.parse('2026-11-26T12:00:00Z');
let table: TestTable;
let now = T0;

beforeAll(async () => {
  table = await startTestTable();
});

afterAll(async () => {
  await table.close();
});

function check(id: string): ConsistencyCheckRecord {
  return {
    check_id: id,
    observer: 'us-east-1',
    trigger: 'schedule',
    reconcile: false,
    regions: ['us-east-1'],
    sample_size: 100,
    sampled: 0,
    consistent: 0,
    inconsistent: 0,
    reconciled: 0,
    unreachable: [],
    inconsistencies: [],
    truncated: 0,
    started_at: new Date(now).toISOString(),
    finished_at: new Date(now).toISOString(),
    duration_ms: 0,
  };
}

describe('expiring state records', () => {
  it('a consistency check expires a week after it ran: absent to readers, then swept', async () => {
    const marks = new DynamoReplicationStore({
      client: table.doc,
      tableName: table.tableName,
      regionId: 'us-east-1',
      clock: { now: () => now },
    });
    const record = check('check-expiry-1');
    await marks.putCheck(record);
    await table.doc.send(
      new PutCommand({ TableName: table.tableName, Item: { pk: 'KEEP#1', sk: 'KEEP', value: 1 } }),
    );
    const stored = await table.doc.send(
      new GetCommand({ TableName: table.tableName, Key: { pk: 'CHECK#check-expiry-1', sk: 'CHECK' } }),
    );
    expect(stored.Item?.expires_at).toBe(Math.floor(T0 / 1000) + CHECK_RETENTION_SECONDS);
    expect(await marks.getCheck(record.check_id)).toEqual(record);
    expect(await marks.sweepExpired()).toBe(0);

    now = T0 + CHECK_RETENTION_SECONDS * 1000 + 1_000;
    expect(await marks.getCheck(record.check_id)).toBeUndefined();
    expect(await marks.sweepExpired()).toBe(1);
    const gone = await table.doc.send(
      new GetCommand({ TableName: table.tableName, Key: { pk: 'CHECK#check-expiry-1', sk: 'CHECK' } }),
    );
    expect(gone.Item).toBeUndefined();
    const kept = await table.doc.send(
      new GetCommand({ TableName: table.tableName, Key: { pk: 'KEEP#1', sk: 'KEEP' } }),
    );
    expect(kept.Item).toMatchObject({ value: 1 });
  });
});
