import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoStateAdapter, type DynamoStateOptions } from '../../lib/adapters/aws/dynamodb-state.ts';
import { keys } from '../../lib/adapters/aws/state-keys.ts';
import { createStateTable } from '../../lib/adapters/aws/state-table.ts';
import { ConflictError } from '../../lib/core/errors.ts';
import type { RegionStatusRecord } from '../../lib/core/state/records.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';
import { failover, handoff, stateContract, status, view } from './state.contract.ts';

const CRITICAL = 'cortex-critical';

/** A status slot item as `writer`'s replica holds it, put unconditionally (a replicated write). */
async function putSlot(
  doc: DynamoDBDocumentClient,
  tableName: string,
  writer: string,
  record: RegionStatusRecord,
): Promise<void> {
  await doc.send(
    new PutCommand({
      TableName: tableName,
      Item: {
        ...keys.regionStatus(record.region_id, writer),
        record_type: 'region_status',
        ...record,
        writer,
      },
    }),
  );
}

stateContract('DynamoStateAdapter on dynalite', async () => {
  const table = await startTestTable();
  const options: DynamoStateOptions = { client: table.doc, tableName: table.tableName };
  return {
    state: new DynamoStateAdapter(options),
    stateAs: (writer) => new DynamoStateAdapter({ ...options, writer }),
    replicated: (writer, record) => putSlot(table.doc, table.tableName, writer, record),
    reset: async () => {
      const { Items = [] } = await table.doc.send(new ScanCommand({ TableName: table.tableName }));
      for (const item of Items) {
        await table.doc.send(
          new DeleteCommand({ TableName: table.tableName, Key: { pk: item.pk, sk: item.sk } }),
        );
      }
    },
    close: () => table.close(),
  };
});

// With an MRSC table, the synchronous data types' records (statuses, failovers, handoffs)
// live in `<name>-critical`; the port behaves the same whichever table holds a record type.
stateContract('DynamoStateAdapter on dynalite, synchronous records in the critical table', async () => {
  const table = await startTestTable();
  await createStateTable(table.client, CRITICAL);
  const critical = { client: table.doc, tableName: CRITICAL };
  const options: DynamoStateOptions = {
    client: table.doc,
    tableName: table.tableName,
    records: { region_status: critical, failover: critical, handoff: critical },
  };
  return {
    state: new DynamoStateAdapter(options),
    stateAs: (writer) => new DynamoStateAdapter({ ...options, writer }),
    replicated: (writer, record) => putSlot(table.doc, CRITICAL, writer, record),
    reset: async () => {
      for (const name of [table.tableName, CRITICAL]) {
        const { Items = [] } = await table.doc.send(new ScanCommand({ TableName: name }));
        for (const item of Items) {
          await table.doc.send(new DeleteCommand({ TableName: name, Key: { pk: item.pk, sk: item.sk } }));
        }
      }
    },
    close: () => table.close(),
  };
});

