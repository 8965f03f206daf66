import { describe, expect, it } from 'vitest';
import { createKernel, type SimKernel } from '../../lib/sim/kernel.ts';
import { createReplicatedStore, type ReplicatedStore } from '../../lib/sim/store/replicated.ts';

const START = Date.parse('2026-11-26T12:00:00Z');
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'];

function setup(options: { readonly lagMs?: number; readonly seed?: number } = {}): {
  kernel: SimKernel;
  store: ReplicatedStore;
} {
  const kernel = createKernel({ seed: options.seed ?? 7, start: START });
  const store = createReplicatedStore({
    kernel,
    regions: REGIONS,
    ...(options.lagMs === undefined ? {} : { lagMs: options.lagMs }),
  });
  return { kernel, store };
}

/** Runs the kernel to `ms` after the start. */
const runTo = (kernel: SimKernel, ms: number) => kernel.run(START + ms);

const read = (store: ReplicatedStore, region: string, sk = 'k') =>
  store.replica(region).get<{ v: unknown }>('P', sk);

describe('replicated store: delivery', () => {
  // Invariant: a write is visible locally at once and elsewhere only after the link's lag.
  it('copies a write to every other replica after the lag (default 200 ms)', async () => {
    const { kernel, store } = setup();
    store.replica('us-east-1').put('P', 'k', { v: 1 });
    expect(read(store, 'us-east-1')).toEqual({ v: 1 });
    await runTo(kernel, 199);
    expect(read(store, 'eu-west-1')).toBeUndefined();
    await runTo(kernel, 200);
    expect(read(store, 'eu-west-1')).toEqual({ v: 1 });
    expect(read(store, 'ap-south-1')).toEqual({ v: 1 });
  });

  // Invariant: lag is per ordered pair, and a change keeps the due time it was queued with.
  it('applies a lag change to later writes only, per ordered pair', async () => {
    const { kernel, store } = setup();
    store.replica('us-east-1').put('P', 'a', { v: 1 });
    store.setLag('us-east-1', 'eu-west-1', 1000);
    store.replica('us-east-1').put('P', 'b', { v: 2 });
    await runTo(kernel, 200);
    expect(read(store, 'eu-west-1', 'a')).toEqual({ v: 1 });
    expect(read(store, 'eu-west-1', 'b')).toBeUndefined();
    expect(read(store, 'ap-south-1', 'b')).toEqual({ v: 2 });
    await runTo(kernel, 999);
    expect(read(store, 'eu-west-1', 'b')).toBeUndefined();
    await runTo(kernel, 1000);
    expect(read(store, 'eu-west-1', 'b')).toEqual({ v: 2 });
    // The other direction keeps the default lag.
    store.replica('eu-west-1').put('P', 'c', { v: 3 });
    await runTo(kernel, 1200);
    expect(read(store, 'us-east-1', 'c')).toEqual({ v: 3 });
  });

  // Invariant: a link delivers in write order; a change due earlier (lag lowered) waits behind its head.
  it('delivers FIFO per link, even when a later change is due earlier', async () => {
    const { kernel, store } = setup();
    const seen: unknown[] = [];
    store.setLag('us-east-1', 'eu-west-1', 500);
    store.replica('us-east-1').put('P', 'k', { v: 1 });
    store.setLag('us-east-1', 'eu-west-1', 100);
    await runTo(kernel, 50);
    store.replica('us-east-1').put('P', 'k2', { v: 2 });
    for (let t = 100; t <= 600; t += 50) {
      await runTo(kernel, t);
      seen.push([t, read(store, 'eu-west-1')?.v, read(store, 'eu-west-1', 'k2')?.v]);
    }
    // k2 was due at 150 but arrives with its head at 500.
    expect(seen).toContainEqual([450, undefined, undefined]);
    expect(seen).toContainEqual([500, 1, 2]);
  });

  // Invariant: a paused link (a partition) queues changes and delivers them in order after resume.
  it('holds changes on a paused link and delivers them in order after resume', async () => {
    const { kernel, store } = setup();
    store.pause('us-east-1', 'eu-west-1');
    const us = store.replica('us-east-1');
    us.put('P', 'k', { v: 1 });
    us.put('P', 'k', { v: 2 });
    us.delete('P', 'k');
    us.put('P', 'k', { v: 4 });
    await runTo(kernel, 5000);
    expect(read(store, 'eu-west-1')).toBeUndefined();
    expect(read(store, 'ap-south-1')).toEqual({ v: 4 });
    const link = () => store.stats().links.find((l) => l.from === 'us-east-1' && l.to === 'eu-west-1');
    expect(link()).toMatchObject({ paused: true, queued: 4, delivered: 0 });
    store.resume('us-east-1', 'eu-west-1');
    // Overdue changes go at once, in a kernel event at the current time.
    expect(read(store, 'eu-west-1')).toBeUndefined();
    await runTo(kernel, 5000);
    expect(read(store, 'eu-west-1')).toEqual({ v: 4 });
    expect(link()).toMatchObject({ paused: false, queued: 0, delivered: 4, superseded: 0 });
  });

  // Invariant: a region down receives and sends nothing until it is up; a separate partition of
  // one of its links outlives the region coming back.
  it('stops every link of a region that is down, and up does not heal a partition', async () => {
    const { kernel, store } = setup();
    store.down('eu-west-1');
    store.pause('eu-west-1', 'ap-south-1');
    store.replica('us-east-1').put('P', 'k', { v: 1 });
    store.replica('eu-west-1').put('P', 'e', { v: 2 });
    await runTo(kernel, 1000);
    expect(read(store, 'eu-west-1')).toBeUndefined();
    expect(read(store, 'us-east-1', 'e')).toBeUndefined();
    expect(read(store, 'ap-south-1')).toEqual({ v: 1 });
    expect(store.isPaused('us-east-1', 'eu-west-1')).toBe(true);
    store.up('eu-west-1');
    await runTo(kernel, 1000);
    expect(read(store, 'eu-west-1')).toEqual({ v: 1 });
    expect(read(store, 'us-east-1', 'e')).toEqual({ v: 2 });
    expect(read(store, 'ap-south-1', 'e')).toBeUndefined();
    expect(store.isPaused('eu-west-1', 'ap-south-1')).toBe(true);
    expect(store.queued()).toBe(1);
  });
});

