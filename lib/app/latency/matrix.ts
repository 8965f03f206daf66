/**
 * `GET /v1/latency`: the matrix as this region's replica holds it (every region's sampler writes its
 * own row, replicated everywhere), each pair with the figure routing uses and where it comes from,
 * the sample statistics and the pair's SLA verdict.
 */
import {
  type EffectiveLatency,
  type EffectiveMatrix,
  effectiveMatrix,
  freshnessMs,
  type LatencyEntry,
  type LatencySampling,
  type SlaVerdict,
  samplingOf,
  slaFor,
  slaVerdict,
} from '../../core/latency/stats.ts';
import type { LatencySla } from '../../core/topology/types.ts';
import type { LatencyPort } from '../../ports.ts';
import type { RegionalDeps } from '../deps.ts';

interface LatencyPairView extends EffectiveLatency {
  readonly from: string;
  readonly to: string;
  readonly static_ms: number;
  /** Sample statistics, when the pair has been measured (fresh or not). */
  readonly measured?: Omit<LatencyEntry, 'from' | 'to' | 'window' | 'sla_violated'> & {
    readonly measured_at_iso: string;
  };
  readonly sla: LatencySla & { readonly verdict?: SlaVerdict };
}

interface LatencyMatrixView {
  readonly region: string;
  readonly at: string;
  readonly regions: readonly string[];
  readonly sampling: LatencySampling & { readonly fresh_for_seconds: number };
  /** from -> to -> the figure routing uses. */
  readonly matrix: Record<string, Record<string, number>>;
  readonly pairs: readonly LatencyPairView[];
}

interface LatencyQuery {
  readonly from?: string;
  readonly to?: string;
}

/**
 * The matrix routing and discovery use: the sampler's fresh figures from this region's replica over
 * the declared ones. Without a latency store, or when it cannot be read, the declared figures alone:
 * the measured ones are a preference, never a reason to refuse a route.
 */
export async function readEffectiveMatrix(
  deps: Pick<RegionalDeps, 'topology' | 'clock' | 'latency'>,
): Promise<EffectiveMatrix> {
  let entries: LatencyEntry[] = [];
  try {
    entries = (await deps.latency?.listLatency()) ?? [];
  } catch {
    // Unreadable measurements leave the declared matrix (mesh paths, then the static figures).
  }
  return effectiveMatrix(deps.topology, entries, deps.clock.now());
}

export async function readLatencyMatrix(
  deps: Omit<RegionalDeps, 'state'> & { readonly latency: LatencyPort },
  query: LatencyQuery = {},
): Promise<LatencyMatrixView> {
  const { topology, clock } = deps;
  const now = clock.now();
  const entries = await deps.latency.listLatency();
  const effective = effectiveMatrix(topology, entries, now);
  const byPair = new Map(entries.map((e) => [`${e.from}->${e.to}`, e]));
  const ids = topology.regions.map((r) => r.region_id);
  const matrix: Record<string, Record<string, number>> = {};
  const pairs: LatencyPairView[] = [];
  for (const from of ids) {
    for (const to of ids) {
      const cell = effective[from]?.[to] as EffectiveLatency;
      const row = matrix[from] ?? {};
      row[to] = cell.ms;
      matrix[from] = row;
      if ((query.from !== undefined && query.from !== from) || (query.to !== undefined && query.to !== to)) {
        continue;
      }
      const entry = byPair.get(`${from}->${to}`);
      const sla = slaFor(topology, from, to);
      let measured: LatencyPairView['measured'];
      if (entry) {
        const { from: _f, to: _t, window: _w, sla_violated: _v, ...stats } = entry;
        measured = { ...stats, measured_at_iso: new Date(entry.measured_at).toISOString() };
      }
      pairs.push({
        from,
        to,
        ...cell,
        static_ms: topology.latency.matrix[from]?.[to] ?? 0,
        ...(measured ? { measured } : {}),
        sla: { ...sla, ...(entry ? { verdict: slaVerdict(entry, sla) } : {}) },
      });
    }
  }
  return {
    region: deps.regionId,
    at: new Date(now).toISOString(),
    regions: ids,
    sampling: { ...samplingOf(topology), fresh_for_seconds: freshnessMs(topology) / 1000 },
    matrix,
    pairs,
  };
}
