/**
 * A campaign split over worker threads: each runs a contiguous range of seeds (so the verdict does not
 * depend on the number of workers) and the summaries are merged, the first violation of each
 * invariant taken from the lowest seed.
 */
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Topology } from '../core/topology/types.ts';
import { INVARIANTS } from './invariants.ts';
import { type CampaignSummary, campaign } from './run.ts';
import type { ScheduleOptions } from './schedule.ts';

interface Job {
  readonly topology: Topology;
  readonly seed: number;
  readonly schedules: number;
  readonly schedule?: ScheduleOptions;
  readonly digest?: boolean;
}

type Message = { readonly done: number } | { readonly summary: CampaignSummary };

export async function parallelCampaign(
  topology: Topology,
  options: {
    readonly schedules: number;
    readonly seed: number;
    readonly schedule?: ScheduleOptions;
    readonly workers?: number;
    /** Every schedule's digest in the summary (SimulateOptions.digest). */
    readonly digest?: boolean;
    readonly onProgress?: (done: number) => void;
  },
): Promise<CampaignSummary> {
  const workers = Math.max(1, Math.min(options.workers ?? availableParallelism(), options.schedules));
  if (workers === 1) {
    let done = 0;
    return campaign(topology, { ...options, onResult: () => options.onProgress?.(++done) });
  }
  const per = Math.ceil(options.schedules / workers);
  const done = new Array<number>(workers).fill(0);
  const parts = await Promise.all(
    Array.from({ length: workers }, (_, i) => {
      const count = Math.max(0, Math.min(per, options.schedules - i * per));
      const job: Job = {
        topology,
        seed: options.seed + i * per,
        schedules: count,
        ...(options.schedule ? { schedule: options.schedule } : {}),
        ...(options.digest ? { digest: true } : {}),
      };
      return new Promise<CampaignSummary>((resolve, reject) => {
        const worker = new Worker(new URL(import.meta.url), { workerData: job });
        worker.on('message', (message: Message) => {
          if ('done' in message) {
            done[i] = message.done;
            options.onProgress?.(done.reduce((a, b) => a + b, 0));
          } else resolve(message.summary);
        });
        worker.on('error', reject);
        worker.on('exit', (code) => {
          if (code !== 0) reject(new Error(`simulation worker ${i} exited with ${code}`));
        });
      });
    }),
  );
  return merge(parts);
}

function merge(parts: readonly CampaignSummary[]): CampaignSummary {
  const invariants = Object.fromEntries(
    INVARIANTS.map((name) => {
      const held = parts.reduce((sum, p) => sum + p.invariants[name].held, 0);
      const first = parts.map((p) => p.invariants[name].first_violation).find((v) => v !== undefined);
      return [name, first ? { held, first_violation: first } : { held }];
    }),
  ) as CampaignSummary['invariants'];
  return {
    schedules: parts.reduce((sum, p) => sum + p.schedules, 0),
    invariants,
    failed: parts.flatMap((p) => p.failed),
    events: parts.reduce((sum, p) => sum + p.events, 0),
    simulated_ms: parts.reduce((sum, p) => sum + p.simulated_ms, 0),
    // Parts are contiguous ranges of seeds, in order.
    ...(parts.some((p) => p.digests) ? { digests: parts.flatMap((p) => p.digests ?? []) } : {}),
  };
}

if (!isMainThread && parentPort) {
  const job = workerData as Job;
  const port = parentPort;
  let done = 0;
  const summary = await campaign(job.topology, {
    schedules: job.schedules,
    seed: job.seed,
    ...(job.schedule ? { schedule: job.schedule } : {}),
    ...(job.digest ? { digest: true } : {}),
    onResult: () => {
      done += 1;
      if (done % 10 === 0 || done === job.schedules) port.postMessage({ done });
    },
  });
  port.postMessage({ summary });
}
