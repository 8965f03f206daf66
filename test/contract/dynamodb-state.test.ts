import { DeleteCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStateAdapter } from '../../lib/adapters/aws/dynamodb-state.ts';
import { createStateTable } from '../../lib/adapters/aws/state-table.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';
import { failover, handoff, stateContract, status, view } from './state.contract.ts';

const CRITICAL = 'cortex-critical';

stateContract('DynamoStateAdapter on dynalite', async () => {
  const table = await startTestTable();
  return {
    state: new DynamoStateAdapter({ client: table.doc, tableName: table.tableName }),
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

// Issue 5: with an MRSC table, the synchronous data types' records (statuses, failovers, handoffs)
// live in `<name>-critical`; the port behaves the same whichever table holds a record type.
stateContract('DynamoStateAdapter on dynalite, synchronous records in the critical table', async () => {
  const table = await startTestTable();
  await createStateTable(table.client, CRITICAL);
  const critical = { client: table.doc, tableName: CRITICAL };
  return {
    state: new DynamoStateAdapter({
      client: table.doc,
      tableName: table.tableName,
      records: { region_status: critical, failover: critical, handoff: critical },
    }),
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
