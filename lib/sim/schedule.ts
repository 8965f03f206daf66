/**
 * Random fault schedules: what happens to the regions and when, generated from a seed, written as
 * JSON so a failing schedule can be replayed step by step (`cortex simulate --replay <file>`).
 * Every schedule ends healed, with enough quiet time for the invariants that speak of the end
 * (every region serving again, every acknowledged handoff readable) to be judged.
 */
import type { Topology } from '../core/topology/types.ts';
import { seededRandom } from './kernel.ts';

export type SimAction =
  | { readonly kind: 'down'; readonly region: string }
  | { readonly kind: 'up'; readonly region: string }
  | { readonly kind: 'errors'; readonly region: string; readonly rate: number }
  | { readonly kind: 'slow'; readonly region: string; readonly ms: number }
  | { readonly kind: 'cut'; readonly a: string; readonly b: string }
  | { readonly kind: 'join'; readonly a: string; readonly b: string }
  /** The link between `a` and `b` adds `ms` to each one-way trip (0: no more delay). */
  | { readonly kind: 'delay'; readonly a: string; readonly b: string; readonly ms: number }
  /** The link between `a` and `b` loses a share `rate` of what crosses it (0: no more loss; 1: all). */
  | { readonly kind: 'drop'; readonly a: string; readonly b: string; readonly rate: number }
  | { readonly kind: 'partition'; readonly groups: readonly (readonly string[])[] }
  /** Joins what `partition` with the same groups cut. */
  | { readonly kind: 'unpartition'; readonly groups: readonly (readonly string[])[] }
  | { readonly kind: 'heal' }
  /** Routes `count` tasks at `region`'s endpoint. */
  | {
      readonly kind: 'route';
      readonly region: string;
      readonly count: number;
      readonly residency?: string;
      readonly priority: 'low' | 'normal' | 'high' | 'critical';
      readonly workers: number;
      readonly compute_units: number;
    }
  /** `region`'s workers accept up to `count` of its pending handoffs, oldest first (work in flight). */
  | { readonly kind: 'accept'; readonly region: string; readonly count: number }
  /** Settles (completes or fails) up to `count` open handoffs, oldest first. */
  | { readonly kind: 'settle'; readonly count: number; readonly outcome: 'completed' | 'failed' }
  /** The coordinator of a running failover crashes (its executions die) and restarts after `downMs`. */
  | { readonly kind: 'crash'; readonly region: string; readonly downMs: number }
  /** An operator aborts the newest active failover. */
  | { readonly kind: 'abort' }
  /** An operator fails back every failed region that answers. */
  | { readonly kind: 'failback' }
  /**
   * A cascade: the target of the next failover that names one goes down `afterMs` after it was
   * named (at once when that is past), and comes back up after `holdMs`.
   */
  | { readonly kind: 'cascade'; readonly afterMs: number; readonly holdMs: number };

export interface ScheduledAction {
  /** Virtual ms after the start. */
  readonly at: number;
  readonly action: SimAction;
}

export interface Schedule {
  readonly seed: number;
  readonly topology: string;
  /** Virtual ms the schedule runs, its quiet tail included. */
  readonly duration_ms: number;
  /** Virtual ms from the start on which every fault is healed and nothing but settles happens. */
  readonly quiet_from_ms: number;
  readonly actions: readonly ScheduledAction[];
}

export interface ScheduleOptions {
  /** Virtual ms of faults and load before the quiet tail; default 20 minutes. */
  readonly activeMs?: number;
  /** Virtual ms of the quiet tail; default 15 minutes. */
  readonly quietMs?: number;
  /** Mean virtual ms between two actions; default 45 s. */
  readonly meanGapMs?: number;
}

/**
 * A schedule over `topology` from `seed`: a pure function of both. Faults come as episodes (a fault,
 * held 20 s to 10 minutes, then undone), one after another with a chance of overlapping the next;
 * load (routes and settles) runs as its own stream throughout; operators act now and then.
 */
