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
import { generateSchedule, type Schedule, type SimAction } from '../../lib/sim/schedule.ts';
import { type SimMutation, SimWorld } from '../../lib/sim/world.ts';
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
    const result = await simulate(DEFAULT, schedule, { fullQuietTail: true });
    expect(result.simulated_ms).toBe(schedule.duration_ms);
    expect(result.violations).toEqual([]);
  });

  // Invariant: a region failed back and down again within the policy's cooldown is failed over when
  // the cooldown ends (anti-flapping), not sooner, and then within the detection and orchestration
  // budget. Seed 2432: ap-south-1 failed over at 241 s, failed back at 337 s, down again at 451 s.
  it('fails a region over again only after the cooldown, then at once (seed 2432)', async () => {
    const result = await simulate(DEFAULT, generateSchedule(DEFAULT, 2432), { stopAtFirst: false });
    expect(result.violations).toEqual([]);
    const starts = result.log
      .filter((e) => /started failover-ap-south-1-e\d+$/.test(e.what))
      .map((e) => e.at);
    expect(starts.length).toBeGreaterThanOrEqual(2);
    const cooldown = DEFAULT.failover_policies.automatic_failover.cooldown_seconds * 1000;
    const [first, second] = starts as [number, number];
    expect(second - first).toBeGreaterThanOrEqual(cooldown);
    expect(second - first).toBeLessThan(cooldown + 60_000);
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
    ['route-while-not-serving', 'never-serves-while-fenced', DEFAULT],
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

  // A cascade as the random schedules make it (lib/sim/schedule.ts: work accepted in the region, the
  // region down, its failover's target struck while the drain waits), scripted so it is certain:
  // with the rule held nothing breaks; with the rollback reviving the dead region, the last region
  // fences and cascade-survivor-serves catches it.
  it.each([62, 152])(
    'catches the mutation rollback-restores-unreachable with cascade-survivor-serves (target struck %i s in)',
    async (afterSeconds) => {
      const schedule: Schedule = {
        seed: 1,
        topology: DEFAULT.name,
        duration_ms: 40 * 60_000,
        quiet_from_ms: 25 * 60_000,
        actions: [
          {
            at: 20_000,
            action: {
              kind: 'route',
              region: 'us-east-1',
              count: 6,
              priority: 'high',
              workers: 1,
              compute_units: 1,
            },
          },
          { at: 25_000, action: { kind: 'accept', region: 'us-east-1', count: 3 } },
          { at: 30_000, action: { kind: 'down', region: 'us-east-1' } },
          { at: 31_000, action: { kind: 'cascade', afterMs: afterSeconds * 1000, holdMs: 20 * 60_000 } },
          { at: 25 * 60_000, action: { kind: 'heal' } },
          { at: 27 * 60_000, action: { kind: 'failback' } },
          { at: 31 * 60_000, action: { kind: 'failback' } },
        ],
      };
      const held = await simulate(DEFAULT, schedule, { stopAtFirst: false });
      expect(held.violations).toEqual([]);
      expect(held.log.map((e) => e.what)).toContainEqual(
        expect.stringMatching(/^cascade: eu-west-1, the target of/),
      );
      const mutated = await simulate(DEFAULT, schedule, {
        mutation: 'rollback-restores-unreachable',
        stopAtFirst: false,
      });
      expect(mutated.violations.map((v) => v.invariant)).toContain('cascade-survivor-serves');
    },
    60_000,
  );

  it('catches the mutation leak-reservations with reservations-match-open-handoffs', async () => {
    let caught: string | undefined;
    for (let seed = 100; seed < 130 && !caught; seed++) {
      const result = await simulate(DEFAULT, generateSchedule(DEFAULT, seed), {
        mutation: 'leak-reservations',
        accounting: true,
        stopAtFirst: false,
      });
      caught = result.violations.find((v) => v.invariant === 'reservations-match-open-handoffs')?.detail;
    }
    expect(caught).toBeDefined();
  }, 120_000);

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

/**
 * A hand-written schedule: `faults` (and load) at their times in the first `activeMs`, then the
 * quiet tail every generated schedule ends with (heal, two failbacks).
 */
function scripted(
  topology: Topology,
  faults: readonly (readonly [number, SimAction])[],
  activeMs = 20 * 60_000,
): Schedule {
  const load = Array.from({ length: 30 }, (_, i) => ({
    at: 20_000 + i * 35_000,
    action: {
      kind: 'route',
      region: topology.regions[i % topology.regions.length]?.region_id as string,
      count: 2,
      priority: 'normal',
      workers: 1,
      compute_units: 5,
    } as SimAction,
  }));
  const actions = [...load, ...faults.map(([at, action]) => ({ at, action }))].sort((x, y) => x.at - y.at);
  return {
    seed: 1,
    topology: topology.name,
    duration_ms: activeMs + 15 * 60_000,
    quiet_from_ms: activeMs,
    actions: [
      ...actions,
      { at: activeMs, action: { kind: 'heal' } },
      { at: activeMs + 2 * 60_000, action: { kind: 'failback' } },
      { at: activeMs + 6 * 60_000, action: { kind: 'failback' } },
    ],
  };
}

const lines = (log: readonly { what: string }[], pattern: RegExp) =>
  log.filter((entry) => pattern.test(entry.what)).map((entry) => entry.what);

describe('the simulator under link faults', () => {
  // Invariant: lost probes are drawn from the kernel's seeded source: a lossy run replays exactly.
  it('replays a schedule with a lossy link on the MRSC topology identically', async () => {
    const schedule = generateSchedule(MRSC, 10);
    expect(
      schedule.actions.some(({ action }) => action.kind === 'drop' && action.rate > 0 && action.rate < 1),
    ).toBe(true);
    const a = await simulate(MRSC, schedule, { stopAtFirst: false });
    const b = await simulate(MRSC, schedule, { stopAtFirst: false });
    expect(b.events).toBe(a.events);
    expect(b.log).toEqual(a.log);
    expect(b.violations).toEqual(a.violations);
  });

  // Invariant: losses the thresholds absorb fail nothing over: one observer of three sees a lossy
  // link, the quorum needs a majority, and a region that reaches the others surely does not fence.
  it.each([
    { pair: 'two regions', a: 'us-east-1', b: 'eu-west-1' },
    { pair: 'a region and the witness', a: 'ap-south-1', b: 'witness-us-west-2' },
  ])(
    'a link between $pair losing 30 percent of probes for 15 minutes fails nothing over and fences nobody',
    async ({ a, b }) => {
      const result = await simulate(
        DEFAULT,
        scripted(DEFAULT, [
          [60_000, { kind: 'drop', a, b, rate: 0.3 }],
          [960_000, { kind: 'drop', a, b, rate: 0 }],
        ]),
        { stopAtFirst: false },
      );
      expect(result.violations).toEqual([]);
      expect(lines(result.log, /fenced itself|started failover|round failed/)).toEqual([]);
      expect(result.failovers).toBe(0);
    },
  );

  // Invariant: a delay the probes' timeout absorbs is latency, not failure.
  it('a link delayed by 1 s each way fails nothing over', async () => {
    const result = await simulate(
      DEFAULT,
      scripted(DEFAULT, [
        [60_000, { kind: 'delay', a: 'us-east-1', b: 'ap-south-1', ms: 1_000 }],
        [960_000, { kind: 'delay', a: 'us-east-1', b: 'ap-south-1', ms: 0 }],
      ]),
      { stopAtFirst: false },
    );
    expect(result.violations).toEqual([]);
    expect(result.failovers).toBe(0);
  });

  // A link that loses everything is a cut: a region losing every link fences itself and is failed
  // over, as when a partition isolates it; both end serving again once healed.
  it('100 % loss on every link of a region acts as a cut: it fences itself and is failed over', async () => {
    const isolated = 'ap-south-1';
    const others = ['us-east-1', 'eu-west-1', 'witness-us-west-2'];
    const lossy = await simulate(
      DEFAULT,
      scripted(DEFAULT, [
        ...others.map((b) => [60_000, { kind: 'drop', a: isolated, b, rate: 1 }] as const),
        ...others.map((b) => [600_000, { kind: 'drop', a: isolated, b, rate: 0 }] as const),
      ]),
      { stopAtFirst: false },
    );
    const cut = await simulate(
      DEFAULT,
      scripted(DEFAULT, [
        [60_000, { kind: 'partition', groups: [['us-east-1', 'eu-west-1'], [isolated]] }],
        [600_000, { kind: 'unpartition', groups: [['us-east-1', 'eu-west-1'], [isolated]] }],
      ]),
      { stopAtFirst: false },
    );
    for (const result of [lossy, cut]) {
      expect(result.violations).toEqual([]);
      expect(lines(result.log, /fenced itself/)).toEqual([`${isolated} fenced itself`]);
      expect(lines(result.log, /started failover/)).toEqual([
        expect.stringMatching(new RegExp(`started failover-${isolated}-e`)),
      ]);
    }
  });
});

describe('failovers resumed from their records', () => {
  // Found by the simulator on the MRSC topology (a coordinator taking over a failover whose target was
  // already chosen): a replayed identify_target_region answered no `operator_required`, the ASL's
  // TargetFound choice read a path that names no value (States.Runtime, neither retried nor caught),
  // and the failover stayed running with its region draining for good.
  it('a coordinator restarted after the target was chosen finishes the failover', async () => {
    const world = new SimWorld({ topology: DEFAULT, seed: 3 });
    const start = world.kernel.now();
    await world.start();
    await world.apply({ kind: 'down', region: 'ap-south-1' });
    let coordinator: string | undefined;
    for (let at = 100; at < 600_000 && !coordinator; at += 100) {
      await world.kernel.run(start + at);
      const [record] = await world.state('us-east-1').listFailovers('ap-south-1');
      const chosen = record?.steps.some((s) => s.action === 'identify_target_region');
      if (record && chosen && record.status === 'running') coordinator = record.coordinator;
    }
    expect(coordinator).toBeDefined();
    await world.apply({ kind: 'crash', region: coordinator as string, downMs: 20_000 });
    await world.kernel.run(world.kernel.now() + 300_000);
    const [record] = await world.state('us-east-1').listFailovers('ap-south-1');
    expect(world.log.map((e) => e.what)).toContain(`${coordinator} resumed ${record?.failover_id}`);
    expect(record?.status).toBe('completed');
    expect(world.workflow.outcome(record?.failover_id as string)?.status).toBe('succeeded');
  });

  // Found by the MRSC campaign: us-east-1 down and failed over by us-east-2 while its sync step
  // waits; us-west-2 goes down too, so us-east-2 reaches 1 of the table's 3 regions and every step,
  // the rollback and the final mark fail with StateUnavailableError; the execution ends with the
  // record still running and a live coordinator. Invariant: a failover is never stranded: once the
  // coordinator reaches the table again, its round starts the workflow again from the record
  // (RoundActions.resumeStalled), and us-east-1 does not stay draining.
  it('a failover whose coordinator lost the MRSC quorum longer than its retries is finished later', async () => {
    const at = (ms: number, action: SimAction) => ({ at: ms, action });
    const schedule: Schedule = {
      seed: 67,
      topology: MRSC.name,
      duration_ms: 2_100_000,
      quiet_from_ms: 1_200_000,
      actions: [
        at(31_588, {
          kind: 'route',
          region: 'us-east-1',
          count: 4,
          priority: 'high',
          workers: 2,
          compute_units: 1,
        }),
        at(164_889, {
          kind: 'route',
          region: 'us-east-2',
          count: 6,
          residency: 'CA',
          priority: 'low',
          workers: 1,
          compute_units: 10,
        }),
        at(533_220, { kind: 'down', region: 'us-east-2' }),
        at(547_320, { kind: 'down', region: 'us-east-1' }),
        at(601_474, { kind: 'up', region: 'us-east-2' }),
        at(687_421, { kind: 'down', region: 'us-west-2' }),
        at(1_200_000, { kind: 'heal' }),
        at(1_320_000, { kind: 'failback' }),
        at(1_560_000, { kind: 'failback' }),
      ],
    };
    const result = await simulate(MRSC, schedule, { stopAtFirst: false });
    expect(result.violations).toEqual([]);
  });
});
