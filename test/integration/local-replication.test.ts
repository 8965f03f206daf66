import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  REP_UPDATE_REGION,
  REP_UPDATE_TIME,
  type Replication,
  type ReplicationOptions,
  startReplication,
} from '../../lib/adapters/local/replication.ts';
import { type RegionalStores, startRegionalStores } from '../../lib/local/stores.ts';
import { ManualScheduler } from '../support/manual-time.ts';

const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';
const REGIONS = [US, EU, AP];
const TABLE = 'replication-test-state';
const LAG = 200;

let dataDir: string;
let stores: RegionalStores;
let scheduler: ManualScheduler;
let replication: Replication;
let docs: Record<string, DynamoDBDocumentClient>;
let testNumber = 0;
let pk: string;

async function start(options: Partial<ReplicationOptions> = {}): Promise<Replication> {
  const started = await startReplication({
    regions: stores.list.map((store) => ({ regionId: store.regionId, client: store.createClient() })),
    lagMs: LAG,
    scheduler,
    ...options,
  });
  docs = {};
  for (const store of stores.list) {
    const client = store.createClient();
    started.attach(store.regionId, client);
    docs[store.regionId] = DynamoDBDocumentClient.from(client);
  }
  return started;
}

function doc(regionId: string): DynamoDBDocumentClient {
  const client = docs[regionId];
  if (!client) throw new Error(`no client for ${regionId}`);
  return client;
}

async function read(regionId: string, key = pk): Promise<Record<string, unknown> | undefined> {
  const { Item } = await doc(regionId).send(
    new GetCommand({ TableName: TABLE, Key: { pk: key, sk: 'ITEM' }, ConsistentRead: true }),
  );
  return Item;
}

async function put(regionId: string, value: string, key = pk): Promise<void> {
  await doc(regionId).send(new PutCommand({ TableName: TABLE, Item: { pk: key, sk: 'ITEM', value } }));
}

/** Moves time by `ms` and waits until everything that became due is applied. */
async function elapse(ms: number): Promise<void> {
  scheduler.advance(ms);
  await replication.flush();
}

function link(from: string, to: string) {
  const found = replication.stats().links.find((l) => l.from === from && l.to === to);
  if (!found) throw new Error(`no link ${from} -> ${to}`);
  return found;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cortex-replication-'));
  stores = await startRegionalStores({ regionIds: REGIONS, dataDir, tableName: TABLE, fresh: true });
});

afterAll(async () => {
  await stores?.close();
  await rm(dataDir, { recursive: true, force: true });
});

beforeEach(async () => {
  testNumber++;
  pk = `ITEM#${testNumber}`;
  scheduler = new ManualScheduler();
  replication = await start();
});

afterEach(async () => {
  await replication.close();
});

