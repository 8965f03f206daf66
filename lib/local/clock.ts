/**
 * Simulated time for the local control plane (`--speed n`): simulated time runs n times faster than
 * real time, so a 90-second detection window can pass in under a second while every record and
 * report stays in simulated seconds (DESIGN principle 8). Everything local takes its time from one
 * of these: the handlers' clock, replication lag, probe intervals, DNS health checks, workflow waits.
 */
import type { Scheduler } from '../adapters/local/replication.ts';

export interface SimClock extends Scheduler {
  /** Simulated ms per real ms (1 = real time). */
  readonly speed: number;
  /** Simulated epoch ms: the real time at start plus the real time elapsed since, times `speed`. */
  now(): number;
  /** Runs `run` once after `delayMs` simulated ms (delay / speed real ms); returns a cancel function. */
  setTimer(delayMs: number, run: () => void): () => void;
  /** Resolves after `ms` simulated ms; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Simulated ms as real ms (what a real timeout must be to last `ms` simulated). */
  toRealMs(ms: number): number;
  /** Cancels every pending timer and sleep (sleeps reject); later timers never fire. */
  close(): void;
}

interface SimClockOptions {
  /** Default 1. Must be a finite number > 0. */
  readonly speed?: number;
  /** Simulated epoch ms at creation; default the real time. */
  readonly start?: number;
}

/** Speeds beyond this make every timeout shorter than the event loop's own latency. */
const MAX_SPEED = 10_000;

export function checkSpeed(speed: number): void {
  if (typeof speed !== 'number' || !Number.isFinite(speed) || speed <= 0 || speed > MAX_SPEED) {
    throw new RangeError(`speed must be a number above 0 and at most ${MAX_SPEED}, got ${speed}`);
  }
}

export function createSimClock(options: SimClockOptions = {}): SimClock {
  const speed = options.speed ?? 1;
  checkSpeed(speed);
  const start = options.start ?? Date.now();
  // performance.now() is monotonic: a wall-clock step (NTP) cannot move simulated time backwards.
  const realStart = performance.now();
  const timers = new Set<{ timer: NodeJS.Timeout; cancel: () => void }>();
  const sleepers = new Set<(reason: Error) => void>();
  let closed = false;

  const toRealMs = (ms: number) => Math.max(0, ms) / speed;

  const setTimer = (delayMs: number, run: () => void): (() => void) => {
    if (closed) return () => undefined;
    const entry = {
      timer: setTimeout(() => {
        timers.delete(entry);
        run();
      }, toRealMs(delayMs)),
      cancel: () => {
        clearTimeout(entry.timer);
        timers.delete(entry);
      },
    };
    // Like the system scheduler: pending timers never keep a process alive on their own.
    entry.timer.unref();
    timers.add(entry);
    return entry.cancel;
  };

  return {
    speed,
    now: () => start + (performance.now() - realStart) * speed,
    setTimer,
    toRealMs,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        if (closed) {
          reject(new Error('the simulated clock is closed'));
          return;
        }
        const fail = (reason: unknown) => {
          cancel();
          sleepers.delete(fail);
          signal?.removeEventListener('abort', onAbort);
          reject(reason);
        };
        const onAbort = () => fail(signal?.reason);
        const cancel = setTimer(ms, () => {
          sleepers.delete(fail);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
        sleepers.add(fail);
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    close: () => {
      closed = true;
      for (const entry of [...timers]) entry.cancel();
      for (const fail of [...sleepers]) fail(new Error('the simulated clock is closed'));
    },
  };
}