export function generateSchedule(topology: Topology, seed: number, options: ScheduleOptions = {}): Schedule {
  const random = seededRandom(seed ^ 0x5bd1e995);
  // Cascades draw from their own stream, so adding them left every other action of a seed as it was.
  const cascades = seededRandom(seed ^ 0x2f6b1c3d);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const regions = topology.regions.map((r) => r.region_id);
  // A link fault may touch a witness too (its votes cross links like the regions').
  const members = [...regions, ...topology.witnesses.map((w) => w.witness_id)];
  // Residencies some region of this topology can hold (a code no region holds is only ever refused).
  const residencies = [
    undefined,
    ...new Set(topology.regions.flatMap((r) => r.data_residency.map((d) => d.toUpperCase()))),
  ];
  const activeMs = options.activeMs ?? 20 * 60_000;
  const quietMs = options.quietMs ?? 15 * 60_000;
  const meanGap = options.meanGapMs ?? 45_000;
  const actions: ScheduledAction[] = [];
  const push = (at: number, action: SimAction) => {
    if (at < activeMs) actions.push({ at, action });
  };

  // Load: a Poisson stream of routes and settles.
  for (
    let at = int(5_000, 30_000);
    at < activeMs;
    at += Math.max(1_000, Math.round(-Math.log(1 - random()) * meanGap))
  ) {
    if (random() < 0.65) {
      const residency = pick(residencies);
      push(at, {
        kind: 'route',
        region: pick(regions),
        count: int(1, 6),
        ...(residency === undefined ? {} : { residency }),
        priority: pick(['low', 'normal', 'normal', 'high', 'critical'] as const),
        workers: int(1, 2),
        compute_units: int(0, 25),
      });
    } else {
      push(at, { kind: 'settle', count: int(1, 5), outcome: random() < 0.8 ? 'completed' : 'failed' });
    }
  }

  // Faults: episodes.
  for (let at = int(60_000, 180_000); at < activeMs; ) {
    const hold = int(20_000, 600_000);
    const end = at + hold;
    const roll = random();
    if (roll < 0.24) {
      const region = pick(regions);
      push(at, { kind: 'down', region });
      push(end, { kind: 'up', region });
      // Now and then the failover this starts loses its target too, at any moment of it; work in
      // flight in the region (accepted just before) makes its drain wait, so the moment is long.
      if (cascades() < 0.7) {
        push(at - 2_000, { kind: 'accept', region, count: 1 + Math.floor(cascades() * 3) });
        const afterMs = Math.floor(cascades() * 300_001);
        push(at + 1_000, { kind: 'cascade', afterMs, holdMs: 60_000 + Math.floor(cascades() * 540_001) });
      }
    } else if (roll < 0.35) {
      const region = pick(regions);
      push(at, { kind: 'errors', region, rate: pick([0.3, 0.6, 1]) });
      push(end, { kind: 'errors', region, rate: 0 });
    } else if (roll < 0.44) {
      const region = pick(regions);
      push(at, { kind: 'slow', region, ms: pick([2_000, 6_000, 12_000]) });
      push(end, { kind: 'slow', region, ms: 0 });
    } else if (roll < 0.54) {
      const a = pick(regions);
      const b = pick(regions.filter((r) => r !== a));
      push(at, { kind: 'cut', a, b });
      push(end, { kind: 'join', a, b });
    } else if (roll < 0.6) {
      // A congested link: 6 s each way is a round trip past the probes' timeout.
      const a = pick(regions);
      const b = pick(members.filter((m) => m !== a));
      push(at, { kind: 'delay', a, b, ms: pick([200, 1_000, 3_000, 6_000]) });
      push(end, { kind: 'delay', a, b, ms: 0 });
    } else if (roll < 0.67) {
      // A lossy link: 10 and 30 % are noise the thresholds must absorb; 100 % is a cut.
      const a = pick(regions);
      const b = pick(members.filter((m) => m !== a));
      push(at, { kind: 'drop', a, b, rate: pick([0.1, 0.3, 0.6, 1]) });
      push(end, { kind: 'drop', a, b, rate: 0 });
    } else if (roll < 0.82) {
      const shuffled = regions
        .map((r) => ({ r, k: random() }))
        .sort((x, y) => x.k - y.k)
        .map((x) => x.r);
      const count = regions.length >= 3 && random() < 0.4 ? 3 : 2;
      const groups: string[][] = Array.from({ length: count }, () => []);
      shuffled.forEach((r, i) => {
        groups[i % count]?.push(r);
      });
      push(at, { kind: 'partition', groups });
      push(end, { kind: 'unpartition', groups });
    } else if (roll < 0.91) {
      push(at, { kind: 'crash', region: pick(regions), downMs: Math.min(hold, 180_000) });
    } else if (roll < 0.955) {
      push(at, { kind: 'abort' });
    } else {
      push(at, { kind: 'failback' });
    }
    // Usually the next episode starts after this one; sometimes while it lasts.
    at = random() < 0.25 ? at + int(5_000, Math.max(5_000, hold)) : end + int(10_000, 120_000);
  }
  actions.sort((x, y) => x.at - y.at);
  // The quiet tail: everything healed, failed regions failed back once they answer (after a few
  // rounds have seen them healthy), and again later for one whose first failback could not run.
  actions.push({ at: activeMs, action: { kind: 'heal' } });
  actions.push({
    at: activeMs + Math.round(Math.min(quietMs / 3, 2 * 60_000)),
    action: { kind: 'failback' },
  });
  actions.push({
    at: activeMs + Math.round(Math.min((2 * quietMs) / 3, 6 * 60_000)),
    action: { kind: 'failback' },
  });
  return {
    seed,
    topology: topology.name,
    duration_ms: activeMs + quietMs,
    quiet_from_ms: activeMs,
    actions,
  };
}
