import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import type { Scheduler } from '../../lib/adapters/local/replication.ts';
import type { ReplicationDeps } from '../../lib/app/replication/deps.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { type LocalRuntime, startLocalRuntime } from '../../lib/runtime/local.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';

/** Time that moves only when the test says so; timers fire on `advance`. */
export class ManualScheduler implements Scheduler {
  time = Date.UTC(2026, 10, 26, 12);
  #timers: { at: number; run: () => void }[] = [];

  now(): number {
    return this.time;
  }

  setTimer(delayMs: number, run: () => void): () => void {
    const timer = { at: this.time + delayMs, run };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  advance(ms: number): void {
    this.time += ms;
    const due = this.#timers.filter((t) => t.at <= this.time).sort((a, b) => a.at - b.at);
    this.#timers = this.#timers.filter((t) => t.at > this.time);
    for (const timer of due) timer.run();
  }
}

export interface ManualRuntime {
  readonly runtime: LocalRuntime;
  readonly scheduler: ManualScheduler;
  /** A region's replication deps. */
  deps(region: string): ReplicationDeps;
  /** Moves time on and waits until every change due by then is applied. */
  tick(ms: number): Promise<void>;
}

/**
 * A fresh local runtime (default topology, 200 ms replication lag) in manual time for each test of
 * the calling file: started in beforeEach, closed and removed in afterEach.
 */
export function useManualRuntime(prefix: string): ManualRuntime {
  let dataDir: string | undefined;
  let runtime: LocalRuntime | undefined;
  let scheduler = new ManualScheduler();
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), prefix));
    scheduler = new ManualScheduler();
    runtime = await startLocalRuntime({
      topology: validateTopology(defaultTopologyJson()),
      dataDir,
      fresh: true,
      inMemory: true,
      scheduler,
      replicationLagMs: 200,
    });
  });
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  const started = (): LocalRuntime => {
    if (!runtime) throw new Error('the local runtime is not running');
    return runtime;
  };
  return {
    get runtime() {
      return started();
    },
    get scheduler() {
      return scheduler;
    },
    deps: (region) => started().region(region).deps,
    tick: async (ms) => {
      scheduler.advance(ms);
      await started().replication.flush();
    },
  };
}
