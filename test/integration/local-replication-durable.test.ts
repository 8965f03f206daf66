/**
 * The local replication's queue and clocks are durable like a stream: a replicator that dies without
 * closing (kill -9) leaves a log from which the next one delivers every acknowledged write, in
 * order, and whose clocks make a write after the restart win over every write before it, even when
 * the restarted clock runs behind the old one (a simulated clock at --speed restarts at real time).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REP_UPDATE_TIME, type Replication, startReplication } from '../../lib/adapters/local/replication.ts';
import { logPathOf } from '../../lib/adapters/local/replication-journal.ts';
import { type RegionalStores, startRegionalStores } from '../../lib/local/stores.ts';
import { ManualScheduler } from '../support/manual-time.ts';

const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';
const TABLE = 'replication-durable-state';
const LAG = 200;

let dir: string;
let stores: RegionalStores;
let statePath: string;
let testNumber = 0;

interface Replicator {
  readonly replication: Replication;
  readonly scheduler: ManualScheduler;
  readonly docs: Record<string, DynamoDBDocumentClient>;
  /** The values the replicator wrote into each region's store, in order. */
  readonly applied: Record<string, string[]>;
}

async function start(time?: number): Promise<Replicator> {
  const scheduler = new ManualScheduler();
  if (time !== undefined) scheduler.time = time;
  const applied: Record<string, string[]> = {};
  const regions = stores.list.map((store) => {
    const client = store.createClient();
    const seen: string[] = [];
    applied[store.regionId] = seen;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Item?: { value?: { S?: string } } };
        if (context.commandName === 'PutItemCommand' && input.Item?.value?.S) seen.push(input.Item.value.S);
        return next(args);
      },
      { step: 'initialize' },
    );
    return { regionId: store.regionId, client };
  });
  const replication = await startReplication({
    regions,
    lagMs: LAG,
    scheduler,
    statePath,
  });
  const docs: Record<string, DynamoDBDocumentClient> = {};
  for (const store of stores.list) {
    const client = store.createClient();
    replication.attach(store.regionId, client);
    docs[store.regionId] = DynamoDBDocumentClient.from(client);
  }
  return { replication, scheduler, docs, applied };
}

function docOf(r: Replicator, region: string): DynamoDBDocumentClient {
  const doc = r.docs[region];
  if (!doc) throw new Error(`no client for ${region}`);
  return doc;
}

async function put(r: Replicator, region: string, pk: string, value: string): Promise<void> {
  await docOf(r, region).send(new PutCommand({ TableName: TABLE, Item: { pk, sk: 'ITEM', value } }));
}

async function read(r: Replicator, region: string, pk: string) {
  const { Item } = await docOf(r, region).send(
    new GetCommand({ TableName: TABLE, Key: { pk, sk: 'ITEM' }, ConsistentRead: true }),
  );
  return Item;
}

async function elapse(r: Replicator, ms: number): Promise<void> {
  r.scheduler.advance(ms);
  await r.replication.flush();
}

function linkOf(r: Replicator, from: string, to: string) {
  const found = r.replication.stats().links.find((l) => l.from === from && l.to === to);
  if (!found) throw new Error(`no link ${from} -> ${to}`);
  return found;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cortex-replication-durable-'));
  stores = await startRegionalStores({ regionIds: [US, EU, AP], dataDir: dir, tableName: TABLE });
});

afterAll(async () => {
  await stores.close();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  // Each test its own journal: a crashed replicator from an earlier test is never replayed.
  statePath = join(dir, `replication-${++testNumber}`, 'state.json');
});

