/**
 * The decisions of a consistency check (spec: verify_data_consistency): whether the copies of one
 * key agree, and, when asked to reconcile, whose copy wins under the data type's rule.
 *
 * - `primary_wins`: the copy in the primary region's replica (its absence too: the others are
 *   deleted). The primary is the serving region with role `primary`, else the topology's primary.
 * - `last_write_wins`: the copy with the latest write time (`aws:rep:updatetime` locally and on
 *   legacy global tables, else the record's own time field). Copies with the same write time but
 *   different contents cannot both be a write: one was changed outside replication (corruption),
 *   so the copy in the writing region's replica wins, else the content most replicas hold, else
 *   the lowest region id. A missing copy loses to any present one (a delete whose replication is
 *   still in flight is not reconciled: see `inFlight`).
 * - `vector_clock` (document slots): the copy in the slot's own region, the only one that writes it.
 */
import type { HoldRef } from '../resources/pool.ts';
import { OPEN_STATUSES } from '../state/records.ts';
import type { ConflictResolution } from '../topology/sections.ts';
import type { CopyReport } from './records.ts';

type Winner =
  | { readonly winner: string; readonly reason: string }
  | { readonly skipped: string; readonly winner?: undefined };

interface WinnerInput {
  readonly rule: ConflictResolution | undefined;
  /** Per region its copy (only the replicas that could be read). */
  readonly copies: Readonly<Record<string, CopyReport>>;
  /** The primary region now (primary_wins). */
  readonly primary: string | undefined;
  /** The region owning the item when only one region writes it (document slots). */
  readonly owner: string | undefined;
}

/** True when every readable copy has the same content (or is missing everywhere). */
export function copiesAgree(copies: Readonly<Record<string, CopyReport>>): boolean {
  const sums = new Set(Object.values(copies).map((c) => (c.present ? c.checksum : '-')));
  return sums.size <= 1;
}

/**
 * Whether a disagreement may be replication still in flight: a copy was written within `settleMs`
 * of `now`. Such keys are reported but never reconciled (a repair could undo a write on its way).
 */
export function inFlight(
  copies: Readonly<Record<string, CopyReport>>,
  now: number,
  settleMs: number,
): boolean {
  return Object.values(copies).some(
    (c) => c.present && c.write_time !== undefined && now - c.write_time < settleMs,
  );
}

export function chooseWinner(input: WinnerInput): Winner {
  const { rule, copies } = input;
  const regions = Object.keys(copies).sort();
  // An item only one region writes (a region status slot): that region's copy is the truth,
  // whatever the data type's rule; any other copy is replication behind or changed outside it.
  if (rule !== undefined && rule !== 'vector_clock' && input.owner !== undefined) {
    if (!copies[input.owner]) return { skipped: `the owner ${input.owner}'s replica was not read` };
    return { winner: input.owner, reason: `${rule}: only ${input.owner} writes this item (its own slot)` };
  }
  switch (rule) {
    case undefined:
      return { skipped: 'no conflict rule for this data type' };
    case 'primary_wins': {
      if (input.primary === undefined) return { skipped: 'no primary region known' };
      if (!copies[input.primary]) return { skipped: `the primary ${input.primary}'s replica was not read` };
      return { winner: input.primary, reason: `primary_wins: ${input.primary} is the primary` };
    }
    case 'vector_clock': {
      if (input.owner === undefined) return { skipped: 'vector_clock applies to versioned documents only' };
      if (!copies[input.owner]) return { skipped: `the owner ${input.owner}'s replica was not read` };
      return { winner: input.owner, reason: `vector_clock: only ${input.owner} writes this slot` };
    }
    case 'last_write_wins': {
      const present = regions.filter((r) => copies[r]?.present);
      if (present.length === 0) return { skipped: 'no copy is present' };
      const times = present.map((r) => copies[r]?.write_time);
      if (times.some((t) => t === undefined)) return { skipped: 'a copy has no write time to compare' };
      const newest = Math.max(...(times as number[]));
      const latest = present.filter((r) => copies[r]?.write_time === newest);
      const sums = new Set(latest.map((r) => copies[r]?.checksum));
      if (sums.size === 1) {
        const first = latest[0] as string;
        return { winner: first, reason: `last_write_wins: ${first} holds the latest write` };
      }
      // Same write time, different contents: one copy changed outside replication.
      const writer = copies[latest[0] as string]?.write_region;
      if (writer !== undefined && latest.includes(writer)) {
        return { winner: writer, reason: `last_write_wins: equal write times; ${writer} made the write` };
      }
      const counts = new Map<string, number>();
      for (const r of present) {
        const sum = copies[r]?.checksum ?? '';
        counts.set(sum, (counts.get(sum) ?? 0) + 1);
      }
      const best = [...counts.entries()].sort((a, b) => b[1] - a[1]);
      if (best.length > 1 && best[0]?.[1] !== best[1]?.[1]) {
        const winner = present.find((r) => copies[r]?.checksum === best[0]?.[0]) as string;
        return {
          winner,
          reason: `last_write_wins: equal write times; most replicas hold ${winner}'s content`,
        };
      }
      const lowest = latest[0] as string;
      return { winner: lowest, reason: `last_write_wins: equal write times; lowest region id ${lowest}` };
    }
    default:
      return { skipped: `unknown rule ${String(rule)}` };
  }
}

