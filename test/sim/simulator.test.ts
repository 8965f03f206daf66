/**
 * The deterministic simulator (lib/sim): runs are reproducible from their seed, every invariant
 * catches the rule it protects when that rule is broken on purpose (a mutation), and the other
 * topologies (MRSC, generated 5 and 9 regions) hold every invariant too.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import type { InvariantName } from '../../lib/sim/invariants.ts';
import { parallelCampaign } from '../../lib/sim/parallel.ts';
import { campaign, simulate } from '../../lib/sim/run.ts';
import { generateSchedule } from '../../lib/sim/schedule.ts';
import type { SimMutation } from '../../lib/sim/world.ts';
import { syntheticTopologyJson } from '../fixtures/topologies.ts';

const read = (file: string) =>
  JSON.parse(readFileSync(new URL(`../../topology/${file}`, import.meta.url), 'utf8'));
const DEFAULT = validateTopology(read('default.json'));
const MRSC = validateTopology(read('us-mrsc.json'));
/** ap-south-1 may also hold EU data: EU work can move when eu-west-1 fails (and be moved wrongly). */
const SHARED_EU = (() => {
  const raw = read('default.json');
  raw.regions[2].data_residency = ['apac', 'in', 'eu'];
  return validateTopology(raw);
})();

function held(summary: Awaited<ReturnType<typeof campaign>>): string[] {
  return Object.entries(summary.invariants)
    .filter(([, v]) => v.first_violation)
    .map(([name, v]) => `${name}: seed ${v.first_violation?.seed}: ${v.first_violation?.detail}`);
}

describe('the simulator', () => {
  // Invariant: a run is a pure function of (topology, schedule): a failure replays exactly.
  it('replays a schedule identically: same events, same log, same verdict', async () => {
    const schedule = generateSchedule(DEFAULT, 4242);
    const a = await simulate(DEFAULT, schedule, { stopAtFirst: false });
    const b = await simulate(DEFAULT, schedule, { stopAtFirst: false });
    expect(b.events).toBe(a.events);
    expect(b.log).toEqual(a.log);
    expect(b.violations).toEqual(a.violations);
    expect(a.log.length).toBeGreaterThan(10);
    expect(generateSchedule(DEFAULT, 4242)).toEqual(schedule);
    expect(generateSchedule(DEFAULT, 4243)).not.toEqual(schedule);
  });

  // Invariant: the verdict does not depend on how many workers ran the seeds.
  it('a campaign split over worker threads gives the serial verdict', async () => {
    const serial = await campaign(DEFAULT, { schedules: 4, seed: 31 });
    const split = await parallelCampaign(DEFAULT, { schedules: 4, seed: 31, workers: 2 });
    expect(split.events).toBe(serial.events);
    expect(split.invariants).toEqual(serial.invariants);
  }, 60_000);

  it('a schedule ends healed with a quiet tail, and runs for its whole duration', async () => {
    const schedule = generateSchedule(DEFAULT, 7, { activeMs: 5 * 60_000, quietMs: 10 * 60_000 });
    expect(schedule.actions.at(-3)?.action).toEqual({ kind: 'heal' });
    expect(schedule.actions.every((a) => a.at <= schedule.duration_ms)).toBe(true);
    const result = await simulate(DEFAULT, schedule);
    expect(result.simulated_ms).toBe(schedule.duration_ms);
    expect(result.violations).toEqual([]);
  });

  // Each invariant, broken on purpose by a mutated rule, is caught within a few schedules.
  const mutations: [SimMutation, InvariantName, Topology][] = [
    ['shared-status-item', 'epochs-never-go-backwards', DEFAULT],
    ['saturation-is-unreachable', 'no-fence-while-reaching-majority', DEFAULT],
    ['saturation-is-unreachable', 'load-never-fails-over', DEFAULT],
    ['never-unfence', 'fenced-regions-unfence', DEFAULT],
    ['workflow-never-starts', 'dead-region-traffic-served', DEFAULT],
    ['lose-handoffs', 'acknowledged-handoffs-kept', DEFAULT],
    ['duplicate-failover-records', 'one-failover-per-failure', DEFAULT],
    ['ignore-own-status', 'ends-serving', DEFAULT],
    ['redirect-ignores-residency', 'residency-kept', SHARED_EU],
  ];
  it.each(mutations)(
    'catches the mutation %s with %s',
    async (mutation, invariant, topology) => {
      let caught: string | undefined;
      for (let seed = 100; seed < 130 && !caught; seed++) {
        const result = await simulate(topology, generateSchedule(topology, seed), {
          mutation,
          stopAtFirst: false,
        });
        caught = result.violations.find((v) => v.invariant === invariant)?.detail;
      }
      expect(caught, `${invariant} never broke under ${mutation}`).toBeDefined();
    },
    120_000,
  );

  it('holds every invariant on the MRSC topology', async () => {
    expect(held(await campaign(MRSC, { schedules: 40, seed: 9000 }))).toEqual([]);
  }, 120_000);

  it.each([5, 9])(
    'holds every invariant on a generated %i-region topology',
    async (n) => {
      const topology = validateTopology(syntheticTopologyJson(n));
      expect(
        held(await campaign(topology, { schedules: 6, seed: 700 + n, schedule: { activeMs: 15 * 60_000 } })),
      ).toEqual([]);
    },
    180_000,
  );
});