describe('replicated store: last writer wins', () => {
  // Invariant: concurrent writes of one key converge everywhere to the later stamp.
  it('converges concurrent writes to the later one', async () => {
    const { kernel, store } = setup();
    store.replica('us-east-1').put('P', 'k', { by: 'us' });
    await runTo(kernel, 10);
    store.replica('ap-south-1').put('P', 'k', { by: 'ap' });
    await runTo(kernel, 1000);
    for (const region of REGIONS) expect(read(store, region)).toEqual({ by: 'ap' });
    const toUs = store.stats().links.find((l) => l.from === 'us-east-1' && l.to === 'ap-south-1');
    expect(toUs?.superseded).toBe(1);
  });

  // Invariant: equal stamps resolve by the greater region id, whichever copy arrives first.
  it('breaks a tie of stamps by the greater region id', async () => {
    const { kernel, store } = setup();
    store.setLag('us-east-1', 'eu-west-1', 50);
    store.replica('ap-south-1').put('P', 'k', { by: 'ap' });
    store.replica('us-east-1').put('P', 'k', { by: 'us' });
    store.replica('eu-west-1').put('P', 'k', { by: 'eu' });
    expect(store.replica('us-east-1').stampOf('P', 'k')?.time).toBe(START);
    expect(store.replica('eu-west-1').stampOf('P', 'k')?.time).toBe(START);
    await runTo(kernel, 1000);
    for (const region of REGIONS) expect(read(store, region)).toEqual({ by: 'us' });
  });

  // Invariant: a write made after receiving another region's write wins over it, even when the
  // writer's region issued stamps ahead of the clock (the hybrid logical clock).
  it('makes a write that saw another write win over it', async () => {
    const { kernel, store } = setup();
    const us = store.replica('us-east-1');
    for (let i = 0; i < 500; i++) us.put('P', 'k', { v: i });
    expect(us.stampOf('P', 'k')?.time).toBe(START + 499);
    await runTo(kernel, 200);
    expect(read(store, 'eu-west-1')).toEqual({ v: 499 });
    // At START + 200 the clock is below us-east-1's last stamp: eu-west-1 stamps past what it saw.
    store.replica('eu-west-1').put('P', 'k', { v: 'eu' });
    expect(store.replica('eu-west-1').stampOf('P', 'k')?.time).toBe(START + 500);
    await runTo(kernel, 1000);
    for (const region of REGIONS) expect(read(store, region)).toEqual({ v: 'eu' });
  });

  // Invariant: a delete leaves a tombstone, so an older copy arriving later cannot bring the item back.
  it('keeps a deleted item deleted when an older copy arrives after the delete', async () => {
    const { kernel, store } = setup();
    store.setLag('ap-south-1', 'us-east-1', 500);
    store.replica('ap-south-1').put('P', 'k', { v: 'old' });
    await runTo(kernel, 10);
    store.replica('us-east-1').put('P', 'k', { v: 'us' });
    await runTo(kernel, 20);
    expect(store.replica('us-east-1').delete('P', 'k')).toBe(true);
    expect(store.replica('us-east-1').stampOf('P', 'k')).toEqual({ time: START + 20, region: 'us-east-1' });
    await runTo(kernel, 2000);
    for (const region of REGIONS) expect(read(store, region)).toBeUndefined();
    expect(store.replica('us-east-1').query('P')).toEqual([]);
    const stale = store.stats().links.find((l) => l.from === 'ap-south-1' && l.to === 'us-east-1');
    expect(stale).toMatchObject({ delivered: 0, superseded: 1 });
  });

  // Invariant (the local stand-in's rule): a delete of an item this replica does not hold still
  // leaves a tombstone that replicates and wins over older copies.
  it('replicates a delete of an item the replica does not hold yet', async () => {
    const { kernel, store } = setup();
    store.replica('ap-south-1').put('P', 'k', { v: 'old' });
    await runTo(kernel, 100);
    expect(store.replica('us-east-1').delete('P', 'k')).toBe(false);
    await runTo(kernel, 1000);
    for (const region of REGIONS) expect(read(store, region)).toBeUndefined();
  });
});

