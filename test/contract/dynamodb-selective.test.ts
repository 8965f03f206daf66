import { DeleteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoSelectiveStore } from '../../lib/adapters/aws/dynamodb-selective.ts';
import { createStateTable } from '../../lib/adapters/aws/state-table.ts';
import { placeReplication } from '../../lib/core/replication/placement.ts';
import { loadTopologyFile } from '../../lib/topology/load.ts';
import { startTestTable } from '../support/dynalite.ts';
import { selectiveContract } from './selective.contract.ts';

selectiveContract('DynamoSelectiveStore on dynalite (us-east-1 of the default topology)', async () => {
  const placement = placeReplication(loadTopologyFile());
  const tables = placement.tables
    .filter((t) => t.role === 'selective' && t.regions.includes('us-east-1'))
    .map((t) => t.name);
  const table = await startTestTable();
  for (const name of tables) await createStateTable(table.client, name);
  let now = Date.parse('2026-11-26T12:00:00Z');
  return {
    store: new DynamoSelectiveStore({
      client: table.doc,
      regionId: 'us-east-1',
      placement,
      clock: { now: () => now },
    }),
    advance: (ms) => {
      now += ms;
    },
    reset: async () => {
      now = Date.parse('2026-11-26T12:00:00Z');
      for (const name of tables) {
        const { Items = [] } = await table.doc.send(new ScanCommand({ TableName: name }));
        for (const item of Items) {
          await table.doc.send(new DeleteCommand({ TableName: name, Key: { pk: item.pk, sk: item.sk } }));
        }
      }
    },
    close: () => table.close(),
  };
});
