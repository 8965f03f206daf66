import { describe, expect, it } from 'vitest';
import { countWrites, WriteCounter } from '../../lib/app/replication/counting-state.ts';

/** A counter whose ADDs finish when the test says so. */
function manualCounter() {
  const sent: number[] = [];
  const finish: ((error?: Error) => void)[] = [];
  return {
    sent,
    finishNext: (error?: Error) => finish.shift()?.(error),
    port: {
      countWrites: (count: number) =>
        new Promise<void>((resolve, reject) => {
          sent.push(count);
          finish.push((error) => (error ? reject(error) : resolve()));
        }),
    },
  };
}

const clock = { now: () => 0 };
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('the write counter', () => {
  it('shares one ADD between the writes that finish while another ADD is on its way', async () => {
    const manual = manualCounter();
    const counter = new WriteCounter(manual.port, clock);
    const done: number[] = [];
    const first = counter.add(1).then(() => done.push(1));
    const more = [counter.add(1), counter.add(1), counter.add(1)].map((p, i) =>
      p.then(() => done.push(i + 2)),
    );
    expect(manual.sent).toEqual([1]);
    manual.finishNext();
    await first;
    await tick();
    expect(manual.sent).toEqual([1, 3]);
    expect(done).toEqual([1]);
    manual.finishNext();
    await Promise.all(more);
    expect(done).toEqual([1, 2, 3, 4]);
  });

  it('counts writes made together in one ADD, sent when the last of them ends', async () => {
    const manual = manualCounter();
    const counter = new WriteCounter(manual.port, clock);
    const landed: ((fail?: boolean) => void)[] = [];
    const port = countWrites(
      {
        write: () =>
          new Promise<string>((resolve, reject) =>
            landed.push((fail) =>
              fail ? reject(new Error('conditional check failed')) : resolve('written'),
            ),
          ),
      },
      ['write'],
      counter,
    );
    // A probe round's two views and its heartbeat, written in parallel, and one that fails.
    const writes = [port.write(), port.write(), port.write(), port.write()];
    const failed = writes[3]?.catch((error: Error) => error.message);
    landed[0]?.();
    await tick();
    landed[1]?.();
    await tick();
    expect(manual.sent).toEqual([]);
    landed[3]?.(true);
    await tick();
    expect(manual.sent).toEqual([]);
    landed[2]?.();
    await tick();
    expect(manual.sent).toEqual([3]);
    manual.finishNext();
    expect(await Promise.all(writes.slice(0, 3))).toEqual(['written', 'written', 'written']);
    expect(await failed).toBe('conditional check failed');
    // Alone, a write is counted as soon as it lands.
    const alone = port.write();
    landed[4]?.();
    await tick();
    expect(manual.sent).toEqual([3, 1]);
    manual.finishNext();
    expect(await alone).toBe('written');
  });

  it('fails every write whose count failed, and counts later writes again', async () => {
    const manual = manualCounter();
    const counter = new WriteCounter(manual.port, clock);
    const failed = counter.add(1);
    manual.finishNext(new Error('throttled'));
    await expect(failed).rejects.toThrow('throttled');
    const next = counter.add(2);
    manual.finishNext();
    await next;
    expect(manual.sent).toEqual([1, 2]);
  });

  it('counts a wrapped port write only after it succeeded, and never a read', async () => {
    const manual = manualCounter();
    const counter = new WriteCounter(manual.port, clock);
    const order: string[] = [];
    const port = countWrites(
      {
        write: async (fail: boolean) => {
          order.push('write');
          if (fail) throw new Error('conditional check failed');
          return 'written';
        },
        read: async () => 'read',
      },
      ['write'],
      counter,
    );
    await expect(port.write(true)).rejects.toThrow('conditional');
    expect(await port.read()).toBe('read');
    expect(manual.sent).toEqual([]);
    const written = port.write(false);
    await tick();
    expect(manual.sent).toEqual([1]);
    manual.finishNext();
    expect(await written).toBe('written');
    expect(order).toEqual(['write', 'write']);
  });
});