describe('local global-table replication', () => {
  it('copies a write to every other region once the lag has passed, with the write stamp', async () => {
    await put(US, 'v1');

    await elapse(LAG - 1);
    expect(await read(EU)).toBeUndefined();
    expect(await read(AP)).toBeUndefined();

    await elapse(1);
    for (const region of [EU, AP]) {
      expect(await read(region)).toMatchObject({
        value: 'v1',
        [REP_UPDATE_REGION]: US,
        [REP_UPDATE_TIME]: scheduler.time - LAG,
      });
    }
  });

  it('uses the lag of each ordered pair', async () => {
    replication.setLag(US, AP, 1_000);
    await put(US, 'v1');

    await elapse(LAG);
    expect(await read(EU)).toMatchObject({ value: 'v1' });
    expect(await read(AP)).toBeUndefined();

    await elapse(1_000 - LAG);
    expect(await read(AP)).toMatchObject({ value: 'v1' });
  });

  it('replicates BatchWriteItem puts and deletes', async () => {
    await put(US, 'doomed', `${pk}-b`);
    await elapse(LAG);
    expect(await read(EU, `${pk}-b`)).toBeDefined();

    await doc(US).send(
      new BatchWriteCommand({
        RequestItems: {
          [TABLE]: [
            { PutRequest: { Item: { pk, sk: 'ITEM', value: 'batched' } } },
            { DeleteRequest: { Key: { pk: `${pk}-b`, sk: 'ITEM' } } },
          ],
        },
      }),
    );
    await elapse(LAG);
    expect(await read(EU)).toMatchObject({ value: 'batched' });
    expect(await read(EU, `${pk}-b`)).toBeUndefined();
  });

  it('resolves concurrent writes in two regions to the later write everywhere (last writer wins)', async () => {
    await put(US, 'from us');
    scheduler.advance(5);
    await put(EU, 'from eu');

    await elapse(LAG);
    for (const region of REGIONS) expect(await read(region)).toMatchObject({ value: 'from eu' });
    expect(link(US, EU).superseded).toBe(1);
  });

  it('breaks a tie in write time by the greater region id', async () => {
    await put(EU, 'from eu');
    await put(US, 'from us');

    await elapse(LAG);
    for (const region of REGIONS) expect(await read(region)).toMatchObject({ value: 'from us' });
  });

  it('lets a write made after receiving another region write win, even at the same clock reading', async () => {
    await put(US, 'first');
    await replication.flush({ all: true });
    expect(await read(EU)).toMatchObject({ value: 'first' });
    // Same clock reading as the US write, and us-east-1 > eu-west-1: only the stamp clock makes EU win.
    await put(EU, 'second');

    await elapse(LAG);
    for (const region of REGIONS) expect(await read(region)).toMatchObject({ value: 'second' });
  });

  it('replicates deletes and keeps a tombstone so a stale put cannot resurrect the item', async () => {
    await put(US, 'v1');
    await elapse(LAG);

    replication.pause(EU, AP);
    await put(EU, 'v2 (stale by the time it reaches ap-south-1)');
    scheduler.advance(10);
    await doc(US).send(new DeleteCommand({ TableName: TABLE, Key: { pk, sk: 'ITEM' } }));

    await elapse(LAG);
    for (const region of REGIONS) expect(await read(region)).toBeUndefined();

    replication.resume(EU, AP);
    await replication.flush();
    expect(await read(AP)).toBeUndefined();
    expect(link(EU, AP)).toMatchObject({ queued: 0, superseded: 1 });
  });

  it('queues changes on a paused link and delivers them on resume', async () => {
    replication.pause(US, EU);
    await put(US, 'v1');

    await elapse(LAG * 5);
    expect(await read(AP)).toMatchObject({ value: 'v1' });
    expect(await read(EU)).toBeUndefined();
    expect(link(US, EU)).toMatchObject({ paused: true, queued: 1 });

    replication.resume(US, EU);
    await replication.flush();
    expect(await read(EU)).toMatchObject({ value: 'v1' });
    expect(link(US, EU)).toMatchObject({ paused: false, queued: 0, delivered: 1 });
  });

  it('delivers a backlog a batch at a time, never two changes of one item at once, each item in order', async () => {
    await replication.close();
    // The replicator's client into eu-west-1, watched: how many applies run at once, and in what order.
    const intoEu = stores.get(EU).createClient();
    const inFlight = new Map<string, number>();
    let running = 0;
    let mostAtOnce = 0;
    const appliedToItem: string[] = [];
    intoEu.middlewareStack.add(
      (next) => async (args) => {
        const item = (args.input as { Item?: Record<string, { S?: string }> }).Item;
        const key = item?.pk?.S ?? '';
        if (inFlight.get(key)) throw new Error(`two changes of ${key} applied at once`);
        inFlight.set(key, 1);
        mostAtOnce = Math.max(mostAtOnce, ++running);
        try {
          const result = await next(args);
          if (key === pk) appliedToItem.push(item?.value?.S ?? '');
          return result;
        } finally {
          running--;
          inFlight.delete(key);
        }
      },
      { step: 'initialize', name: 'watchApplies' },
    );
    replication = await start({
      regions: stores.list.map((store) => ({
        regionId: store.regionId,
        client: store.regionId === EU ? intoEu : store.createClient(),
      })),
    });
    replication.pause(US, EU);
    await put(US, 'v1');
    for (let i = 0; i < 20; i++) await put(US, `other ${i}`, `${pk}-${i}`);
    await put(US, 'v2');
    for (let i = 20; i < 40; i++) await put(US, `other ${i}`, `${pk}-${i}`);
    await put(US, 'v3');
    await elapse(LAG);
    expect(link(US, EU).queued).toBe(43);

    replication.resume(US, EU);
    await replication.flush();
    expect(link(US, EU)).toMatchObject({ queued: 0, delivered: 43, failures: 0 });
    expect(mostAtOnce).toBeGreaterThan(1);
    expect(mostAtOnce).toBeLessThanOrEqual(16);
    expect(appliedToItem).toEqual(['v1', 'v2', 'v3']);
    expect(await read(EU)).toMatchObject({ value: 'v3' });
    for (let i = 0; i < 40; i++) expect(await read(EU, `${pk}-${i}`)).toMatchObject({ value: `other ${i}` });
  });

  it('retries a change that failed to apply, ahead of the rest; the others of its batch stay delivered', async () => {
    await replication.close();
    const intoEu = stores.get(EU).createClient();
    let failNext = true;
    intoEu.middlewareStack.add(
      (next) => async (args) => {
        const item = (args.input as { Item?: Record<string, { S?: string }> }).Item;
        if (item?.pk?.S === pk && failNext) {
          failNext = false;
          throw new Error('the store is failing');
        }
        return next(args);
      },
      { step: 'initialize', name: 'failOnce' },
    );
    replication = await start({
      regions: stores.list.map((store) => ({
        regionId: store.regionId,
        client: store.regionId === EU ? intoEu : store.createClient(),
      })),
    });
    replication.pause(US, EU);
    await put(US, 'v1');
    await put(US, 'other', `${pk}-other`);
    await put(US, 'v2');
    replication.resume(US, EU);
    await elapse(LAG);
    expect(link(US, EU)).toMatchObject({ queued: 2, delivered: 1, failures: 1 });
    expect(await read(EU, `${pk}-other`)).toMatchObject({ value: 'other' });
    expect(await read(EU)).toBeUndefined();

    await elapse(250);
    expect(link(US, EU)).toMatchObject({ queued: 0, delivered: 3, failures: 1 });
    expect(await read(EU)).toMatchObject({ value: 'v2' });
  });

  it('does not replicate a write it applied as a replica', async () => {
    await put(US, 'v1');
    await elapse(LAG);

    const stats = replication.stats();
    expect(stats.captured).toEqual({ [US]: 1, [EU]: 0, [AP]: 0 });
    for (const l of stats.links.filter((x) => x.from !== US)) {
      expect(l).toMatchObject({ queued: 0, delivered: 0 });
    }
  });

  it('checks a conditional write only against the local replica, so two regions can both succeed', async () => {
    await doc(US).send(
      new PutCommand({ TableName: TABLE, Item: { pk, sk: 'ITEM', owner: 'none', version: 1 } }),
    );
    await elapse(LAG);
    replication.pause(US, EU);
    replication.pause(EU, US);

    const claim = (region: string) =>
      doc(region).send(
        new UpdateCommand({
          TableName: TABLE,
          Key: { pk, sk: 'ITEM' },
          UpdateExpression: 'SET #owner = :me, #version = :next',
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#owner': 'owner', '#version': 'version' },
          ExpressionAttributeValues: { ':me': region, ':next': 2, ':expected': 1 },
        }),
      );
    await claim(US);
    scheduler.advance(1);
    await claim(EU);
    // Both claims were acknowledged: a conditional write on a global table is not a lock.

    replication.resume(US, EU);
    replication.resume(EU, US);
    await elapse(LAG);
    for (const region of REGIONS) expect(await read(region)).toMatchObject({ owner: EU, version: 2 });
  });

  it('does not replicate a write whose condition failed', async () => {
    await put(US, 'v1');
    await expect(
      doc(US).send(
        new PutCommand({
          TableName: TABLE,
          Item: { pk, sk: 'ITEM', value: 'v2' },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    ).rejects.toThrow(/conditional/i);

    await elapse(LAG);
    expect(replication.stats().captured[US]).toBe(1);
    expect(await read(EU)).toMatchObject({ value: 'v1' });
  });

  it('keeps queued changes across a restart of the replicator', async () => {
    await replication.close();
    replication = await start({ statePath: join(dataDir, 'replication', 'state.json') });
    replication.pause(US, EU);
    await put(US, 'v1');
    await replication.close();

    replication = await start({ statePath: join(dataDir, 'replication', 'state.json') });
    expect(link(US, EU)).toMatchObject({ queued: 1, paused: false });
    await elapse(LAG);
    expect(await read(EU)).toMatchObject({ value: 'v1' });
  });

  it('delivers on real timers by default', async () => {
    await replication.close();
    replication = await start({ scheduler: undefined, lagMs: 30 });
    const started = Date.now();
    await put(US, 'v1');

    await vi.waitFor(async () => expect(await read(EU)).toMatchObject({ value: 'v1' }), {
      timeout: 2_000,
      interval: 10,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });
});
