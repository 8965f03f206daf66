/**
 * Regional stores kept in memory (dynalite without a LevelDB directory), for runs that never
 * restart: they answer reads, queries and conditional writes as the stores on disk do, write nothing
 * under `dynamodb/`, and a local runtime built on them refuses to pretend it resumes anything.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { type RegionalStores, startRegionalStores } from '../../lib/local/stores.ts';
import { startLocalRuntime } from '../../lib/runtime/local.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';

const TABLE = 'stores-memory-state';
let dir: string;
let stores: RegionalStores;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cortex-stores-memory-'));
  stores = await startRegionalStores({
    regionIds: ['us-east-1', 'eu-west-1'],
    dataDir: dir,
    tableName: TABLE,
    inMemory: true,
  });
});

afterAll(async () => {
  await stores?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('regional stores kept in memory', () => {
  it('answer gets, queries and conditional writes like the stores on disk, each region its own', async () => {
    const east = DynamoDBDocumentClient.from(stores.get('us-east-1').createClient());
    const west = DynamoDBDocumentClient.from(stores.get('eu-west-1').createClient());
    for (const sk of ['A', 'B', 'C']) {
      await east.send(new PutCommand({ TableName: TABLE, Item: { pk: 'P', sk, n: sk.charCodeAt(0) } }));
    }
    const { Items } = await east.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': 'P' },
        Limit: 2,
      }),
    );
    expect(Items?.map((i) => i.sk)).toEqual(['A', 'B']);
    await expect(
      east.send(
        new PutCommand({
          TableName: TABLE,
          Item: { pk: 'P', sk: 'A' },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect((await east.send(new GetCommand({ TableName: TABLE, Key: { pk: 'P', sk: 'A' } }))).Item?.n).toBe(
      65,
    );
    expect(
      (await west.send(new GetCommand({ TableName: TABLE, Key: { pk: 'P', sk: 'A' } }))).Item,
    ).toBeUndefined();
  });

  it('write no LevelDB directory: the data dir holds only the lock', async () => {
    expect(stores.list.map((s) => s.path)).toEqual([undefined, undefined]);
    expect(await readdir(join(dir, 'dynamodb'))).toEqual(['cortex.lock']);
  });

  it('make a local runtime that must start fresh, since nothing of a previous run is in them', async () => {
    await expect(
      startLocalRuntime({
        topology: validateTopology(defaultTopologyJson()),
        dataDir: join(dir, 'runtime'),
        inMemory: true,
      }),
    ).rejects.toThrow('start it fresh');
  });
});
