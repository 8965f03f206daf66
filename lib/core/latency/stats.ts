/**
 * The measured latency matrix: per ordered region pair, what the latency sampler of the
 * `from` region measured of the `to` region's endpoint, and the statistics the router and the SLA
 * checks read. Pure: samples and `now` are inputs.
 *
 * - An entry keeps the last `WINDOW_SIZE` samples (a sliding window; percentiles are nearest-rank
 *   over it), their EWMA (what routing uses: it follows a change within one sampling run), the last
 *   sample and when it was taken.
 * - An entry is fresh for `FRESH_RUNS` sampling intervals; a pair without a fresh entry falls back
 *   to the declared latency of the mesh path its traffic takes now (`source: 'tunnel'`, with `via`),
 *   and without one (the path is the internet) to the topology's static figure (`source: 'static'`);
 *   `stale` marks a fallback while an old entry exists.
 * - SLA targets (the spec's p50 100 / p95 250 / p99 500 ms) come from `latency.pair_slas["from->to"]`,
 *   else `latency.sla`; a pair violates its SLA when any of p50, p95, p99 is above its target.
 */
import { type MeshPlan, planMesh, tunnelLatency } from '../network/mesh.ts';
import type { LatencySla, Topology } from '../topology/types.ts';

/** Samples kept per pair: 20 runs of the default 3 samples would be 60; 30 bounds the item size. */
export const WINDOW_SIZE = 30;
/** EWMA weight of a new sample: after 3 samples a step change is two-thirds absorbed. */
export const EWMA_ALPHA = 0.3;
/** An entry older than this many sampling intervals is stale. */
const FRESH_RUNS = 3;
const DEFAULT_SAMPLING = Object.freeze({ interval_seconds: 60, samples_per_run: 3 });

export interface LatencySampling {
  readonly interval_seconds: number;
  readonly samples_per_run: number;
}

/** One measured pair, as stored (one item per ordered pair, written only by the `from` region). */
export interface LatencyEntry {
  readonly from: string;
  readonly to: string;
  /** Latest sample, ms. */
  readonly last_ms: number;
  readonly ewma_ms: number;
  readonly p50_ms: number;
  readonly p95_ms: number;
  readonly p99_ms: number;
  /** The window, oldest first (at most WINDOW_SIZE). */
  readonly window: readonly number[];
  /** Samples taken since the entry was created. */
  readonly sample_count: number;
  /** Failed probes (timeouts, errors) since the entry was created; they are not samples. */
  readonly failure_count: number;
  /** Epoch ms of the last successful sample. */
  readonly measured_at: number;
  /** Whether the pair was in violation of its SLA after this update (for crossing detection). */
  readonly sla_violated: boolean;
}

type Percentile = 'p50' | 'p95' | 'p99';

interface SlaBreach {
  readonly percentile: Percentile;
  readonly ms: number;
  readonly target_ms: number;
}

export interface SlaVerdict {
  readonly ok: boolean;
  readonly breaches: readonly SlaBreach[];
}

export interface EffectiveLatency {
  readonly ms: number;
  /** The sampler's fresh figure, else the mesh path's declared latency, else the static matrix. */
  readonly source: 'measured' | 'tunnel' | 'static';
  /** For `tunnel`: `direct`, or the region the path passes through. */
  readonly via?: string;
  /** Set when a measured entry exists but is older than the freshness window. */
  readonly stale?: boolean;
}

export type EffectiveMatrix = Readonly<Record<string, Readonly<Record<string, EffectiveLatency>>>>;

export function samplingOf(topology: Topology): LatencySampling {
  return { ...DEFAULT_SAMPLING, ...(topology.latency.sampling ?? {}) };
}

/** How long an entry stays fresh, in ms. */
export function freshnessMs(topology: Topology): number {
  return FRESH_RUNS * samplingOf(topology).interval_seconds * 1000;
}

export function ewma(previous: number | undefined, sample: number, alpha: number = EWMA_ALPHA): number {
  return previous === undefined ? sample : previous + alpha * (sample - previous);
}

/** Nearest-rank percentile (p in 0..100) of a non-empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

export function slaFor(topology: Topology, from: string, to: string): LatencySla {
  return topology.latency.pair_slas?.[`${from}->${to}`] ?? topology.latency.sla;
}

export function slaVerdict(
  stats: Pick<LatencyEntry, 'p50_ms' | 'p95_ms' | 'p99_ms'>,
  sla: LatencySla,
): SlaVerdict {
  const breaches: SlaBreach[] = [];
  const check = (percentile: Percentile, ms: number, target: number) => {
    if (ms > target) breaches.push({ percentile, ms, target_ms: target });
  };
  check('p50', stats.p50_ms, sla.p50_target_ms);
  check('p95', stats.p95_ms, sla.p95_target_ms);
  check('p99', stats.p99_ms, sla.p99_target_ms);
  return { ok: breaches.length === 0, breaches };
}

interface PairRun {
  readonly from: string;
  readonly to: string;
  /** Round-trip ms of the successful probes of this run, in order. */
  readonly samples: readonly number[];
  readonly failures: number;
  readonly now: number;
}