describe('replicated store: items', () => {
  // Invariant: no caller aliases stored data; undefined attributes are dropped as DynamoDB drops them.
  it('copies values on write and read, dropping undefined attributes', () => {
    const { store } = setup();
    const replica = store.replica('us-east-1');
    const value = { nested: { list: [1, undefined, 2] }, gone: undefined };
    replica.put('P', 'k', value);
    value.nested.list.push(3);
    const read1 = replica.get<{ nested: { list: number[] } }>('P', 'k');
    expect(read1).toEqual({ nested: { list: [1, 2] } });
    expect(Object.keys(read1 ?? {})).toEqual(['nested']);
    read1?.nested.list.push(9);
    expect(replica.get('P', 'k')).toEqual({ nested: { list: [1, 2] } });
  });

  // Invariant: listings are Query-like: one partition, sort key order, begins_with, reverse, limit.
  it('lists a partition in sort key order, by prefix, reversed and limited', () => {
    const { store } = setup();
    const replica = store.replica('us-east-1');
    for (const sk of ['b#2', 'a#1', 'b#1', 'c', 'b#10']) replica.put('P', sk, { sk });
    replica.put('Q', 'a', { sk: 'other partition' });
    replica.delete('P', 'c');
    const sks = (rows: { sk: string }[]) => rows.map((r) => r.sk);
    expect(sks(replica.query('P'))).toEqual(['a#1', 'b#1', 'b#10', 'b#2']);
    expect(sks(replica.query('P', { prefix: 'b#1' }))).toEqual(['b#1', 'b#10']);
    expect(sks(replica.query('P', { prefix: 'b', reverse: true, limit: 2 }))).toEqual(['b#2', 'b#10']);
    expect(replica.query('none')).toEqual([]);
  });

  // Invariant: an item's index key replicates with it, moves when rewritten and goes with a delete.
  it('keeps the secondary index in step with writes, deletes and replication', async () => {
    const { kernel, store } = setup();
    const us = store.replica('us-east-1');
    us.put('H#1', 'H', { id: 1 }, { pk: 'T#eu', sk: '2026-01-02#1' });
    us.put('H#2', 'H', { id: 2 }, { pk: 'T#eu', sk: '2026-01-01#2' });
    us.put('H#3', 'H', { id: 3 }, { pk: 'T#eu', sk: '2026-01-03#3' });
    us.put('H#3', 'H', { id: 3, moved: true }, { pk: 'T#ap', sk: '2026-01-03#3' });
    us.put('H#1', 'H', { id: 1, status: 'done' });
    us.delete('H#2', 'H');
    await runTo(kernel, 200);
    for (const region of REGIONS) {
      const replica = store.replica(region);
      expect(replica.queryIndex('T#eu').map((r) => r.value)).toEqual([{ id: 1, status: 'done' }]);
      expect(replica.queryIndex('T#ap', { reverse: true }).map((r) => r.pk)).toEqual(['H#3']);
      expect(replica.indexOf('H#1', 'H')).toEqual({ pk: 'T#eu', sk: '2026-01-02#1' });
    }
  });

  // Invariant: a placement table has replicas only in its regions and copies nothing elsewhere.
  it('replicates a placement table among its regions only', async () => {
    const kernel = createKernel({ seed: 1, start: START });
    const store = createReplicatedStore({
      kernel,
      regions: REGIONS,
      tables: [{ name: 'state' }, { name: 'eu-only', regions: ['eu-west-1', 'us-east-1'] }],
    });
    store.replica('eu-west-1', 'eu-only').put('P', 'k', { v: 1 });
    await runTo(kernel, 200);
    expect(store.replica('us-east-1', 'eu-only').get('P', 'k')).toEqual({ v: 1 });
    expect(() => store.replica('ap-south-1', 'eu-only')).toThrow(/no replica in ap-south-1/);
    expect(store.replica('ap-south-1').get('P', 'k')).toBeUndefined();
    expect(store.stats().links.find((l) => l.from === 'eu-west-1' && l.to === 'ap-south-1')?.queued).toBe(0);
  });
});

