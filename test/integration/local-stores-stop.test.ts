/**
 * Stopping the local stores while reads are in flight: a Query or Scan still iterating when its
 * LevelDB closed threw "Iterator is not open: cannot read after close()" from dynalite's stream,
 * uncaught (it crashed `cortex dr drill` as a plane stopped), and its request never answered. The
 * stores' close now waits for every request it accepted, and refuses the ones that come after.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { startRegionalStores } from '../../lib/local/stores.ts';

const TABLE = 'stores-stop-state';
const ITEMS = 100;
let dir: string | undefined;

afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('the local stores stopping under reads', () => {
  it('answer every Query and Scan in flight when close starts, and close after them; later requests are refused', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-stores-stop-'));
    const stores = await startRegionalStores({ regionIds: ['us-east-1'], dataDir: dir, tableName: TABLE });
    const doc = DynamoDBDocumentClient.from(stores.get('us-east-1').createClient());
    for (let batch = 0; batch < ITEMS / 25; batch++) {
      await doc.send(
        new BatchWriteCommand({
          RequestItems: {
            [TABLE]: Array.from({ length: 25 }, (_, i) => ({
              PutRequest: { Item: { pk: 'P', sk: `S${batch}-${i}`, payload: 'x'.repeat(200) } },
            })),
          },
        }),
      );
    }
    const reads = Array.from({ length: 20 }, (_, i) =>
      doc.send(
        i % 2 === 0
          ? new ScanCommand({ TableName: TABLE })
          : new QueryCommand({
              TableName: TABLE,
              KeyConditionExpression: 'pk = :p',
              ExpressionAttributeValues: { ':p': 'P' },
            }),
      ),
    );
    // The requests are handed to dynalite; their iterators open on the next turns of the loop.
    await new Promise((resolve) => setImmediate(resolve));
    const closing = stores.close();
    const answers = await Promise.all(reads);
    expect(answers.map((a) => a.Count)).toEqual(reads.map(() => ITEMS));
    await closing;
    await expect(doc.send(new ScanCommand({ TableName: TABLE }))).rejects.toThrow(/store is closed/);
  }, 120_000);
});
