import { DeleteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoResourcesAdapter } from '../../lib/adapters/aws/dynamodb-resources.ts';
import { startTestTable } from '../support/dynalite.ts';
import { claimsContract } from './claims.contract.ts';

claimsContract('DynamoResourcesAdapter on dynalite', async () => {
  const table = await startTestTable();
  const options = { client: table.doc, tableName: table.tableName };
  return {
    resourcesAs: (writer) => new DynamoResourcesAdapter({ ...options, writer }),
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
