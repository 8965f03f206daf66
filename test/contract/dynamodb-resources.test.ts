import { DeleteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoResourcesAdapter } from '../../lib/adapters/aws/dynamodb-resources.ts';
import { DynamoStateAdapter } from '../../lib/adapters/aws/dynamodb-state.ts';
import { startTestTable } from '../support/dynalite.ts';
import { resourcesContract } from './resources.contract.ts';

resourcesContract('DynamoResourcesAdapter on dynalite', async () => {
  const table = await startTestTable();
  const options = { client: table.doc, tableName: table.tableName };
  return {
    resources: new DynamoResourcesAdapter(options),
    resourcesAs: (writer, clock) => new DynamoResourcesAdapter({ ...options, writer, clock }),
    state: new DynamoStateAdapter(options),
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