describe('DynamoStateAdapter specifics', () => {
  let table: TestTable;
  beforeAll(async () => {
    table = await startTestTable();
  });
  afterAll(() => table.close());

  it('rethrows errors it does not translate (a missing table is not a conflict)', async () => {
    const adapter = new DynamoStateAdapter({ client: table.doc, tableName: 'no-such-table' });
    const error = await adapter.createHandoff(handoff()).catch((e) => e);
    expect(error.name).toBe('ResourceNotFoundException');
  });

  it('hides replication metadata and key attributes from records', async () => {
    const adapter = new DynamoStateAdapter({ client: table.doc, tableName: table.tableName });
    await table.doc.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          pk: 'HANDOFF#cross-region-x',
          sk: 'HANDOFF',
          'aws:rep:updatetime': 1,
          ...handoff({ handoff_id: 'cross-region-x' }),
        },
      }),
    );
    const stored = await adapter.getHandoff('cross-region-x');
    expect(stored).toEqual(handoff({ handoff_id: 'cross-region-x' }));
  });

  it('requires a table name', () => {
    expect(() => new DynamoStateAdapter({ client: table.doc, tableName: '' })).toThrow(/tableName/);
    const records = { handoff: { client: table.doc, tableName: '' } };
    expect(() => new DynamoStateAdapter({ client: table.doc, tableName: 'x-state', records })).toThrow(
      /records\.handoff\.tableName/,
    );
  });

  it('writes each record type to its own table: synchronous ones to the critical table only', async () => {
    await createStateTable(table.client, CRITICAL);
    const critical = { client: table.doc, tableName: CRITICAL };
    const adapter = new DynamoStateAdapter({
      client: table.doc,
      tableName: table.tableName,
      records: { region_status: critical, failover: critical, handoff: critical },
    });
    await adapter.putRegionStatus(status({ region_id: 'us-east-2' }), undefined);
    await adapter.createHandoff(handoff({ handoff_id: 'split-1' }));
    await adapter.createFailover(failover({ failover_id: 'failover-us-east-2-e1' }));
    await adapter.putTargetHealth(view());
    await adapter.putHeartbeat({ region: 'us-east-2', seq: 1, at: 1 });
    const typesIn = async (name: string) => {
      const { Items = [] } = await table.doc.send(new ScanCommand({ TableName: name }));
      return [...new Set(Items.map((item) => String(item.record_type)))].sort();
    };
    expect(await typesIn(CRITICAL)).toEqual(['failover', 'handoff', 'region_status']);
    const inState = await typesIn(table.tableName);
    expect(inState).toEqual(expect.arrayContaining(['heartbeat', 'target_health']));
    expect(inState).not.toContain('region_status');
    expect(inState).not.toContain('failover');
    expect(adapter.tableOf('handoff').tableName).toBe(CRITICAL);
    expect(adapter.tableOf('heartbeat').tableName).toBe(table.tableName);
  });
});

