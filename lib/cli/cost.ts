/**
 * `cortex cost`: what the deployment of a topology costs a month on AWS, line by line. The app is
 * synthesized in-process (as `cdk synth` would, without bundling or credentials) and its templates
 * priced (lib/infra/cost-inventory.ts, lib/core/cost/); the unit prices and assumptions are in
 * lib/core/cost/price-book.ts, named and dated. docs/cost.md says what the figures mean.
 */
import { type CostReport, estimateMonthlyCost } from '../core/cost/model.ts';
import { PRICE_BOOK } from '../core/cost/price-book.ts';
import type { Topology } from '../core/topology/types.ts';
import { validateTopology } from '../core/topology/validate.ts';
import { COST_DNS, costWorkload, synthesizeCostInventory } from '../infra/cost-inventory.ts';
import type { NetworkMode } from '../infra/deploy-options.ts';
import { readTopologyJson } from '../topology/load.ts';
import { type CliIo, integerOption, parse, requireReadable, UsageError } from './common.ts';
import { table } from './format.ts';

/** Route 53 health checks take 10 or 30 s (DESIGN: platform facts); the probes follow the same policy. */
const PROBE_INTERVALS = [10, 30] as const;

/** Routed tasks a month at most: a bound that keeps a typo (an extra zero or ten) from passing. */
const MAX_REQUESTS_PER_MONTH = 10_000_000_000;

