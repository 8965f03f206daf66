/**
 * The schedules the simulator's campaigns found broken, kept as they were drawn in
 * test/fixtures/schedules, and the shipped topologies they ran on: the found-*.test.ts files replay
 * them (docs/simulation.md, What it found).
 */
import { readFileSync } from 'node:fs';
import { healthPolicyOf } from '../../lib/core/health/evaluate.ts';
import type { ProbeObservation } from '../../lib/core/health/types.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import type { Schedule } from '../../lib/sim/schedule.ts';
import { SimWorld } from '../../lib/sim/world.ts';

const read = (path: string) => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8'));

/** topology/default.json as shipped. */
export const DEFAULT: Topology = validateTopology(read('../../topology/default.json'));

/** topology/us-mrsc.json as shipped. */
export const MRSC: Topology = validateTopology(read('../../topology/us-mrsc.json'));

/** A found schedule by its file's name: `seed-<name>.json` (the seed, or the seed and a variant). */
export function foundSchedule(name: number | string): Schedule {
  return read(`../fixtures/schedules/seed-${name}.json`);
}

/**
 * Plays `schedule` on a world of `topology` until `untilMs` (virtual ms from the start; default its
 * whole duration) and hands the world back, to read its replicas.
 */
export async function played(
  topology: Topology,
  schedule: Schedule,
  untilMs: number = schedule.duration_ms,
): Promise<SimWorld> {
  const world = new SimWorld({ topology, seed: schedule.seed });
  const start = world.kernel.now();
  await world.start();
  for (const { at, action } of schedule.actions) world.kernel.at(at, () => world.apply(action));
  await world.kernel.run(start + untilMs, async () => {});
  return world;
}

/**
 * One round of `observer`'s probes of `target` at `at` on the default topology's endpoints: every
 * call answered, or none (the target down, or the link cut).
 */
export function probeRound(
  observer: string,
  target: string,
  at: number,
  answered: boolean,
): ProbeObservation[] {
  return healthPolicyOf(DEFAULT).endpoints.map((endpoint, i) => ({
    observer,
    target,
    endpoint,
    at: at + i,
    ...(answered
      ? { ok: true, status: 200, latency_ms: 80 }
      : { ok: false, error: 'refused', latency_ms: 3 }),
  }));
}