/**
 * The accounting invariant of reservations: in one replica, what each pool holds for
 * reservations (`held`, the sum of every writer's held counters) equals what the open handoffs
 * (pending, accepted, redirected) reserved on that pool, in workers and compute units. With `holds`
 * (every hold the replica keeps), each hold is also held exactly while an open handoff's reservation
 * names it: an open handoff's hold is neither released nor missing, and every other hold is released.
 * A line per pool or hold that differs, naming both sides; none when they match. Under replication
 * lag the two sides may differ for a moment (a handoff and a counter replicate separately, and holds
 * follow their records within a reconcile round): read it once settled.
 */
export function reservationAccounting(
  pools: readonly {
    readonly region: string;
    readonly held?: { readonly workers: number; readonly compute_units: number };
  }[],
  handoffs: readonly {
    readonly handoff_id: string;
    readonly status: string;
    readonly reservation?: {
      readonly region: string;
      readonly workers: number;
      readonly compute_units: number;
      readonly hold?: HoldRef;
    };
  }[],
  holds?: readonly {
    readonly reservation: { readonly region: string; readonly hold: HoldRef };
    readonly released_by?: string;
  }[],
): string[] {
  const open = new Map<string, { workers: number; compute_units: number; count: number }>();
  const named = new Map<string, string>();
  for (const h of handoffs) {
    if (!h.reservation || !(OPEN_STATUSES as readonly string[]).includes(h.status)) continue;
    const sum = open.get(h.reservation.region) ?? { workers: 0, compute_units: 0, count: 0 };
    sum.workers += h.reservation.workers;
    sum.compute_units += h.reservation.compute_units;
    sum.count += 1;
    open.set(h.reservation.region, sum);
    if (h.reservation.hold) named.set(holdKey(h.reservation.hold), h.handoff_id);
  }
  const lines: string[] = [];
  const regions = new Set([...pools.map((p) => p.region), ...open.keys()]);
  for (const region of [...regions].sort()) {
    const held = pools.find((p) => p.region === region)?.held ?? { workers: 0, compute_units: 0 };
    const want = open.get(region) ?? { workers: 0, compute_units: 0, count: 0 };
    if (held.workers !== want.workers || held.compute_units !== want.compute_units) {
      lines.push(
        `${region} holds ${held.workers} worker(s) and ${held.compute_units} compute unit(s) for reservations; its ${want.count} open handoff(s) reserved ${want.workers} and ${want.compute_units}`,
      );
    }
  }
  if (!holds) return lines;
  const kept = new Map(holds.map((h) => [holdKey(h.reservation.hold), h]));
  for (const [key, handoffId] of [...named].sort()) {
    const hold = kept.get(key);
    if (!hold) lines.push(`open handoff ${handoffId} names hold ${key}, which is missing`);
    else if (hold.released_by !== undefined) {
      lines.push(`open handoff ${handoffId} names hold ${key}, released by ${hold.released_by}`);
    }
  }
  for (const [key, hold] of [...kept].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (hold.released_by === undefined && !named.has(key)) {
      lines.push(
        `hold ${key} on ${hold.reservation.region} is held, but no open handoff names it (handoff ${hold.reservation.hold.handoff_id})`,
      );
    }
  }
  return lines;
}

function holdKey(hold: HoldRef): string {
  return `${hold.by}/${hold.id}`;
}