/** A DNS name Route 53 can hold (lib/infra/dns-plan.ts checks the same at synth). */
const DOMAIN = /^(?=.{1,230}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export interface CostOptions {
  readonly topologyPath?: string;
  readonly probeIntervalSeconds?: number;
  readonly requestsPerMonth?: number;
  /**
   * Price DNS as `-c domain=<domain>` deploys it (zone, health checks, records). Absent: the app's
   * default deployment, which has no domain and no DNS.
   */
  readonly domain?: string;
  /** Price what `-c network=mesh` adds to the regional stacks (the MCP health job). @default 'none' */
  readonly network?: NetworkMode;
  /** Deduct AWS's always-free allowances, as lines apart from the list price. @default false */
  readonly freeTier?: boolean;
}

/** The monthly cost report of a topology file (its own probe interval unless one is given). */
export function costReport(options: CostOptions = {}): CostReport {
  const topology = topologyWithInterval(options.topologyPath, options.probeIntervalSeconds);
  const inventory = synthesizeCostInventory(topology, {
    ...(options.domain === undefined ? {} : { domain: options.domain }),
    ...(options.network === undefined ? {} : { network: options.network }),
  });
  const workload = costWorkload(topology, {
    requestsPerMonth: options.requestsPerMonth ?? PRICE_BOOK.assumptions.default_requests_per_month,
  });
  return estimateMonthlyCost(inventory, workload, PRICE_BOOK, { freeTier: options.freeTier === true });
}

export function costCommand(args: readonly string[], io: CliIo): number {
  const { values } = parse(args, {
    topology: { type: 'string' },
    'probe-interval': { type: 'string' },
    'requests-per-month': { type: 'string' },
    domain: { type: 'string' },
    network: { type: 'string' },
    dns: { type: 'boolean' },
    'no-dns': { type: 'boolean' },
    'free-tier': { type: 'boolean' },
    json: { type: 'boolean' },
  });
  const domain = values.domain === undefined ? undefined : values.domain.toLowerCase().replace(/\.$/, '');
  if (domain !== undefined && !DOMAIN.test(domain)) {
    throw new UsageError(`--domain must be a DNS name such as cortex.example.com, got "${values.domain}"`);
  }
  if (values['no-dns'] && (values.dns || domain !== undefined)) {
    throw new UsageError('--no-dns cannot be combined with --dns or --domain');
  }
  const network = values.network;
  if (network !== undefined && network !== 'none' && network !== 'mesh') {
    throw new UsageError(`--network must be none or mesh (as cdk -c network=...), got "${network}"`);
  }
  const interval = values['probe-interval'];
  if (interval !== undefined && !PROBE_INTERVALS.some((s) => String(s) === interval)) {
    throw new UsageError(
      `--probe-interval must be 10 or 30 (seconds: Route 53 health checks take no other), got "${interval}"`,
    );
  }
  const requestsPerMonth = integerOption(
    'requests-per-month',
    values['requests-per-month'],
    0,
    MAX_REQUESTS_PER_MONTH,
  );
  if (values.topology !== undefined) requireReadable(values.topology, '--topology');
  const report = costReport({
    ...(values.topology === undefined ? {} : { topologyPath: values.topology }),
    ...(interval === undefined ? {} : { probeIntervalSeconds: Number(interval) }),
    ...(requestsPerMonth === undefined ? {} : { requestsPerMonth }),
    ...(network === undefined ? {} : { network }),
    ...(values['free-tier'] ? { freeTier: true } : {}),
    // --dns: a placeholder domain (the name does not change the bill). --no-dns is the default.
    ...(domain !== undefined ? { domain } : values.dns ? { domain: COST_DNS.domain } : {}),
  });
  if (values.json) {
    io.out(JSON.stringify(report, null, 2));
    return 0;
  }
  for (const line of costLines(report)) io.out(line);
  return 0;
}

/** A line's cells, in the table's column order. */
function rowOf(l: CostReport['lines'][number]): string[] {
  return [
    l.service,
    l.item,
    quantity(l.quantity),
    l.unit,
    usd(l.unit_usd, true),
    usd(l.monthly_usd),
    l.basis,
  ];
}

/** The report as a table: one row per line (zero lines too: what was looked for), largest first within each service, then the total. */
export function costLines(report: CostReport): string[] {
  const services = [...new Set(report.lines.map((l) => l.service))];
  const rows = [...report.lines]
    .sort(
      (x, y) => services.indexOf(x.service) - services.indexOf(y.service) || y.monthly_usd - x.monthly_usd,
    )
    .map(rowOf);
  const total = usd(report.total_usd);
  const free = report.free_tier;
  const freeRows = (free?.lines ?? []).map(rowOf);
  return [
    `${report.regions.length} regions (${report.regions.join(', ')}), probes every ${report.probe_interval_seconds} s, ` +
      `${quantity(report.requests_per_month)} routed tasks a month`,
    '',
    table(['SERVICE', 'ITEM', 'QUANTITY', 'UNIT', 'UNIT PRICE', 'MONTHLY', 'FROM'], rows),
    '',
    `total: ${total} a month at list price`,
    ...(free
      ? [
          '',
          "AWS's always-free allowances (each account has one set; its other workloads may use them first):",
          '',
          table(['SERVICE', 'ITEM', 'QUANTITY', 'UNIT', 'UNIT PRICE', 'MONTHLY', 'FROM'], freeRows),
          '',
          `after the free tier: ${usd(free.total_usd)} a month (list price ${total})`,
        ]
      : []),
    `prices: ${report.price_book.name}, written ${report.price_book.date} (lib/core/cost/price-book.ts); ` +
      (free
        ? `always-free allowances as checked ${PRICE_BOOK.free_tier.date}; `
        : 'free tiers not deducted (--free-tier deducts the always-free ones); ') +
      'docs/cost.md has the assumptions',
  ];
}

function topologyWithInterval(path: string | undefined, interval: number | undefined): Topology {
  const raw = readTopologyJson(path) as { failover_policies?: { health_check?: Record<string, unknown> } };
  // The probe interval is the topology's: overriding it there makes the synthesized health checks
  // (Route 53's interval) and the probe rounds follow, as a deployment with that policy would.
  const health = raw.failover_policies?.health_check;
  if (interval !== undefined && health) {
    health.interval_seconds = interval;
    // A probe must time out before the next round starts (the topology's rule): the spec's 10 s
    // timeout becomes 9 s at a 10 s interval. The timeout does not change the bill.
    if (typeof health.timeout_seconds === 'number' && health.timeout_seconds >= interval) {
      health.timeout_seconds = interval - 1;
    }
  }
  return validateTopology(raw);
}

function usd(value: number, unit = false): string {
  // A free-tier line takes dollars off: -$0.20.
  if (value < 0) return `-${usd(-value, unit)}`;
  if (unit && value > 0 && value < 0.01) return `$${value.toPrecision(3)}`;
  return `$${value.toFixed(2)}`;
}

function quantity(value: number): string {
  if (value < 0) return `-${quantity(-value)}`;
  if (value === 0) return '0';
  if (value < 10) return value.toFixed(value < 1 ? 3 : 2);
  return Math.round(value).toLocaleString('en-US');
}
