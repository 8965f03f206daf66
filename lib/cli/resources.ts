/**
 * `cortex resources` (GET /v1/resources): each region's allocation, live usage and utilization,
 * coloured by the spec's thresholds (warning 70 %, critical 85 %), and the totals.
 * `cortex rebalance [--dry-run]` (POST /v1/rebalance): the moves the rebalancer plans or made.
 */
import { apiClient, type CliIo, parse, printApiError } from './common.ts';
import { paint, type Style, table } from './format.ts';

interface Amounts {
  workers: number;
  tokens_per_hour: number;
  compute_units: number;
}

interface Usage {
  workers: number;
  tokens_used: number;
  compute_units: number;
}

interface Utilization extends Amounts {
  overall: number;
}

interface ResourcesAnswer {
  hour: string;
  regions: {
    region: string;
    allocation: Amounts;
    usage: Usage;
    utilization: Utilization;
    level: 'normal' | 'warning' | 'critical';
  }[];
  totals: { allocated: Amounts; usage: Usage; utilization: Utilization };
  dynamic_rebalancing: { enabled: boolean; interval_seconds: number };
}

interface Move {
  resource: string;
  from: string;
  to: string;
  amount: number;
  reason: string;
}

interface RebalanceAnswer {
  rebalance_id: string;
  dry_run: boolean;
  enabled: boolean;
  moves: Move[];
  applied: Move[];
  skipped: { move: Move; reason: string }[];
}

const pct = (fraction: number) => `${Math.round(fraction * 1000) / 10}%`;

function levelColor(level: string): 'green' | 'yellow' | 'red' {
  return level === 'critical' ? 'red' : level === 'warning' ? 'yellow' : 'green';
}

export function resourcesTable(view: ResourcesAnswer, style: Style): string {
  const row = (name: string, a: Amounts, u: Usage, util: Utilization, level?: string) => [
    name,
    `${u.workers}/${a.workers}`,
    `${u.tokens_used}/${a.tokens_per_hour}`,
    `${u.compute_units}/${a.compute_units}`,
    level ? paint(style, levelColor(level), pct(util.overall)) : pct(util.overall),
  ];
  return table(
    ['REGION', 'WORKERS', 'TOKENS/HOUR', 'COMPUTE', 'UTILIZATION'],
    [
      ...view.regions.map((r) => row(r.region, r.allocation, r.usage, r.utilization, r.level)),
      row('total', view.totals.allocated, view.totals.usage, view.totals.utilization),
    ],
  );
}

export async function resourcesCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, { endpoint: { type: 'string' }, json: { type: 'boolean' } });
  const answer = await apiClient(values, io).call('GET', '/v1/resources');
  if (values.json) io.out(JSON.stringify(answer.body, null, 2));
  if (answer.status !== 200) {
    if (!values.json) printApiError(io, answer);
    return 1;
  }
  if (values.json) return 0;
  const view = answer.body as ResourcesAnswer;
  const style: Style = { color: io.color };
  io.out(resourcesTable(view, style));
  const r = view.dynamic_rebalancing;
  io.out(
    paint(
      style,
      'dim',
      `hour ${view.hour} UTC; rebalancing ${r.enabled ? `every ${r.interval_seconds} s` : 'disabled'}`,
    ),
  );
  return 0;
}

export async function rebalanceCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, {
    endpoint: { type: 'string' },
    json: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
  });
  const body = JSON.stringify({ dry_run: values['dry-run'] === true });
  const answer = await apiClient(values, io).call('POST', '/v1/rebalance', body);
  if (values.json) io.out(JSON.stringify(answer.body, null, 2));
  if (answer.status !== 200) {
    if (!values.json) printApiError(io, answer);
    return 1;
  }
  if (values.json) return 0;
  const result = answer.body as RebalanceAnswer;
  if (!result.enabled && result.moves.length === 0) {
    io.out('dynamic rebalancing is disabled by the topology: nothing planned');
    return 0;
  }
  if (result.moves.length === 0) {
    io.out('no region is above the overload threshold while another is underutilized: nothing to move');
    return 0;
  }
  const applied = new Set(result.applied.map((m) => JSON.stringify(m)));
  const skipped = new Map(result.skipped.map((s) => [JSON.stringify(s.move), s.reason]));
  io.out(
    table(
      ['RESOURCE', 'FROM', 'TO', 'AMOUNT', result.dry_run ? 'PLANNED' : 'OUTCOME'],
      result.moves.map((m) => [
        m.resource,
        m.from,
        m.to,
        String(m.amount),
        result.dry_run
          ? 'dry run'
          : applied.has(JSON.stringify(m))
            ? 'applied'
            : `skipped: ${skipped.get(JSON.stringify(m)) ?? 'unknown'}`,
      ]),
    ),
  );
  for (const m of result.moves) io.out(`  ${m.resource} ${m.from} -> ${m.to}: ${m.reason}`);
  return 0;
}
