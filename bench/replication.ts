/**
 * Replication figures on the local runtime: three regional dynalite stores with the
 * global-table-like replication between them.
 *
 * 1. Consistency check time for 100 and 10,000 sampled keys compared across the 3 regions (each
 *    store seeded with the same 10,000 items, written to each store directly so the seeding does not
 *    wait for replication).
 * 2. Lag measurement error: the lag monitor's reading of a link with an injected lag against that
 *    lag, in simulated seconds (time moves only when the bench says so, so the figures are exact),
 *    read at phases spread over the beat interval. The reading is how long the oldest heartbeat the
 *    replica lacks has been pending: never above the true lag, at most one beat interval below it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { runConsistencyCheck } from '../lib/app/replication/consistency-check.ts';
import { readReplicationLag, runReplicationRound } from '../lib/app/replication/monitor.ts';
import { validateTopology } from '../lib/core/topology/validate.ts';
import { type LocalRuntime, startLocalRuntime } from '../lib/runtime/local.ts';
import { defaultTopologyJson } from '../test/fixtures/topologies.ts';
import { ManualScheduler } from '../test/support/manual-time.ts';

const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';

async function withRuntime<T>(
  run: (runtime: LocalRuntime, scheduler: ManualScheduler) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'cortex-bench-replication-'));
  const scheduler = new ManualScheduler();
  const runtime = await startLocalRuntime({
    topology: validateTopology(defaultTopologyJson()),
    dataDir: dir,
    fresh: true,
    scheduler,
    replicationLagMs: 200,
  });
  try {
    return await run(runtime, scheduler);
  } finally {
    await runtime.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The same `count` items in every store, written directly (as if long replicated). */
async function seed(runtime: LocalRuntime, count: number, at: number): Promise<void> {
  for (const region of runtime.regions) {
    const client = region.store.createClient();
    for (let i = 0; i < count; i += 25) {
      const items = Array.from({ length: Math.min(25, count - i) }, (_, j) => ({
        PutRequest: {
          Item: {
            pk: { S: `BENCH#${i + j}` },
            sk: { S: 'ITEM' },
            record_type: { S: 'target_health' },
            updated_at: { N: String(at) },
            payload: { S: `item ${i + j} ${'x'.repeat(120)}` },
          },
        },
      }));
      let pending: typeof items | undefined = items;
      while (pending && pending.length > 0) {
        const answer = await client.send(
          new BatchWriteItemCommand({ RequestItems: { [runtime.tableName]: pending } }),
        );
        pending = answer.UnprocessedItems?.[runtime.tableName] as typeof items | undefined;
      }
    }
  }
}

export interface CheckTiming {
  readonly sample_size: number;
  readonly sampled: number;
  readonly inconsistent: number;
  readonly median_ms: number;
  readonly runs: number;
}

/** Median wall time of a consistency check across the 3 regions, per sample size. */
export async function measureConsistencyChecks(
  sizes: readonly number[] = [100, 10_000],
): Promise<CheckTiming[]> {
  return withRuntime(async (runtime, scheduler) => {
    await seed(runtime, Math.max(...sizes), scheduler.now());
    scheduler.advance(3_600_000);
    const deps = runtime.region(US).deps;
    const out: CheckTiming[] = [];
    for (const size of sizes) {
      const runs = size <= 1_000 ? 9 : 3;
      const samples: number[] = [];
      let last: Awaited<ReturnType<typeof runConsistencyCheck>> | undefined;
      for (let i = 0; i < runs + 1; i++) {
        const t0 = performance.now();
        last = await runConsistencyCheck(
          deps,
          { sample_size: size },
          { trigger: 'api', random: () => (i * 0.37) % 1 },
        );
        if (i > 0) samples.push(performance.now() - t0); // the first run warms up
        await runtime.replication.flush({ all: true });
      }
      samples.sort((a, b) => a - b);
      out.push({
        sample_size: size,
        sampled: last?.sampled ?? 0,
        inconsistent: last?.inconsistent ?? 0,
        median_ms: samples[Math.floor(samples.length / 2)] ?? Number.NaN,
        runs,
      });
    }
    return out;
  });
}

export interface LagError {
  readonly injected_s: number;
  readonly beat_interval_s: number;
  readonly readings: number;
  /** Mean of measured - injected, simulated seconds. */
  readonly mean_error_s: number;
  /** Largest |measured - injected|. */
  readonly max_abs_error_s: number;
}

/**
 * The monitor beats us-east-1 every `interval` while the us-east-1 -> eu-west-1 link carries
 * `injected`; eu-west-1 reads the link after every beat once the lag is established.
 */
export async function measureLagError(injectedSeconds: number, intervalSeconds: number): Promise<LagError> {
  return withRuntime(async (runtime, scheduler) => {
    const interval = intervalSeconds * 1000;
    const deps = (region: string) => runtime.region(region).deps;
    const tick = async (ms: number) => {
      scheduler.advance(ms);
      await runtime.replication.flush();
    };
    for (const region of [US, EU, AP]) await runReplicationRound(deps(region), { intervalMs: interval });
    await tick(1_000);
    runtime.replication.setLag(US, EU, injectedSeconds * 1000);
    const errors: number[] = [];
    const steps = Math.ceil((injectedSeconds + 60) / intervalSeconds);
    for (let step = 0; step < steps; step++) {
      await runReplicationRound(deps(US), { intervalMs: interval });
      // Readers look at any moment, not in step with the beats: a deterministic spread of phases.
      const phase = Math.round(((step * 0.618) % 1) * interval);
      await tick(phase);
      if ((step + 1) * intervalSeconds > injectedSeconds + intervalSeconds) {
        const reading = await readReplicationLag(deps(EU));
        const pair = reading.pairs.find((p) => p.source === US && p.replica === EU);
        if (typeof pair?.lag_seconds === 'number') errors.push(pair.lag_seconds - injectedSeconds);
      }
      await tick(interval - phase);
    }
    const round = (n: number) => Math.round(n * 100) / 100;
    return {
      injected_s: injectedSeconds,
      beat_interval_s: intervalSeconds,
      readings: errors.length,
      mean_error_s: round(errors.reduce((a, b) => a + b, 0) / Math.max(1, errors.length)),
      max_abs_error_s: round(Math.max(0, ...errors.map(Math.abs))),
    };
  });
}
