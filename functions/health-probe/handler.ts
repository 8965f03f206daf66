import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import type { ControlDeps } from '../../lib/app/deps.ts';
import {
  type ProbeMinuteReport,
  type ProbeRoundReport,
  runProbeMinute,
  type WitnessDeps,
  type WitnessRoundReport,
} from '../../lib/app/probe-round.ts';
import type { Assessment } from '../../lib/core/health/types.ts';
import { parseWith, scheduledEvent } from '../shared/http.ts';

/**
 * The schedule's input. EventBridge Scheduler passes the schedule's `Input` (an EventBridge rule would
 * pass a Scheduled Event): other fields are ignored. `rounds` lets an operator invoke a single round.
 */
const scheduledInputSchema = z.looseObject({
  rounds: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(60))),
});

export type ScheduledInput = z.infer<typeof scheduledInputSchema> | null | undefined;

export interface HealthProbeHandlerOptions {
  /** Waits between the rounds of one invocation; default a real timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** One structured line per invocation (scheduled results are not kept anywhere else); default stdout. */
  readonly log?: (line: string) => void;
}

/** One round as the invocation reports and logs it: decisions, not the full views. */
export interface RoundSummary {
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

export interface ProbeInvocationReport {
  readonly planned: number;
  readonly rounds: readonly RoundSummary[];
  readonly stopped_early?: string;
}

/**
 * The health probe of a region, run every minute by EventBridge Scheduler: the policy's rounds
 * inside the minute (lib/app/probe-round.ts). The last assessment is kept across invocations of a
 * warm container so verdict changes become events once.
 */
export function createHealthProbeHandler(deps: ControlDeps, options: HealthProbeHandlerOptions = {}) {
  let previous: Assessment | undefined;
  return probeHandler(options, async (input, context) => {
    const minute = await runProbeMinute(deps, {
      ...minuteOptions(input, context, options),
      ...(previous === undefined ? {} : { previous }),
    });
    const last = [...minute.rounds].reverse().find((r): r is ProbeRoundReport => !('error' in r));
    if (last) previous = last.assessment;
    return summarize(minute, deps.regionId);
  });
}

/** The same probe run by a witness: it writes its views into every region replica it reaches. */
export function createWitnessProbeHandler(deps: WitnessDeps, options: HealthProbeHandlerOptions = {}) {
  return probeHandler(options, async (input, context) =>
    summarize(await runProbeMinute(deps, minuteOptions(input, context, options)), deps.witnessId),
  );
}

function probeHandler(
  options: HealthProbeHandlerOptions,
  run: (input: { rounds?: number }, context: Context) => Promise<ProbeInvocationReport>,
) {
  const log = options.log ?? ((line: string) => console.log(line));
  return middy<ScheduledInput, ProbeInvocationReport, Error, Context>().handler(async (event, context) => {
    const report = await run(parseInput(event), context);
    log(JSON.stringify({ level: 'info', message: 'health probe', ...report }));
    return report;
  });
}

function parseInput(event: unknown): { rounds?: number } {
  const input = parseWith(scheduledInputSchema, scheduledEvent(event), 'health probe input', '(event)');
  return input.rounds === undefined ? {} : { rounds: input.rounds };
}

function minuteOptions(input: { rounds?: number }, context: Context, options: HealthProbeHandlerOptions) {
  return {
    ...input,
    sleep: options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
    remainingMs: () => context.getRemainingTimeInMillis(),
  };
}

function summarize(
  minute: ProbeMinuteReport<ProbeRoundReport | WitnessRoundReport>,
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
    ...(minute.stopped_early === undefined ? {} : { stopped_early: minute.stopped_early }),
  };
}
