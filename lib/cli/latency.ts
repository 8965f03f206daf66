/**
 * `cortex latency [--from <region>] [--to <region>]` (GET /v1/latency): the matrix as routing uses
 * it, each cell coloured by its pair's SLA verdict (green within, red breached, dim not measured or
 * stale: the mesh path's declared figure, else the static one), then each pair's sample statistics. `--json` prints the answer as is.
 */
import { apiClient, type CliIo, parse, printApiError } from './common.ts';
import { paint, type Style, table } from './format.ts';

interface Breach {
  percentile: string;
  ms: number;
  target_ms: number;
}

interface PairView {
  from: string;
  to: string;
  ms: number;
  source: 'measured' | 'tunnel' | 'static';
  via?: string;
  stale?: boolean;
  static_ms: number;
  measured?: {
    last_ms: number;
    ewma_ms: number;
    p50_ms: number;
    p95_ms: number;
    p99_ms: number;
    sample_count: number;
    failure_count: number;
    measured_at_iso: string;
  };
  sla: {
    p50_target_ms: number;
    p95_target_ms: number;
    p99_target_ms: number;
    verdict?: { ok: boolean; breaches: Breach[] };
  };
}

interface LatencyView {
  region: string;
  at: string;
  regions: string[];
  sampling: { interval_seconds: number; samples_per_run: number; fresh_for_seconds: number };
  matrix: Record<string, Record<string, number>>;
  pairs: PairView[];
}

function cellColor(pair: PairView | undefined): 'green' | 'red' | 'dim' | undefined {
  if (pair?.source !== 'measured') return 'dim';
  if (!pair.sla.verdict) return undefined;
  return pair.sla.verdict.ok ? 'green' : 'red';
}

function cell(style: Style, pair: PairView | undefined, ms: number | undefined): string {
  if (ms === undefined) return '-';
  const text = `${ms}${fallbackMark(pair)}`;
  const color = cellColor(pair);
  return color ? paint(style, color, text) : text;
}

/** What a figure the sampler did not measure (freshly) came from. */
function fallbackMark(pair: PairView | undefined): string {
  if (!pair || pair.source === 'measured') return '';
  const from = pair.source === 'tunnel' ? ' (tunnel)' : ' (static)';
  return pair.stale ? `${from.slice(0, -1)}, stale)` : from;
}

/** The matrix: one row per source region, one column per target. */
function matrixTable(view: LatencyView, style: Style): string {
  const byPair = new Map(view.pairs.map((p) => [`${p.from}->${p.to}`, p]));
  const froms = [...new Set(view.pairs.map((p) => p.from))];
  const tos = [...new Set(view.pairs.map((p) => p.to))];
  return table(
    ['FROM \\ TO', ...tos],
    froms.map((from) => [
      from,
      ...tos.map((to) => cell(style, byPair.get(`${from}->${to}`), view.matrix[from]?.[to])),
    ]),
  );
}

/** Per measured pair: the statistics and the SLA verdict. */
function pairsTable(view: LatencyView, style: Style): string {
  return table(
    ['FROM', 'TO', 'USED', 'SOURCE', 'LAST', 'EWMA', 'P50', 'P95', 'P99', 'SAMPLES', 'SLA'],
    view.pairs
      .filter((p) => p.from !== p.to)
      .map((p) => {
        const m = p.measured;
        const verdict = p.sla.verdict;
        const sla = !verdict
          ? paint(style, 'dim', 'not measured')
          : verdict.ok
            ? paint(style, 'green', 'ok')
            : paint(
                style,
                'red',
                verdict.breaches.map((b) => `${b.percentile} ${b.ms} > ${b.target_ms}`).join(', '),
              );
        return [
          p.from,
          p.to,
          `${p.ms} ms`,
          p.stale
            ? `${p.source} (stale)`
            : p.source === 'tunnel'
              ? `tunnel (${p.via ?? 'direct'})`
              : p.source,
          m ? `${m.last_ms}` : '-',
          m ? `${m.ewma_ms}` : '-',
          m ? `${m.p50_ms}` : '-',
          m ? `${m.p95_ms}` : '-',
          m ? `${m.p99_ms}` : '-',
          m ? `${m.sample_count}${m.failure_count > 0 ? ` (${m.failure_count} failed)` : ''}` : '0',
          sla,
        ];
      }),
  );
}

export async function latencyCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, {
    endpoint: { type: 'string' },
    json: { type: 'boolean' },
    from: { type: 'string' },
    to: { type: 'string' },
  });
  const query = new URLSearchParams();
  if (values.from !== undefined) query.set('from', values.from as string);
  if (values.to !== undefined) query.set('to', values.to as string);
  const path = `/v1/latency${query.size > 0 ? `?${query}` : ''}`;
  const answer = await apiClient(values, io).call('GET', path);
  if (values.json) io.out(JSON.stringify(answer.body, null, 2));
  if (answer.status !== 200) {
    if (!values.json) printApiError(io, answer);
    return 1;
  }
  if (values.json) return 0;
  const view = answer.body as LatencyView;
  const style: Style = { color: io.color };
  io.out(matrixTable(view, style));
  io.out('');
  io.out(pairsTable(view, style));
  const s = view.sampling;
  io.out(
    paint(
      style,
      'dim',
      `as seen from ${view.region} at ${view.at}; ms round trip; sampled every ${s.interval_seconds} s (${s.samples_per_run} per pair), fresh for ${s.fresh_for_seconds} s, else the mesh path's declared figure, else the topology's static one`,
    ),
  );
  return 0;
}