describe('local replication after kill -9', () => {
  it('delivers every acknowledged write queued on a paused link, in order', async () => {
    const first = await start();
    first.replication.pause(US, AP);
    for (let i = 0; i < 20; i++) await put(first, US, `order-${testNumber}`, `v${i}`);
    await put(first, US, `other-${testNumber}`, 'x');
    await docOf(first, US).send(
      new DeleteCommand({ TableName: TABLE, Key: { pk: `other-${testNumber}`, sk: 'ITEM' } }),
    );
    await elapse(first, LAG);
    expect(await read(first, EU, `order-${testNumber}`)).toMatchObject({ value: 'v19' });
    expect(linkOf(first, US, AP).queued).toBe(22);
    // Killed: no close, nothing saved on the way out.

    const second = await start(first.scheduler.time);
    expect(linkOf(second, US, AP)).toMatchObject({ queued: 22, paused: false });
    // The delivered ones are not queued again.
    expect(linkOf(second, US, EU).queued).toBe(0);
    await elapse(second, LAG);
    expect(second.applied[AP]).toEqual([...Array.from({ length: 20 }, (_, i) => `v${i}`), 'x']);
    expect(await read(second, AP, `order-${testNumber}`)).toMatchObject({ value: 'v19' });
    expect(await read(second, AP, `other-${testNumber}`)).toBeUndefined();
    expect(linkOf(second, US, AP)).toMatchObject({ queued: 0, delivered: 22, superseded: 0 });
    await second.replication.close();
  });

  it('a write after the restart wins everywhere although the restarted clock runs behind', async () => {
    const first = await start();
    first.replication.pause(US, AP);
    const pk = `handoff-${testNumber}`;
    await put(first, US, pk, 'pending');
    await elapse(first, LAG);
    const stamped = Number((await read(first, US, pk))?.[REP_UPDATE_TIME]);

    // The simulated clock restarts an hour behind the stamps already written.
    const second = await start(first.scheduler.time - 3_600_000);
    await put(second, EU, pk, 'completed');
    expect(Number((await read(second, EU, pk))?.[REP_UPDATE_TIME])).toBeGreaterThan(stamped);
    await elapse(second, LAG);
    for (const region of [US, EU, AP]) {
      expect(await read(second, region, pk), region).toMatchObject({ value: 'completed' });
    }
    expect(second.replication.stats().links.every((l) => l.superseded === 0)).toBe(true);
    await second.replication.close();
  });

  it('a change due long after the restarted clock waits one lag, not the old clock', async () => {
    const first = await start();
    first.replication.pause(US, AP);
    await put(first, US, `due-${testNumber}`, 'v1');
    const second = await start(first.scheduler.time - 3_600_000);
    await elapse(second, LAG);
    expect(await read(second, AP, `due-${testNumber}`)).toMatchObject({ value: 'v1' });
    await second.replication.close();
  });

  it('a torn last log line (the process died inside its write) is ignored', async () => {
    const first = await start();
    first.replication.pause(US, AP);
    await put(first, US, `torn-${testNumber}`, 'v1');
    const log = logPathOf(statePath);
    await writeFile(log, `${await readFile(log, 'utf8')}{"seq":99,"kind":"capt`);
    const second = await start(first.scheduler.time);
    expect(linkOf(second, US, AP).queued).toBe(1);
    await elapse(second, LAG);
    expect(await read(second, AP, `torn-${testNumber}`)).toMatchObject({ value: 'v1' });
    await second.replication.close();
  });

  it('a restart folds the log into the snapshot; a clean stop leaves an empty log', async () => {
    const first = await start();
    first.replication.pause(US, AP);
    await put(first, US, `fold-${testNumber}`, 'v1');
    expect((await readFile(logPathOf(statePath), 'utf8')).split('\n').length).toBeGreaterThan(1);
    const second = await start(first.scheduler.time);
    expect(await readFile(logPathOf(statePath), 'utf8')).toBe('');
    const snapshot = JSON.parse(await readFile(statePath, 'utf8'));
    expect(snapshot.version).toBe(2);
    expect(snapshot.links).toContainEqual(
      expect.objectContaining({ from: US, to: AP, queue: [expect.objectContaining({ table: TABLE })] }),
    );
    await elapse(second, LAG);
    await second.replication.close();
    expect(await readFile(logPathOf(statePath), 'utf8')).toBe('');
    expect(JSON.parse(await readFile(statePath, 'utf8')).links).toEqual([]);
  });
});
