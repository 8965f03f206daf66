/**
 * What Route 53 serves, derived once from the topology and the `domain` / `hostedZoneId` context.
 *
 * Layout (no cross-region references: every name below is deterministic):
 * - `api.<domain>`: the service name clients use. Active-active: one latency alias record per region.
 *   Active-passive: failover records, PRIMARY = the active region, SECONDARY = the failover_priority 1
 *   region; with more standbys the SECONDARY is an alias to a nested failover set
 *   `standby-<k>.api.<domain>` (PRIMARY = the k-th standby, SECONDARY = the next level or the last standby).
 * - `<region>.api.<domain>`: one region's API, always; probes, operators and the CLI address a region here.
 * - Each routing record carries the region's health check (HTTPS `/health` on its execute-api host).
 *
 * Each record targets its region's API Gateway custom domain, whose alias target exists only in that
 * region's stack, so each regional stack creates its own records and health check (Route 53 is global:
 * any region's stack may write to the zone). What they need is the zone's id, from `-c hostedZoneId=`.
 * Without it `CortexDns` creates the zone and the regional part waits for the second deploy: a new zone
 * must first be delegated from its parent domain anyway, or ACM cannot validate the certificates.
 */
import { type FieldIssue, TopologyError } from '../core/errors.ts';
import type { Topology } from '../core/topology/types.ts';

/** CDK context keys (`cdk synth -c domain=cortex.example.com -c hostedZoneId=Z123...`). */
export const DNS_CONTEXT = { domain: 'domain', hostedZoneId: 'hostedZoneId' } as const;

export interface DnsOptions {
  /** The zone's domain, e.g. `cortex.example.com`. Without it no DNS is deployed. */
  readonly domain?: string;
  /** An existing public hosted zone for `domain`, imported by id (no lookup, no credentials). */
  readonly hostedZoneId?: string;
}

/** Route 53 health check settings: the only values Route 53 accepts are checked here. */
export interface HealthCheckPlan {
  /** 10 or 30 seconds (Route 53 offers nothing else). */
  readonly intervalSeconds: 10 | 30;
  /** Consecutive results that flip the status, both ways: 1-10. */
  readonly failureThreshold: number;
  readonly resourcePath: '/health';
  readonly port: 443;
}

/** One record in a routing set, owned (created) by one region's stack. */
export interface RoutingRecordPlan {
  /** Fully qualified, without the trailing dot: `api.cortex.example.com`. */
  readonly recordName: string;
  /** Unique within the set. */
  readonly setIdentifier: string;
  /** Latency record for this AWS region, or one half of a failover pair. */
  readonly routing: { readonly latencyRegion: string } | { readonly failover: 'PRIMARY' | 'SECONDARY' };
  /** `region`: alias to the owning region's API (with its health check). Otherwise a nested set's name. */
  readonly target: 'region' | { readonly nestedSet: string };
}

export interface RegionDnsPlan {
  readonly regionId: string;
  /** `<region>.api.<domain>`. */
  readonly regionalName: string;
  /** Records this region's stack creates in the `api.<domain>` sets. */
  readonly routingRecords: readonly RoutingRecordPlan[];
}

export interface DnsPlan {
  readonly domain: string;
  /** Imported zone; undefined: CortexDns creates the zone and regional DNS waits for its id. */
  readonly hostedZoneId: string | undefined;
  /** `api.<domain>`: the name clients use. */
  readonly serviceName: string;
  readonly pattern: Topology['deployment']['pattern'];
  readonly healthCheck: HealthCheckPlan;
  readonly regions: Readonly<Record<string, RegionDnsPlan>>;
}

/** Per-region API names are `<region>.api.<domain>`, the same scheme the probes use. */
export function regionalApiName(domain: string, regionId: string): string {
  return `${regionId}.api.${domain}`;
}