/**
 * The entry after one sampling run. A run without a successful sample keeps the previous statistics
 * and time (the entry ages into staleness); without a previous entry it makes none (undefined).
 */
export function updateEntry(
  previous: LatencyEntry | undefined,
  run: PairRun,
  sla: LatencySla,
): LatencyEntry | undefined {
  if (run.samples.length === 0) {
    return previous === undefined
      ? undefined
      : { ...previous, failure_count: previous.failure_count + run.failures };
  }
  let average = previous?.ewma_ms;
  for (const sample of run.samples) average = ewma(average, sample);
  const window = [...(previous?.window ?? []), ...run.samples].slice(-WINDOW_SIZE);
  const stats = {
    p50_ms: round1(percentile(window, 50)),
    p95_ms: round1(percentile(window, 95)),
    p99_ms: round1(percentile(window, 99)),
  };
  return {
    from: run.from,
    to: run.to,
    last_ms: round1(run.samples[run.samples.length - 1] as number),
    ewma_ms: round1(average as number),
    ...stats,
    window: window.map(round1),
    sample_count: (previous?.sample_count ?? 0) + run.samples.length,
    failure_count: (previous?.failure_count ?? 0) + run.failures,
    measured_at: run.now,
    sla_violated: !slaVerdict(stats, sla).ok,
  };
}

export function isFresh(entry: LatencyEntry, now: number, maxAgeMs: number): boolean {
  return now - entry.measured_at <= maxAgeMs;
}

/**
 * Per ordered pair of topology regions, the figure routing uses: the measured EWMA when fresh, else
 * the declared latency of the mesh path the pair's traffic takes now (the sampler is down or has no
 * samples yet, but the tunnels' figures describe the network better than a static table), else the
 * topology's static figure. A region to itself is never sampled (static).
 */
export function effectiveMatrix(
  topology: Topology,
  measured: readonly LatencyEntry[],
  now: number,
): EffectiveMatrix {
  const maxAge = freshnessMs(topology);
  const byPair = new Map(measured.map((e) => [`${e.from}->${e.to}`, e]));
  const plan = meshPlanOf(topology);
  const matrix: Record<string, Record<string, EffectiveLatency>> = {};
  for (const from of topology.regions) {
    const row: Record<string, EffectiveLatency> = {};
    for (const to of topology.regions) {
      const staticMs = topology.latency.matrix[from.region_id]?.[to.region_id] ?? 0;
      const entry = byPair.get(`${from.region_id}->${to.region_id}`);
      if (from.region_id === to.region_id) {
        row[to.region_id] = { ms: staticMs, source: 'static' };
        continue;
      }
      if (entry && isFresh(entry, now, maxAge)) {
        row[to.region_id] = { ms: entry.ewma_ms, source: 'measured' };
        continue;
      }
      const tunnel = tunnelLatency(plan, from.region_id, to.region_id);
      const fallback: EffectiveLatency = tunnel
        ? { ms: tunnel.ms, source: 'tunnel', via: tunnel.via }
        : { ms: staticMs, source: 'static' };
      row[to.region_id] = entry ? { ...fallback, stale: true } : fallback;
    }
    matrix[from.region_id] = row;
  }
  return matrix;
}

/** The mesh plan of a topology, planned once per topology object (routing reads it on every request). */
const plans = new WeakMap<Topology, MeshPlan>();

function meshPlanOf(topology: Topology): MeshPlan {
  let plan = plans.get(topology);
  if (!plan) {
    plan = planMesh(topology);
    plans.set(topology, plan);
  }
  return plan;
}

/** The measured figures of an effective matrix only: the router's override map (RouteOptions.latency). */
export function measuredOverrides(matrix: EffectiveMatrix): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [from, row] of Object.entries(matrix)) {
    for (const [to, cell] of Object.entries(row)) {
      if (cell.source !== 'measured') continue;
      const measured = out[from] ?? {};
      measured[to] = cell.ms;
      out[from] = measured;
    }
  }
  return out;
}

/** The tunnel figures of an effective matrix only: the router's fallback before the static matrix. */
export function tunnelOverrides(matrix: EffectiveMatrix): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [from, row] of Object.entries(matrix)) {
    for (const [to, cell] of Object.entries(row)) {
      if (cell.source !== 'tunnel') continue;
      const tunnel = out[from] ?? {};
      tunnel[to] = cell.ms;
      out[from] = tunnel;
    }
  }
  return out;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
