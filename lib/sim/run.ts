/**
 * One simulation: a schedule played against the whole control plane on the virtual clock, the
 * invariants checked after every event. A pure function of (topology, schedule, mutation): the
 * same inputs give the same events, the same log and the same verdict.
 */
import { createHash } from 'node:crypto';
import { ACTIVE_STATUSES } from '../app/failover/shared.ts';
import { isServing } from '../core/state/records.ts';
import type { Topology } from '../core/topology/types.ts';
import { INVARIANTS, InvariantChecker, type InvariantName, type Violation } from './invariants.ts';
import { generateSchedule, type Schedule, type ScheduleOptions } from './schedule.ts';
import { describe, type SimLogEntry, type SimMutation, SimWorld } from './world.ts';

export interface SimulationResult {
  readonly seed: number;
  readonly topology: string;
  readonly violations: readonly Violation[];
  /** Kernel events run. */
  readonly events: number;
  readonly simulated_ms: number;
  readonly acknowledged: number;
  readonly failovers: number;
  /** What happened, in virtual time (ms since the start). */
  readonly log: readonly SimLogEntry[];
  /** With SimulateOptions.digest: what the run did and left, hashed (see there). */
  readonly digest?: string;
}

export interface SimulateOptions {
  readonly mutation?: SimMutation;
  /** Check the reservation accounting at the end (SimWorldOptions.accounting; default true). */
  readonly accounting?: boolean;
  /** Stop at the first violation (the default); false keeps going to collect them all. */
  readonly stopAtFirst?: boolean;
  /** Called for each action as it is applied (`--replay` prints them). */
  readonly onAction?: (atMs: number, what: string) => void;
  /**
   * Run the quiet tail to its end even once everything has settled. By default a run ends early in
   * the quiet tail once every region has served in every replica, with no failover running, no link
   * cut and nobody down or crashed, for SETTLED_ROUNDS probe intervals in a row: the rest
   * of the tail would only repeat those rounds.
   */
  readonly fullQuietTail?: boolean;
  /**
   * Hash what the run did and left: every event's time and order, the result, the control plane's
   * events, the acknowledged handoffs and every replica's final items with their stamps. Equal
   * digests mean the run went the same way, event for event (a check that a change to the simulator
   * or a use case changed no outcome).
   */
  readonly digest?: boolean;
}

/** Probe intervals of settled quiet after which a run ends (see SimulateOptions.fullQuietTail). */
export const SETTLED_ROUNDS = 5;

export async function simulate(
  topology: Topology,
  schedule: Schedule,
  options: SimulateOptions = {},
): Promise<SimulationResult> {
  const world = new SimWorld({
    topology,
    seed: schedule.seed,
    ...(options.mutation === undefined ? {} : { mutation: options.mutation }),
    ...(options.accounting === undefined ? {} : { accounting: options.accounting }),
  });
  const start = world.kernel.now();
  const checker = new InvariantChecker(world);
  await world.start();
  for (const { at, action } of schedule.actions) {
    world.kernel.at(at, async () => {
      options.onAction?.(at, describe(action));
      await world.apply(action);
    });
  }
  const stopAtFirst = options.stopAtFirst ?? true;
  const quietFrom = start + schedule.quiet_from_ms;
  const settledFor = SETTLED_ROUNDS * topology.failover_policies.health_check.interval_seconds * 1000;
  let settledSince: number | undefined;
  const trace = options.digest ? createHash('sha256') : undefined;
  class Stop extends Error {}
  class Settled extends Error {}
  try {
    const afterCheck = (at: number) => {
      if (stopAtFirst && checker.violations.length > 0) throw new Stop();
      if (options.fullQuietTail || at < quietFrom) return;
      settledSince = settled(world, checker) ? (settledSince ?? at) : undefined;
      if (settledSince !== undefined && at - settledSince >= settledFor) throw new Settled();
    };
    await world.kernel.run(start + schedule.duration_ms, ({ at, seq }) => {
      trace?.update(`${at - start}:${seq};`);
      // Most events are checked without a promise (InvariantChecker.check).
      const checking = checker.check();
      return checking ? checking.then(() => afterCheck(at)) : afterCheck(at);
    });
    await checker.finish();
  } catch (error) {
    if (error instanceof Settled) {
      world.log.push({
        at: world.kernel.now(),
        what: `settled: every region serving for ${settledFor / 1000} s; the quiet tail ends here`,
      });
      await checker.finish();
    } else if (!(error instanceof Stop)) throw error;
  }
  const failovers = new Set<string>();
  for (const id of world.regionIds) {
    for (const f of await world.state(id).listFailovers()) failovers.add(f.failover_id);
  }
  const result: SimulationResult = {
    seed: schedule.seed,
    topology: topology.name,
    violations: checker.violations,
    events: world.kernel.executed,
    simulated_ms: world.kernel.now() - start,
    acknowledged: world.acknowledged.length,
    failovers: failovers.size,
    log: world.log.map((entry) => ({ at: entry.at - start, what: entry.what })),
  };
  if (!trace) return result;
  trace.update(JSON.stringify(result));
  trace.update(JSON.stringify(world.events));
  trace.update(JSON.stringify(world.acknowledged));
  for (const id of world.regionIds) trace.update(world.stores.store.dump(id));
  const critical = world.stores.critical;
  if (critical) trace.update(world.stores.store.dump(critical.region, critical.table));
  return { ...result, digest: trace.digest('hex').slice(0, 32) };
}

