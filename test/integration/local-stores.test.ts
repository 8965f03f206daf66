/**
 * The regional stores close every LevelDB iterator a Query or Scan opens (dynalite closes them through
 * `return()`, which abstract-level's iterators lack unless the stores add it). An iterator left open
 * pins a LevelDB snapshot and native memory: an idle plane grew by hundreds of MB and its data
 * directory by about 1 MB a minute. Their clients reach dynalite in-process, without a socket.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConditionalCheckFailedException, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RegionalStores, startRegionalStores } from '../../lib/local/stores.ts';

const TABLE = 'stores-test-state';
let dir: string;
let stores: RegionalStores;

interface IteratorPrototype {
  next(...args: unknown[]): Promise<unknown>;
  close(): Promise<void>;
}

/** The base of abstract-level's iterators, as dynalite loads it. */
function iteratorBase(): IteratorPrototype {
  const levelRequire = createRequire(createRequire(import.meta.url).resolve('dynalite'));
  const { AbstractValueIterator } = levelRequire('abstract-level') as {
    AbstractValueIterator: { prototype: object };
  };
  return Object.getPrototypeOf(AbstractValueIterator.prototype) as IteratorPrototype;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cortex-stores-'));
  stores = await startRegionalStores({ regionIds: ['us-east-1'], dataDir: dir, tableName: TABLE });
});

afterAll(async () => {
  await stores.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the local regional stores', () => {
  it('close the LevelDB iterator of every Query and Scan, read to the end or cut short by a limit', async () => {
    const doc = DynamoDBDocumentClient.from(stores.get('us-east-1').createClient());
    for (let i = 0; i < 20; i++) {
      await doc.send(
        new PutCommand({ TableName: TABLE, Item: { pk: 'P', sk: `S${String(i).padStart(2, '0')}` } }),
      );
    }
    const base = iteratorBase();
    const open = new Set<unknown>();
    const next = base.next;
    const close = base.close;
    base.next = function (this: unknown, ...args: unknown[]) {
      open.add(this);
      return next.apply(this, args);
    };
    base.close = function (this: unknown) {
      open.delete(this);
      return close.apply(this);
    };
    try {
      for (let i = 0; i < 10; i++) {
        await doc.send(
          new QueryCommand({
            TableName: TABLE,
            KeyConditionExpression: 'pk = :p',
            ExpressionAttributeValues: { ':p': 'P' },
          }),
        );
        await doc.send(
          new QueryCommand({
            TableName: TABLE,
            KeyConditionExpression: 'pk = :p',
            ExpressionAttributeValues: { ':p': 'P' },
            Limit: 3,
          }),
        );
        await doc.send(new ScanCommand({ TableName: TABLE }));
        await doc.send(new ScanCommand({ TableName: TABLE, Limit: 2 }));
      }
      await vi.waitFor(() => expect(open.size).toBe(0), { timeout: 2_000, interval: 20 });
    } finally {
      base.next = next;
      base.close = close;
    }
  });

  it("answer their own clients in-process: no socket opens, and the store's errors keep their types", async () => {
    const doc = DynamoDBDocumentClient.from(stores.get('us-east-1').createClient());
    const connect = vi.spyOn(Socket.prototype, 'connect');
    try {
      await doc.send(
        new PutCommand({
          TableName: TABLE,
          Item: { pk: 'IN', sk: 'A', n: 1, bytes: new Uint8Array([1, 2]) },
        }),
      );
      const { Attributes } = await doc.send(
        new UpdateCommand({
          TableName: TABLE,
          Key: { pk: 'IN', sk: 'A' },
          UpdateExpression: 'ADD n :one',
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      expect(Attributes).toMatchObject({ n: 2, bytes: new Uint8Array([1, 2]) });
      await doc.send(
        new BatchWriteCommand({
          RequestItems: {
            [TABLE]: [{ PutRequest: { Item: { pk: 'IN', sk: 'B', text: 'é'.repeat(5000) } } }],
          },
        }),
      );
      const { Item } = await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'IN', sk: 'B' } }));
      expect(Item?.text).toBe('é'.repeat(5000));
      await expect(
        doc.send(
          new PutCommand({
            TableName: TABLE,
            Item: { pk: 'IN', sk: 'A' },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
      await expect(
        doc.send(new GetCommand({ TableName: 'no-such-table', Key: { pk: 'IN', sk: 'A' } })),
      ).rejects.toBeInstanceOf(ResourceNotFoundException);
      expect(connect).not.toHaveBeenCalled();
    } finally {
      connect.mockRestore();
    }
  });

  it("refuse their clients' requests once closed", async () => {
    const own = await mkdtemp(join(tmpdir(), 'cortex-stores-closed-'));
    const closing = await startRegionalStores({ regionIds: ['eu-west-1'], dataDir: own, tableName: TABLE });
    try {
      const doc = DynamoDBDocumentClient.from(closing.get('eu-west-1').createClient());
      await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'P', sk: 'S' } }));
      await closing.close();
      await expect(doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'P', sk: 'S' } }))).rejects.toThrow(
        'the eu-west-1 store is closed',
      );
    } finally {
      await closing.close();
      await rm(own, { recursive: true, force: true });
    }
  });
});
