import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import type { ControlJobDeps } from '../../lib/app/deps.ts';
import type { Assessment } from '../../lib/app/edge.ts';
import { type MetricsPublisher, probeRoundMetrics } from '../../lib/app/metrics.ts';
import type { MinuteRoundReport } from '../../lib/app/minute-rounds.ts';
import { type ProbeMinuteReport, runProbeMinute, runProbeMinuteRound } from '../../lib/app/probe-minute.ts';
import type { ProbeRoundReport } from '../../lib/app/probe-round.ts';
import type { WitnessDeps, WitnessRoundReport } from '../../lib/app/witness-round.ts';
import {
  type MinuteInput,
  type MinuteOutput,
  minuteInputSchema,
  minuteOptions,
  minuteOutcome,
  parseJobInput,
  type RoundMessageEvent,
} from '../shared/minute-input.ts';

/**
 * The invocation's input. The region's minute driver passes `minute` (one round, then the next
 * step); an operator's invocation (or an EventBridge Scheduled Event) runs the whole minute, and
 * `rounds` lets it run a single round. Other fields are ignored.
 */
const scheduledInputSchema = z.looseObject({
  rounds: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(60))),
  minute: z.optional(minuteInputSchema),
});

export type ScheduledInput = z.infer<typeof scheduledInputSchema> | RoundMessageEvent | null | undefined;

interface HealthProbeHandlerOptions {
  /** Waits between the rounds of one invocation; default a real timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** One structured line per invocation (scheduled results are not kept anywhere else); default stdout. */
  readonly log?: (line: string) => void;
  /** Where each round's availability and utilization figures go (lib/app/metrics.ts); default nowhere. */
  readonly metrics?: MetricsPublisher;
}

/** One round as the invocation reports and logs it: decisions, not the full views. */
interface RoundSummary {
  readonly observer: string;
  readonly at?: string;
  readonly error?: string;
  readonly status?: string;
  readonly epoch?: number;
  readonly cut_off?: boolean;
  readonly failed?: readonly string[];
  readonly fenced?: boolean;
  readonly unfenced?: boolean;
  readonly failovers_started?: readonly string[];
  readonly events?: readonly string[];
  readonly written?: readonly string[];
  readonly skipped?: readonly string[];
}

interface ProbeInvocationReport {
  readonly planned: number;
  readonly rounds: readonly RoundSummary[];
  readonly stopped_early?: string;
  /** With the driver's input: where the minute stands and when its next round starts. */
  readonly minute?: MinuteOutput;
}

interface ParsedInput {
  readonly rounds?: number;
  readonly minute?: MinuteInput;
}

/**
 * The health probe of a region: the policy's rounds inside each minute (lib/app/probe-minute.ts), one
 * per invocation from the region's minute driver. The last assessment is kept across invocations of
 * a warm container so verdict changes become events once.
 */
export function createHealthProbeHandler(deps: ControlJobDeps, options: HealthProbeHandlerOptions = {}) {
  let previous: Assessment | undefined;
  const keep = (rounds: readonly (ProbeRoundReport | { error: string })[]) => {
    const done = rounds.filter((r): r is ProbeRoundReport => !('error' in r));
    const last = done.at(-1);
    if (last) previous = last.assessment;
    options.metrics?.publish(done.flatMap((round) => probeRoundMetrics(deps.topology, round)));
  };
  return probeHandler(options, async (input, context) => {
    if (input.minute) {
      const round = await runProbeMinuteRound(deps, { ...minuteOptions(input.minute), previous });
      keep(round.rounds);
      return summarize(round, deps.regionId);
    }
    const minute = await runProbeMinute(deps, {
      ...wholeMinute(input, context, options),
      ...(previous === undefined ? {} : { previous }),
    });
    keep(minute.rounds);
    return summarize(minute, deps.regionId);
  });
}

/** The same probe run by a witness: it writes its views into every region replica it reaches. */
export function createWitnessProbeHandler(deps: WitnessDeps, options: HealthProbeHandlerOptions = {}) {
  return probeHandler(options, async (input, context) =>
    summarize(
      input.minute
        ? await runProbeMinuteRound(deps, minuteOptions(input.minute))
        : await runProbeMinute(deps, wholeMinute(input, context, options)),
      deps.witnessId,
    ),
  );
}

function probeHandler(
  options: HealthProbeHandlerOptions,
  run: (input: ParsedInput, context: Context) => Promise<ProbeInvocationReport>,
) {
  const log = options.log ?? ((line: string) => console.log(line));
  return middy<ScheduledInput, ProbeInvocationReport, Error, Context>().handler(async (event, context) => {
    const report = await run(parseInput(event), context);
    log(JSON.stringify({ level: 'info', message: 'health probe', ...report }));
    return report;
  });
}

function parseInput(event: unknown): ParsedInput {
  const input = parseJobInput(scheduledInputSchema, event, 'health probe input');
  return {
    ...(input.rounds === undefined ? {} : { rounds: input.rounds }),
    ...(input.minute === undefined ? {} : { minute: input.minute }),
  };
}

function wholeMinute(input: ParsedInput, context: Context, options: HealthProbeHandlerOptions) {
  return {
    ...(input.rounds === undefined ? {} : { rounds: input.rounds }),
    sleep: options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
    remainingMs: () => context.getRemainingTimeInMillis(),
  };
}

function summarize(
  minute:
    | ProbeMinuteReport<ProbeRoundReport | WitnessRoundReport>
    | MinuteRoundReport<ProbeRoundReport | WitnessRoundReport>,
  observer: string,
): ProbeInvocationReport {
  return {
    planned: minute.planned,
    rounds: minute.rounds.map((round): RoundSummary => {
      if ('error' in round) return { observer, error: round.error };
      if ('written' in round) {
        return {
          observer,
          at: round.at,
          written: round.written,
          skipped: round.skipped.map((s) => `${s.region}: ${s.error}`),
        };
      }
      return {
        observer,
        at: round.at,
        status: round.status,
        epoch: round.epoch,
        cut_off: round.assessment.cut_off,
        failed: round.assessment.failed.map((f) => f.region),
        fenced: round.actions.fenced,
        unfenced: round.actions.unfenced,
        failovers_started: round.actions.failovers_started,
        events: round.actions.events.map((e) => e.type),
      };
    }),
    ...minuteOutcome(minute),
  };
}