/**
 * One digest for a campaign's runs (SimulateOptions.digest), from their digests in seed order: the
 * same whatever the number of workers.
 */
export function campaignDigest(digests: readonly string[]): string {
  return createHash('sha256').update(digests.join('\n')).digest('hex').slice(0, 32);
}

/**
 * Runs `run` with errors made without stack traces. A schedule makes thousands of errors that are
 * answers, not bugs (a replica across a cut, a route with no eligible region), and capturing their
 * stacks was a tenth of a run; what the run does never reads a stack.
 */
async function withoutStackTraces<T>(run: () => Promise<T>): Promise<T> {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return await run();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Everything healed and at rest: what the rest of a quiet tail would only confirm. */
function settled(world: SimWorld, checker: InvariantChecker): boolean {
  if (world.network.anyCut()) return false;
  for (const id of world.regionIds) if (world.isCrashed(id) || world.network.isDown(id)) return false;
  for (const records of checker.seen.statuses.values()) {
    if (records.some((record) => !isServing(record.status))) return false;
  }
  for (const records of checker.seen.failovers.values()) {
    if (records.some((record) => ACTIVE_STATUSES.includes(record.status))) return false;
  }
  return true;
}

export interface CampaignSummary {
  readonly schedules: number;
  /** Per invariant: how many schedules held it, and the first that broke it. */
  readonly invariants: Readonly<
    Record<InvariantName, { readonly held: number; readonly first_violation?: Violation & { seed: number } }>
  >;
  readonly failed: readonly SimulationResult[];
  readonly events: number;
  readonly simulated_ms: number;
  /** With `digest`: each schedule's digest, in seed order (campaignDigest makes one of them). */
  readonly digests?: readonly string[];
}

/** `schedules` random schedules from `seed`, `seed + 1`, ... */
export async function campaign(
  topology: Topology,
  options: {
    readonly schedules: number;
    readonly seed: number;
    readonly schedule?: ScheduleOptions;
    readonly mutation?: SimMutation;
    /** SimulateOptions.accounting (default true). */
    readonly accounting?: boolean;
    /** SimulateOptions.digest: the summary lists every schedule's digest. */
    readonly digest?: boolean;
    readonly onResult?: (result: SimulationResult, index: number) => void;
  },
): Promise<CampaignSummary> {
  const invariants = Object.fromEntries(INVARIANTS.map((name) => [name, { held: 0 }])) as Record<
    InvariantName,
    { held: number; first_violation?: Violation & { seed: number } }
  >;
  const failed: SimulationResult[] = [];
  let events = 0;
  let simulated = 0;
  const digests: string[] = [];
  for (let i = 0; i < options.schedules; i++) {
    const seed = (options.seed + i) >>> 0;
    const schedule = generateSchedule(topology, seed, options.schedule);
    const simulateOptions: SimulateOptions = {
      ...(options.mutation === undefined ? {} : { mutation: options.mutation }),
      ...(options.accounting === undefined ? {} : { accounting: options.accounting }),
      ...(options.digest ? { digest: true } : {}),
    };
    // A run that throws (a bug, not a violation) runs again with stack traces: it replays exactly,
    // and the error it throws then says where.
    const result = await withoutStackTraces(() => simulate(topology, schedule, simulateOptions)).catch(() =>
      simulate(topology, schedule, simulateOptions),
    );
    events += result.events;
    simulated += result.simulated_ms;
    if (result.digest !== undefined) digests.push(result.digest);
    const broken = new Set(result.violations.map((v) => v.invariant));
    for (const name of INVARIANTS) {
      const entry = invariants[name];
      if (!broken.has(name)) entry.held += 1;
      else if (!entry.first_violation) {
        const v = result.violations.find((x) => x.invariant === name) as Violation;
        entry.first_violation = { ...v, seed };
      }
    }
    if (result.violations.length > 0) failed.push(result);
    options.onResult?.(result, i);
  }
  return {
    schedules: options.schedules,
    invariants,
    failed,
    events,
    simulated_ms: simulated,
    ...(options.digest ? { digests } : {}),
  };
}