describe('replicated store: determinism', () => {
  /** A seeded random schedule of writes, deletes, partitions and lag changes, run to the end. */
  async function randomRun(seed: number): Promise<{ dumps: string[]; stats: string; executed: number }> {
    const { kernel, store } = setup({ seed });
    for (let i = 0; i < 400; i++) {
      kernel.at(kernel.int(0, 20_000), () => {
        const region = kernel.pick(REGIONS);
        const replica = store.replica(region);
        const sk = `k${kernel.int(0, 15)}`;
        const roll = kernel.random();
        if (roll < 0.6) replica.put('P', sk, { region, i, at: kernel.now() }, { pk: 'IDX', sk: `${i}` });
        else if (roll < 0.75) replica.delete('P', sk);
        else if (roll < 0.85) store.pause(region, kernel.pick(REGIONS.filter((r) => r !== region)));
        else if (roll < 0.95) store.resume(region, kernel.pick(REGIONS.filter((r) => r !== region)));
        else store.setLag(region, kernel.pick(REGIONS.filter((r) => r !== region)), kernel.int(0, 3000));
      });
    }
    await kernel.run(START + 20_000);
    for (const from of REGIONS) for (const to of REGIONS) if (from !== to) store.resume(from, to);
    await kernel.run(START + 60_000);
    return {
      dumps: REGIONS.map((region) => store.dump(region)),
      stats: JSON.stringify(store.stats()),
      executed: kernel.executed,
    };
  }

  // Invariant: a run is a pure function of its inputs: the same seed gives byte-identical replicas.
  it('gives byte-identical replicas and figures for the same seed', async () => {
    const first = await randomRun(42);
    const second = await randomRun(42);
    expect(second).toEqual(first);
    expect((await randomRun(43)).dumps).not.toEqual(first.dumps);
  });

  // Invariant: once every link is running and drained, all replicas hold the same items and stamps.
  it('converges every replica to the same bytes once every queue is delivered', async () => {
    for (const seed of [1, 2, 3]) {
      const { dumps } = await randomRun(seed);
      expect(new Set(dumps).size).toBe(1);
    }
  });
});
