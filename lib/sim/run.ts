/**
 * One simulation: a schedule played against the whole control plane on the virtual clock, the
 * invariants checked after every event. A pure function of (topology, schedule, mutation): the
 * same inputs give the same events, the same log and the same verdict.
 */
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
}

export interface SimulateOptions {
  readonly mutation?: SimMutation;
  /** Stop at the first violation (the default); false keeps going to collect them all. */
  readonly stopAtFirst?: boolean;
  /** Called for each action as it is applied (`--replay` prints them). */
  readonly onAction?: (atMs: number, what: string) => void;
}

export async function simulate(
  topology: Topology,
  schedule: Schedule,
  options: SimulateOptions = {},
): Promise<SimulationResult> {
  const world = new SimWorld({
    topology,
    seed: schedule.seed,
    ...(options.mutation === undefined ? {} : { mutation: options.mutation }),
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
  class Stop extends Error {}
  try {
    await world.kernel.run(start + schedule.duration_ms, async () => {
      await checker.check();
      if (stopAtFirst && checker.violations.length > 0) throw new Stop();
    });
    await checker.finish();
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
  }
  const failovers = new Set<string>();
  for (const id of world.regionIds) {
    for (const f of await world.state(id).listFailovers()) failovers.add(f.failover_id);
  }
  return {
    seed: schedule.seed,
    topology: topology.name,
    violations: checker.violations,
    events: world.kernel.executed,
    simulated_ms: world.kernel.now() - start,
    acknowledged: world.acknowledged.length,
    failovers: failovers.size,
    log: world.log.map((entry) => ({ at: entry.at - start, what: entry.what })),
  };
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
}

/** `schedules` random schedules from `seed`, `seed + 1`, ... */
export async function campaign(
  topology: Topology,
  options: {
    readonly schedules: number;
    readonly seed: number;
    readonly schedule?: ScheduleOptions;
    readonly mutation?: SimMutation;
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
  for (let i = 0; i < options.schedules; i++) {
    const seed = (options.seed + i) >>> 0;
    const schedule = generateSchedule(topology, seed, options.schedule);
    const result = await simulate(topology, schedule, {
      ...(options.mutation === undefined ? {} : { mutation: options.mutation }),
    });
    events += result.events;
    simulated += result.simulated_ms;
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
  return { schedules: options.schedules, invariants, failed, events, simulated_ms: simulated };
}
