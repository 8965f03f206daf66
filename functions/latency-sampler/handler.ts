import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import type { FunctionDeps } from '../../lib/app/deps.ts';
import { runLatencySampler } from '../../lib/app/latency/sampler.ts';
import { LATENCY_LINK_MESSAGE, latencySamplerMetrics, type MetricsPublisher } from '../../lib/app/metrics.ts';
import { parseWith, scheduledEvent } from '../shared/http.ts';

/** The schedule's input (EventBridge Scheduler passes its `Input`); other fields are ignored. */
const scheduledInputSchema = z.looseObject({
  samples: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(20))),
});

export type LatencySamplerInput = z.infer<typeof scheduledInputSchema> | null | undefined;

export interface LatencySamplerSummary {
  readonly region: string;
  readonly requests: number;
  readonly pairs: readonly { to: string; ewma_ms?: number; samples: number; failures: number }[];
  readonly events: readonly string[];
}

function parseInput(event: unknown): z.infer<typeof scheduledInputSchema> {
  return parseWith(scheduledInputSchema, scheduledEvent(event), 'latency sampler input', '(event)');
}

/** The latency sampler of a region, run by EventBridge Scheduler at the topology's interval. */
export function createLatencySamplerHandler(
  deps: FunctionDeps<'latency-sampler'>,
  options: {
    readonly log?: (line: string) => void;
    /** Where the worst link's figure goes (LatencyOverTarget, lib/app/metrics.ts); default nowhere. */
    readonly metrics?: MetricsPublisher;
  } = {},
) {
  const log = options.log ?? ((line: string) => console.log(line));
  return middy<LatencySamplerInput, LatencySamplerSummary, Error, Context>().handler(async (event) => {
    const input = parseInput(event);
    const report = await runLatencySampler(
      deps,
      input.samples === undefined ? {} : { samples: input.samples },
    );
    options.metrics?.publish(latencySamplerMetrics(deps.topology, report));
    const summary: LatencySamplerSummary = {
      region: report.region,
      requests: report.requests,
      pairs: report.pairs.map((p) => ({
        to: p.to,
        ...(p.entry ? { ewma_ms: p.entry.ewma_ms } : {}),
        samples: p.samples.length,
        failures: p.failures,
      })),
      events: report.events.map((e) => `${e.type} ${String(e.detail.from)}->${String(e.detail.to)}`),
    };
    log(JSON.stringify({ level: 'info', message: 'latency sampler', ...summary }));
    // One line a link with its percentiles over its window: the dashboard's latency graphs query
    // these with Logs Insights instead of a custom metric a link.
    for (const { to, entry } of report.pairs) {
      if (!entry) continue;
      log(
        JSON.stringify({
          level: 'info',
          message: LATENCY_LINK_MESSAGE,
          region: report.region,
          peer: to,
          p50_ms: entry.p50_ms,
          p95_ms: entry.p95_ms,
          p99_ms: entry.p99_ms,
        }),
      );
    }
    return summary;
  });
}
