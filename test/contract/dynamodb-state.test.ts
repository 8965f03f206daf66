import { DeleteCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStateAdapter } from '../../lib/adapters/aws/dynamodb-state.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';
import { handoff, stateContract } from './state.contract.ts';

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
  });
});
