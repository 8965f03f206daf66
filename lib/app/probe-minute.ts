/**
 * The probe's rounds inside EventBridge Scheduler's one-minute ticks (DESIGN: 60-second precision):
 * all of a minute in one invocation (an operator's run, tests), or one round per invocation driven
 * by the region's minute driver (on AWS: lib/infra/minute-driver.ts), which waits between them.
 */
import { type HealthPolicy, healthPolicyOf } from '../core/health/evaluate.ts';
import type { Assessment } from '../core/health/types.ts';
import type { ControlDeps } from './deps.ts';
import {
  type MinuteDriverPosition,
  type MinuteReport,
  type MinuteRoundReport,
  runDrivenRound,
  runMinuteRounds,
} from './minute-rounds.ts';
import { type ProbeRoundReport, runProbeRound } from './probe-round.ts';
import { runWitnessRound, type WitnessDeps, type WitnessRoundReport } from './witness-round.ts';

export interface ProbeMinuteOptions {
  /** Rounds in this invocation; default floor(60 / interval_seconds), at least 1. */
  readonly rounds?: number;
  /** Waits between rounds (real timers on Lambda; tests and the simulator pass their own). */
  readonly sleep: (ms: number) => Promise<void>;
  /** Time left in the invocation (Lambda `getRemainingTimeInMillis`); no round starts without room for it. */
  readonly remainingMs?: () => number;
  /** The assessment of the last round before this minute (the handler keeps it across invocations). */
  readonly previous?: Assessment;
}

/** One invocation's rounds (lib/app/minute-rounds.ts). */
export type ProbeMinuteReport<R> = MinuteReport<R>;

/** State I/O after the probes' deadline: a round needs this much beyond its timeout. */
export const PROBE_ROUND_MARGIN_MS = 3_000;

/**
 * Runs the policy's rounds inside one scheduled invocation: EventBridge Scheduler fires at most once a
 * minute, the spec probes every 30 s (or 10 s). Rounds start `interval_seconds` apart.
 */
export function runProbeMinute(
  deps: ControlDeps,
  options: ProbeMinuteOptions,
): Promise<ProbeMinuteReport<ProbeRoundReport>>;
export function runProbeMinute(
  deps: WitnessDeps,
  options: ProbeMinuteOptions,
): Promise<ProbeMinuteReport<WitnessRoundReport>>;
export async function runProbeMinute(
  deps: ControlDeps | WitnessDeps,
  options: ProbeMinuteOptions,
): Promise<ProbeMinuteReport<ProbeRoundReport | WitnessRoundReport>> {
  const policy = healthPolicyOf(deps.topology);
  let previous = options.previous;
  const minute = minuteOf(policy);
  return runMinuteRounds<ProbeRoundReport | WitnessRoundReport>(
    {
      ...minute,
      planned: options.rounds ?? minute.planned,
      clock: deps.clock,
      sleep: options.sleep,
      remainingMs: options.remainingMs,
    },
    async () => {
      if ('witnessId' in deps) return runWitnessRound(deps);
      const report = await runProbeRound(deps, previous === undefined ? {} : { previous });
      previous = report.assessment;
      return report;
    },
  );
}

export interface ProbeMinuteRoundOptions extends MinuteDriverPosition {
  /** The assessment of the round before (the handler keeps it across invocations). */
  readonly previous?: Assessment | undefined;
}

/**
 * One of the minute's rounds, the next decided as runProbeMinute decides it: the same rounds at the
 * same interval, each in its own invocation.
 */
export function runProbeMinuteRound(
  deps: ControlDeps,
  options: ProbeMinuteRoundOptions,
): Promise<MinuteRoundReport<ProbeRoundReport>>;
export function runProbeMinuteRound(
  deps: WitnessDeps,
  options: ProbeMinuteRoundOptions,
): Promise<MinuteRoundReport<WitnessRoundReport>>;
export function runProbeMinuteRound(
  deps: ControlDeps | WitnessDeps,
  options: ProbeMinuteRoundOptions,
): Promise<MinuteRoundReport<ProbeRoundReport | WitnessRoundReport>> {
  const policy = healthPolicyOf(deps.topology);
  return runDrivenRound<ProbeRoundReport | WitnessRoundReport>(
    { ...minuteOf(policy), clock: deps.clock },
    options,
    () => {
      if ('witnessId' in deps) return runWitnessRound(deps);
      return runProbeRound(deps, options.previous === undefined ? {} : { previous: options.previous });
    },
  );
}

/** The policy's rounds in a minute, their interval and what each needs. */
function minuteOf(policy: HealthPolicy) {
  return {
    planned: Math.max(1, Math.floor(60 / policy.interval_seconds)),
    intervalMs: policy.interval_seconds * 1000,
    roundNeeds: {
      ms: policy.timeout_seconds * 1000 + PROBE_ROUND_MARGIN_MS,
      said: `${policy.timeout_seconds} s timeout`,
    },
  };
}