describe('DynamoStateAdapter region status slots', () => {
  let table: TestTable;
  beforeAll(async () => {
    table = await startTestTable();
  });
  afterAll(() => table.close());
  beforeEach(async () => {
    const { Items = [] } = await table.doc.send(new ScanCommand({ TableName: table.tableName }));
    for (const item of Items) {
      await table.doc.send(
        new DeleteCommand({ TableName: table.tableName, Key: { pk: item.pk, sk: item.sk } }),
      );
    }
  });

  const adapter = (writer?: string) =>
    new DynamoStateAdapter({ client: table.doc, tableName: table.tableName, ...(writer ? { writer } : {}) });
  const items = async () => {
    const { Items = [] } = await table.doc.send(new ScanCommand({ TableName: table.tableName }));
    return Items.filter((item) => item.pk === 'REGION');
  };
  /** The single item per region older versions wrote (still in local data dirs). */
  const putLegacy = (record: RegionStatusRecord) =>
    table.doc.send(
      new PutCommand({
        TableName: table.tableName,
        Item: { ...keys.legacyRegionStatus(record.region_id), record_type: 'region_status', ...record },
      }),
    );

  // Invariant: each writer writes only its own slot, so no two regions ever write one item (last
  // writer wins between replicas cannot drop a write); the record read back has no slot fields.
  it("writes the writer's own slot under the REGION partition and reads back the plain record", async () => {
    await adapter('us-east-1').putRegionStatus(status({ epoch: 1 }), undefined);
    await adapter('ap-south-1').putRegionStatus(status({ status: 'failed', epoch: 2 }), 1);
    expect((await items()).map((item) => [item.sk, item.writer, item.epoch])).toEqual([
      ['eu-west-1#ap-south-1', 'ap-south-1', 2],
      ['eu-west-1#us-east-1', 'us-east-1', 1],
    ]);
    expect(await adapter('us-east-1').getRegionStatus('eu-west-1')).toEqual(
      status({ status: 'failed', epoch: 2 }),
    );
    expect(await adapter().putRegionStatus(status({ epoch: 3 }), 2)).toBeUndefined();
    expect((await items()).map((item) => item.sk)).toContain('eu-west-1#_');
  });

  // Invariant: records written by older versions keep counting, so an upgrade never moves an epoch back.
  it('reads the legacy single item as one more slot, and never writes it', async () => {
    const legacy = status({ status: 'draining', epoch: 4, updated_by: 'failover@us-east-1' });
    await putLegacy(legacy);
    await putLegacy(status({ region_id: 'us-east-1', epoch: 2 }));
    expect(await adapter('eu-west-1').getRegionStatus('eu-west-1')).toEqual(legacy);
    expect(await adapter().listRegionStatuses()).toEqual([
      legacy,
      status({ region_id: 'us-east-1', epoch: 2 }),
    ]);

    const stale = await adapter('eu-west-1')
      .putRegionStatus(status({ epoch: 4 }), 3)
      .catch((e) => e);
    expect(stale).toBeInstanceOf(ConflictError);
    expect(stale.code).toBe('EPOCH_CONFLICT');
    expect(stale.current).toEqual(legacy);

    const next = status({ status: 'failed', epoch: 5, updated_by: 'failover@us-east-1' });
    await adapter('us-east-1').putRegionStatus(next, 4);
    expect(await adapter('eu-west-1').getRegionStatus('eu-west-1')).toEqual(next);
    const kept = (await items()).find((item) => item.sk === 'eu-west-1');
    expect(kept).toMatchObject({ epoch: 4, status: 'draining' });
  });

  // Invariant: the tie rule holds for the legacy item too, judged by who wrote it (updated_by).
  it("ranks a legacy item at an equal epoch by its author: the region's own probe loses", async () => {
    await putLegacy(status({ status: 'fenced', epoch: 6, updated_by: 'health-probe@eu-west-1' }));
    const coordinator = status({ status: 'healthy', epoch: 6, updated_by: 'failover@us-east-1' });
    await putSlot(table.doc, table.tableName, 'us-east-1', coordinator);
    expect(await adapter().getRegionStatus('eu-west-1')).toEqual(coordinator);

    await table.doc.send(
      new DeleteCommand({ TableName: table.tableName, Key: keys.regionStatus('eu-west-1', 'us-east-1') }),
    );
    const decided = status({ status: 'healthy', epoch: 6, updated_by: 'failover@us-east-1' });
    await putLegacy(decided);
    await putSlot(
      table.doc,
      table.tableName,
      'eu-west-1',
      status({ status: 'fenced', epoch: 6, updated_by: 'health-probe@eu-west-1' }),
    );
    expect(await adapter().getRegionStatus('eu-west-1')).toEqual(decided);
  });

  // Invariant: one region's status never mixes in another region's slots (region ids that are
  // prefixes of others, like us-east-1 and us-east-10).
  it('keeps regions whose ids share a prefix apart', async () => {
    await adapter('eu-west-1').putRegionStatus(status({ region_id: 'us-east-10', epoch: 9 }), undefined);
    await adapter('eu-west-1').putRegionStatus(status({ region_id: 'us-east-1', epoch: 1 }), undefined);
    expect((await adapter().getRegionStatus('us-east-1'))?.epoch).toBe(1);
    await adapter('us-east-1').putRegionStatus(status({ region_id: 'us-east-1', epoch: 2 }), 1);
    expect((await adapter().listRegionStatuses()).map((s) => [s.region_id, s.epoch])).toEqual([
      ['us-east-1', 2],
      ['us-east-10', 9],
    ]);
  });

  it('requires a writer that can end a sort key', () => {
    expect(() => adapter('eu#west')).toThrow(/writer/);
  });

  // Invariant: store errors other than a failed condition are not conflicts (STYLE 5).
  it('rethrows what it does not translate on a status write', async () => {
    const missing = new DynamoStateAdapter({
      client: table.doc,
      tableName: 'no-such-table',
      writer: 'us-east-1',
    });
    const error = await missing.putRegionStatus(status(), undefined).catch((e) => e);
    expect(error.name).toBe('ResourceNotFoundException');
  });
});

