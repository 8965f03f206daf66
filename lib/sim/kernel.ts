/**
 * The simulator's kernel: a virtual clock driven by one event queue and a seeded random source
 * (DESIGN principle 8). A run is a pure function of its inputs: events at the same virtual time run
 * in the order they were scheduled, and between two events every promise the last one started is
 * allowed to settle (in-memory ports answer through microtasks only), so the same seed replays the
 * same interleaving. A simulated hour takes milliseconds: nothing waits on the wall clock.
 *
 * Code under simulation sleeps through `sleep` (a promise that resolves when the kernel reaches its
 * time) and schedules work through `at`; it never touches real timers.
 */
import type { Clock } from '../ports.ts';

export interface SimKernel extends Clock {
  /** Virtual epoch ms. */
  now(): number;
  /**
   * Runs `run` at now + `delayMs` (>= 0); returns a function that cancels it. `synchronous`: `run`
   * does all its work before it returns and starts no promise (replication's deliveries, half of a
   * run's events), so nothing is left to settle after it and the run goes on without a macrotask.
   */
  at(delayMs: number, run: () => unknown, options?: { readonly synchronous?: boolean }): () => void;
  /** Resolves at now + `ms`. */
  sleep(ms: number): Promise<void>;
  /** Uniform in [0, 1) from the seed. */
  random(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  /** One of `items` (not empty). */
  pick<T>(items: readonly T[]): T;
  /**
   * Runs events until the queue is empty or the next one is later than `untilMs` (virtual), then sets
   * the clock to `untilMs`. `afterEach` runs after every event has settled (invariant checks); a
   * throw from it (or from an event) stops the run and propagates.
   */
  run(untilMs: number, afterEach?: (event: EventInfo) => void | Promise<void>): Promise<void>;
  /** Events run so far. */
  readonly executed: number;
}

export interface EventInfo {
  readonly at: number;
  readonly seq: number;
  readonly label: string;
}

interface Scheduled {
  readonly at: number;
  readonly seq: number;
  readonly label: string;
  readonly run: () => unknown;
  readonly synchronous: boolean;
  cancelled: boolean;
}

/** mulberry32: small, fast, good enough for schedules; a 32-bit seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Lets every promise chain started by the last event settle (a macrotask boundary). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

export function createKernel(options: { readonly seed: number; readonly start?: number }): SimKernel {
  const random = seededRandom(options.seed);
  let now = options.start ?? Date.parse('2026-11-26T12:00:00Z');
  let seq = 0;
  let executed = 0;
  // A binary heap ordered by (at, seq).
  const heap: Scheduled[] = [];
  const less = (a: Scheduled, b: Scheduled) => a.at < b.at || (a.at === b.at && a.seq < b.seq);
  const push = (item: Scheduled) => {
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(heap[i] as Scheduled, heap[parent] as Scheduled)) break;
      [heap[i], heap[parent]] = [heap[parent] as Scheduled, heap[i] as Scheduled];
      i = parent;
    }
  };
  const pop = (): Scheduled | undefined => {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let smallest = i;
        if (l < heap.length && less(heap[l] as Scheduled, heap[smallest] as Scheduled)) smallest = l;
        if (r < heap.length && less(heap[r] as Scheduled, heap[smallest] as Scheduled)) smallest = r;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest] as Scheduled, heap[i] as Scheduled];
        i = smallest;
      }
    }
    return top;
  };

  const at = (delayMs: number, run: () => unknown, label = 'event', synchronous = false): (() => void) => {
    if (!Number.isFinite(delayMs) || delayMs < 0) throw new RangeError(`kernel.at: delay ${delayMs} ms`);
    const item: Scheduled = { at: now + delayMs, seq: seq++, label, run, synchronous, cancelled: false };
    push(item);
    return () => {
      item.cancelled = true;
    };
  };

  const kernel: SimKernel = {
    now: () => now,
    at: (delayMs, run, options) => at(delayMs, run, 'event', options?.synchronous === true),
    sleep: (ms) => new Promise<void>((resolve) => at(Math.max(0, ms), resolve, 'sleep')),
    random,
    int: (min, max) => min + Math.floor(random() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new RangeError('kernel.pick: no items');
      return items[Math.floor(random() * items.length)] as T;
    },
    async run(untilMs, afterEach) {
      let failure: unknown;
      for (;;) {
        const next = heap[0];
        if (!next || next.at > untilMs) break;
        pop();
        if (next.cancelled) continue;
        now = next.at;
        executed += 1;
        let settled = next.synchronous;
        try {
          const result = next.run();
          if (result instanceof Promise) {
            settled = false;
            result.catch((error: unknown) => {
              failure ??= error;
            });
          }
        } catch (error) {
          failure ??= error;
        }
        if (!settled) await settle();
        if (failure !== undefined) throw failure;
        const checked = afterEach?.({ at: next.at, seq: next.seq, label: next.label });
        if (checked) await checked;
      }
      now = Math.max(now, untilMs);
    },
    get executed() {
      return executed;
    },
  };
  return kernel;
}
