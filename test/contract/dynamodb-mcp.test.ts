import { DeleteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoMcpAdapter } from '../../lib/adapters/aws/dynamodb-mcp.ts';
import { startTestTable } from '../support/dynalite.ts';
import { mcpContract } from './mcp.contract.ts';

mcpContract('DynamoMcpAdapter on dynalite', async () => {
  const table = await startTestTable();
  return {
    registry: new DynamoMcpAdapter({ client: table.doc, tableName: table.tableName }),
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