/**
 * The document client with every BatchGetItem answer after the real one trimmed: the first
 * `deferred` calls answer one item and hand the rest back as unprocessed keys, as DynamoDB does when
 * throttled. Records each call's number of keys.
 */
function deferringBatches(doc: DynamoDBDocumentClient, deferred: number) {
  const keysAsked: number[] = [];
  const client = new Proxy(doc, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return async (command: unknown) => {
        const output = await target.send(command as never);
        if (!(command instanceof BatchGetCommand)) return output;
        const [tableName, request] = Object.entries(command.input.RequestItems ?? {})[0] ?? [];
        keysAsked.push(request?.Keys?.length ?? 0);
        if (keysAsked.length > deferred || tableName === undefined) return output;
        const rows =
          (output as { Responses?: Record<string, Record<string, unknown>[]> }).Responses?.[tableName] ?? [];
        const later = rows.slice(1).map((item) => ({ pk: item.pk, sk: item.sk }));
        return {
          ...output,
          Responses: { [tableName]: rows.slice(0, 1) },
          UnprocessedKeys: later.length > 0 ? { [tableName]: { Keys: later } } : {},
        };
      };
    },
  }) as DynamoDBDocumentClient;
  return { client, keysAsked };
}

describe('DynamoStateAdapter batch reads', () => {
  let table: TestTable;
  beforeAll(async () => {
    table = await startTestTable();
    const writer = new DynamoStateAdapter({ client: table.doc, tableName: table.tableName });
    for (const id of ['b-1', 'b-2', 'b-3', 'b-4', 'b-5']) {
      await writer.createHandoff(handoff({ handoff_id: id, task_id: id }));
    }
  });
  afterAll(() => table.close());

  // Invariant: keys DynamoDB leaves unprocessed are asked for again until every one is answered.
  it('retries the keys a batch leaves unprocessed until each is read', async () => {
    const { client, keysAsked } = deferringBatches(table.doc, 2);
    const adapter = new DynamoStateAdapter({
      client,
      tableName: table.tableName,
      batchRetry: { baseDelayMs: 0 },
    });
    const found = await adapter.getHandoffs(['b-1', 'b-2', 'b-3', 'b-4', 'b-5']);
    expect([...found.keys()].sort()).toEqual(['b-1', 'b-2', 'b-3', 'b-4', 'b-5']);
    expect(keysAsked).toEqual([5, 4, 3]);
  });

  // Invariant: a batch that never completes fails loudly (never a partial answer taken for absence).
  it('fails naming the keys left after its attempts, never answering a partial batch', async () => {
    const { client, keysAsked } = deferringBatches(table.doc, Number.POSITIVE_INFINITY);
    const adapter = new DynamoStateAdapter({
      client,
      tableName: table.tableName,
      batchRetry: { attempts: 3, baseDelayMs: 0 },
    });
    const error = await adapter.getHandoffs(['b-1', 'b-2', 'b-3', 'b-4']).catch((e) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ConflictError);
    expect(error.message).toMatch(/left 1 handoff key\(s\) unprocessed after 3 attempts/);
    expect(keysAsked).toEqual([4, 3, 2]);
  });

  it('asks for at most 100 keys a call', async () => {
    const { client, keysAsked } = deferringBatches(table.doc, 0);
    const adapter = new DynamoStateAdapter({ client, tableName: table.tableName });
    const ids = Array.from({ length: 230 }, (_, i) => `absent-${i}`);
    expect(await adapter.getHandoffs(ids)).toEqual(new Map());
    expect(keysAsked).toEqual([100, 100, 30]);
  });

  it('refuses a retry policy that could not read', () => {
    expect(
      () => new DynamoStateAdapter({ client: table.doc, tableName: 'x-state', batchRetry: { attempts: 0 } }),
    ).toThrow(/batchRetry.attempts/);
    expect(
      () =>
        new DynamoStateAdapter({ client: table.doc, tableName: 'x-state', batchRetry: { baseDelayMs: -1 } }),
    ).toThrow(/batchRetry.baseDelayMs/);
  });
});