/** A hostname of at most 253 characters with room for `ap-southeast-2.api.` in front. */
const DOMAIN = /^(?=.{1,230}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const HOSTED_ZONE_ID = /^Z[A-Z0-9]{1,31}$/;
const ROUTE53_INTERVALS: readonly number[] = [10, 30];

/**
 * The DNS plan, or undefined when `domain` is not set (no DNS: the caller says so). Throws a
 * TopologyError naming the field when a value cannot be deployed to Route 53.
 */
export function planDns(topology: Topology, options: DnsOptions): DnsPlan | undefined {
  const issues: FieldIssue[] = [];
  const domain = options.domain?.trim().toLowerCase().replace(/\.$/, '');
  if (options.hostedZoneId !== undefined && !domain) {
    issues.push({ field: '(context) hostedZoneId', reason: 'needs -c domain=<the zone name> as well' });
  }
  if (!domain) {
    if (issues.length > 0) throw new TopologyError(issues);
    return undefined;
  }
  if (!DOMAIN.test(domain)) {
    issues.push({
      field: '(context) domain',
      reason: `must be a lower-case DNS name such as cortex.example.com (at most 230 characters), got ${JSON.stringify(options.domain)}`,
    });
  }
  if (options.hostedZoneId !== undefined && !HOSTED_ZONE_ID.test(options.hostedZoneId)) {
    issues.push({
      field: '(context) hostedZoneId',
      reason: `must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ, got ${JSON.stringify(options.hostedZoneId)}`,
    });
  }

  const healthCheck = planHealthCheck(topology, issues);
  const regions = Object.fromEntries(
    topology.regions.map((r) => [
      r.region_id,
      {
        regionId: r.region_id,
        regionalName: regionalApiName(domain, r.region_id),
        routingRecords: [] as RoutingRecordPlan[],
      },
    ]),
  );
  const serviceName = `api.${domain}`;
  if (topology.deployment.pattern === 'active-active') {
    for (const region of topology.regions) {
      regions[region.region_id]?.routingRecords.push({
        recordName: serviceName,
        setIdentifier: region.region_id,
        routing: { latencyRegion: region.region_id },
        target: 'region',
      });
    }
  } else {
    planFailoverChain(topology, domain, regions, issues);
  }
  if (issues.length > 0) throw new TopologyError(issues);
  return Object.freeze({
    domain,
    hostedZoneId: options.hostedZoneId,
    serviceName,
    pattern: topology.deployment.pattern,
    healthCheck,
    regions: Object.freeze(regions),
  });
}

/**
 * Route 53 checks every 10 or 30 s with one threshold both ways. The interval comes from
 * `deployment.traffic_distribution.health_check_interval_seconds` (DNS traffic distribution), else
 * `failover_policies.health_check.interval_seconds`; the threshold from the latter. Anything else
 * would synthesize and fail only at deploy, so it is rejected here.
 */
function planHealthCheck(topology: Topology, issues: FieldIssue[]): HealthCheckPlan {
  const distribution = topology.deployment.traffic_distribution;
  const [intervalField, interval] =
    distribution === undefined
      ? [
          'failover_policies.health_check.interval_seconds',
          topology.failover_policies.health_check.interval_seconds,
        ]
      : [
          'deployment.traffic_distribution.health_check_interval_seconds',
          distribution.health_check_interval_seconds,
        ];
  if (!ROUTE53_INTERVALS.includes(interval)) {
    issues.push({
      field: intervalField,
      reason: `Route 53 health checks run every 10 or 30 seconds, got ${interval}`,
    });
  }
  const threshold = topology.failover_policies.health_check.failure_threshold;
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > 10) {
    issues.push({
      field: 'failover_policies.health_check.failure_threshold',
      reason: `a Route 53 health check's failure threshold is 1-10, got ${threshold}`,
    });
  }
  return Object.freeze({
    intervalSeconds: interval as 10 | 30,
    failureThreshold: threshold,
    resourcePath: '/health',
    port: 443,
  });
}

/**
 * Route 53 failover sets hold one PRIMARY and one SECONDARY. Standbys beyond the first are chained:
 * level 0 is `api.<domain>` (PRIMARY = active), level k is `standby-<k>.api.<domain>`; the k-th standby
 * owns level k's PRIMARY and the pointer to it (level k-1's SECONDARY), the last standby is the last
 * level's SECONDARY. The pointer lives in the same stack as its target, which must exist first.
 */
function planFailoverChain(
  topology: Topology,
  domain: string,
  regions: Record<string, { routingRecords: RoutingRecordPlan[] }>,
  issues: FieldIssue[],
): void {
  const entries = topology.regions.map((r) => ({
    id: r.region_id,
    entry: topology.deployment.regions[r.region_id],
  }));
  const active = entries.filter((e) => e.entry?.role === 'active');
  const standbys = entries
    .filter((e) => e.entry !== undefined && e.entry.role !== 'active')
    .sort((a, b) => (a.entry?.failover_priority ?? 0) - (b.entry?.failover_priority ?? 0));
  const primary = active[0];
  if (active.length !== 1 || !primary || standbys.length === 0) {
    issues.push({
      field: 'deployment.regions',
      reason: `active-passive DNS needs exactly one active region and at least one standby, found ${active.length} active and ${standbys.length} standby`,
    });
    return;
  }
  const level = (k: number) => (k === 0 ? `api.${domain}` : `standby-${k}.api.${domain}`);
  regions[primary.id]?.routingRecords.push({
    recordName: level(0),
    setIdentifier: `${primary.id}-primary`,
    routing: { failover: 'PRIMARY' },
    target: 'region',
  });
  standbys.forEach((standby, i) => {
    const records = regions[standby.id]?.routingRecords;
    const k = i + 1;
    if (k === standbys.length) {
      records?.push({
        recordName: level(k - 1),
        setIdentifier: `${standby.id}-secondary`,
        routing: { failover: 'SECONDARY' },
        target: 'region',
      });
      return;
    }
    records?.push(
      {
        recordName: level(k),
        setIdentifier: `${standby.id}-primary`,
        routing: { failover: 'PRIMARY' },
        target: 'region',
      },
      {
        recordName: level(k - 1),
        setIdentifier: `${standby.id}-standby-${k}`,
        routing: { failover: 'SECONDARY' },
        target: { nestedSet: level(k) },
      },
    );
  });
}
