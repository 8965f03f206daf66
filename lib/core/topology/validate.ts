/**
 * Turns a raw topology document into a `Topology`, or fails naming every bad field.
 *
 * Two passes: the structural schema (shapes, types, ranges, unknown keys), then the rules that relate
 * fields to each other (regions named everywhere exist, every ordered pair in the latency matrix,
 * weights adding up to 100, country codes and groups resolving ...). All issues of a pass are
 * collected before throwing, so an operator fixes a file in one round. Pure: no I/O, no clock.
 */

import { type FieldIssue, TopologyError } from '../errors.ts';
import { COUNTRIES, isIsoCountry } from '../geo/countries.ts';
import { schemaIssues, type ZodIssueLike, zodReason } from '../schema-issues.ts';
import { deepFreeze } from './compiled.ts';
import { normalizeCountryCode } from './residency.ts';
import {
  COMPLIANCE_FRAMEWORK_ALIASES,
  FAILOVER_STEPS,
  type ParsedTopology,
  topologySchema,
} from './schema.ts';
import type {
  ComplianceFrameworkPolicy,
  CrossRegionNetworking,
  McpServerConfig,
  MonitoringTargets,
  RegionalCompliance,
  RegionalMcpDeployment,
  ReplicationStrategies,
} from './sections.ts';
import {
  COMPLIANCE_FRAMEWORKS,
  type ComplianceFramework,
  type DeploymentPattern,
  type FailoverPolicies,
  type GlobalResourcePool,
  type LatencyConfig,
  type Region,
  type RoutingConfig,
  type Topology,
  type Witness,
} from './types.ts';

const DEFAULT_COOLDOWN_SECONDS = 600;

export { expandResidency, normalizeCountryCode } from './residency.ts';

export function validateTopology(raw: unknown): Topology {
  const parsed = topologySchema.safeParse(raw, {
    reportInput: true,
    error: (issue) => zodReason(issue as ZodIssueLike),
  });
  if (!parsed.success) {
    throw new TopologyError(schemaIssues(parsed.error.issues as readonly ZodIssueLike[], '(root)'));
  }
  const issues: FieldIssue[] = [];
  // A copy: the result is frozen and must share nothing with the caller's object.
  const topology = buildTopology(structuredClone(parsed.data), issues);
  if (issues.length > 0) throw new TopologyError(issues);
  return deepFreeze(topology);
}

// ---------------------------------------------------------------------------------------------
// Semantic pass

type Report = (field: string, reason: string) => void;

function buildTopology(data: ParsedTopology, issues: FieldIssue[]): Topology {
  const report: Report = (field, reason) => {
    issues.push({ field, reason });
  };
  const groups = checkCountryGroups(data.country_groups ?? {}, report);
  const places = new PlaceResolver(groups.expanded);
  const regions = checkRegions(data, places, report);
  const known = knownOf(regions);

  const witnesses = checkWitnesses(data.witnesses ?? [], known, report);
  const global_resource_pool = checkResourcePool(data.global_resource_pool, known, report);
  const failover_policies = checkFailoverPolicies(data, report);
  const replication_strategies = checkReplication(data.replication_strategies, known, report);
  const deployment = checkDeployment(data.deployment, known, report);
  const latency = checkLatency(data.latency, known, report);
  const routing = checkRouting(data.routing, report);
  const regional_compliance = checkCompliance(data.regional_compliance, regions, known, places, report);
  const regional_mcp_deployment = checkMcp(data.regional_mcp_deployment, regions, known, places, report);
  const cross_region_networking = checkNetworking(data.cross_region_networking, known, report);
  const monitoring = checkMonitoring(data.monitoring, report);

  return {
    name: data.name,
    version: data.version,
    country_groups: groups.members,
    expanded_groups: groups.expanded,
    regions,
    witnesses,
    global_resource_pool,
    failover_policies,
    replication_strategies,
    deployment,
    latency,
    routing,
    regional_compliance,
    regional_mcp_deployment,
    cross_region_networking,
    monitoring,
  };
}

interface KnownRegions {
  readonly ids: ReadonlySet<string>;
  /** In file order, each id once (a duplicate id is reported on its own). */
  readonly list: readonly string[];
}

function knownOf(regions: readonly Region[]): KnownRegions {
  const ids = new Set(regions.map((r) => r.region_id));
  return { ids, list: [...ids] };
}

const unknownRegion = (id: string) => `unknown region "${id}"; not in regions`;

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/** Avoids binary-fraction noise (0.1 + 0.2) in equality checks on weights. */
const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

/** Reports each value that appeared before in `values`, at `fieldOf(index)`; skips undefined holes. */
function reportDuplicates(
  values: readonly (string | undefined)[],
  fieldOf: (index: number) => string,
  what: string,
  report: Report,
): void {
  const firstAt = new Map<string, number>();
  values.forEach((value, index) => {
    if (value === undefined) return;
    const first = firstAt.get(value);
    if (first === undefined) firstAt.set(value, index);
    else report(fieldOf(index), `duplicate ${what} "${value}" (first at ${fieldOf(first)})`);
  });
}

// --- countries and groups ----------------------------------------------------------------------

interface CountryGroups {
  /** Normalized group name -> normalized members. */
  readonly members: Record<string, string[]>;
  /** Normalized group name -> sorted unique ISO codes. */
  readonly expanded: Record<string, string[]>;
}

function checkCountryGroups(raw: Record<string, string[]>, report: Report): CountryGroups {
  const members: Record<string, string[]> = {};
  const rawKeyOf = new Map<string, string>();
  for (const [rawName, rawMembers] of Object.entries(raw)) {
    const field = `country_groups.${rawName}`;
    const name = normalizeCountryCode(rawName);
    if (isIsoCountry(name)) {
      report(field, `group name "${rawName}" is a country code (${name}); a group needs a name of its own`);
      continue;
    }
    const earlier = rawKeyOf.get(name);
    if (earlier !== undefined) {
      report(field, `duplicate group "${name}" (also written as "${earlier}")`);
      continue;
    }
    rawKeyOf.set(name, rawName);
    members[name] = rawMembers.map(normalizeCountryCode);
  }

  for (const [name, list] of Object.entries(members)) {
    const field = `country_groups.${rawKeyOf.get(name) ?? name}`;
    list.forEach((member, index) => {
      if (!isIsoCountry(member) && members[member] === undefined) {
        report(`${field}[${index}]`, unknownPlace(member));
      }
    });
    reportDuplicates(list, (index) => `${field}[${index}]`, 'member', report);
  }

  // Depth-first expansion; a group met again while it is being expanded closes a cycle.
  const expandedSets = new Map<string, Set<string>>();
  const visiting: string[] = [];
  const reportedCycles = new Set<string>();
  const expand = (name: string): Set<string> => {
    const done = expandedSets.get(name);
    if (done) return done;
    const at = visiting.indexOf(name);
    if (at >= 0) {
      const cycle = [...visiting.slice(at), name];
      const key = [...new Set(cycle)].sort().join(',');
      if (!reportedCycles.has(key)) {
        reportedCycles.add(key);
        report(`country_groups.${rawKeyOf.get(name) ?? name}`, `group cycle: ${cycle.join(' -> ')}`);
      }
      return new Set();
    }
    visiting.push(name);
    const out = new Set<string>();
    for (const member of members[name] ?? []) {
      if (isIsoCountry(member)) out.add(member);
      else if (members[member] !== undefined) for (const code of expand(member)) out.add(code);
    }
    visiting.pop();
    expandedSets.set(name, out);
    return out;
  };
  const expanded: Record<string, string[]> = {};
  for (const name of Object.keys(members)) expanded[name] = [...expand(name)].sort();
  return { members, expanded };
}

function unknownPlace(code: string): string {
  return `unknown country or group "${code}"; expected an ISO 3166-1 alpha-2 code or a group defined in country_groups`;
}

let countryNames: Map<string, string> | undefined;

/** English country name (any case) -> ISO code; the spec writes `Switzerland` in one list. */
function countryCodeByName(name: string): string | undefined {
  countryNames ??= new Map([...COUNTRIES].map(([code, info]) => [info.name.toLowerCase(), code]));
  return countryNames.get(name.trim().toLowerCase());
}

class PlaceResolver {
  readonly #groups: Readonly<Record<string, readonly string[]>>;

  constructor(groups: Readonly<Record<string, readonly string[]>>) {
    this.#groups = groups;
  }

  /** A country code or group, normalized; reports and returns undefined when it is neither. */
  place(raw: string, field: string, report: Report, options: { names?: boolean } = {}): string | undefined {
    const code = normalizeCountryCode(raw);
    if (isIsoCountry(code) || this.#groups[code] !== undefined) return code;
    const byName = options.names ? countryCodeByName(raw) : undefined;
    if (byName !== undefined) return byName;
    report(field, unknownPlace(raw));
    return undefined;
  }

  places(raw: readonly string[], field: string, report: Report, options: { names?: boolean } = {}): string[] {
    const resolved = raw.map((entry, index) => this.place(entry, `${field}[${index}]`, report, options));
    reportDuplicates(resolved, (index) => `${field}[${index}]`, 'entry', report);
    return resolved.filter((code) => code !== undefined);
  }

  /** Sorted unique ISO codes of a list of resolved codes and groups. */
  countries(codes: readonly string[]): string[] {
    const out = new Set<string>();
    for (const code of codes) {
      if (isIsoCountry(code)) out.add(code);
      else for (const member of this.#groups[code] ?? []) out.add(member);
    }
    return [...out].sort();
  }
}

// --- regions and witnesses ---------------------------------------------------------------------

function normalizeFramework(name: string): ComplianceFramework | undefined {
  const lower = name.trim().toLowerCase();
  const alias = COMPLIANCE_FRAMEWORK_ALIASES[lower];
  if (alias) return alias;
  return COMPLIANCE_FRAMEWORKS.find((framework) => framework === lower);
}

const unknownFramework = (name: string) =>
  `unknown compliance framework "${name}"; expected one of ${COMPLIANCE_FRAMEWORKS.join(', ')}`;

function checkRegions(data: ParsedTopology, places: PlaceResolver, report: Report): Region[] {
  reportDuplicates(
    data.regions.map((r) => r.region_id),
    (index) => `regions[${index}].region_id`,
    'region_id',
    report,
  );
  return data.regions.map((raw, index): Region => {
    const field = `regions[${index}]`;
    const country = normalizeCountryCode(raw.geographic_location.country);
    if (!isIsoCountry(country)) {
      report(
        `${field}.geographic_location.country`,
        `unknown country "${raw.geographic_location.country}"; expected an ISO 3166-1 alpha-2 code (a region is in one country, not a group)`,
      );
    }
    reportDuplicates(raw.capabilities, (i) => `${field}.capabilities[${i}]`, 'capability', report);
    const frameworks = raw.compliance.map((name, i) => {
      const framework = normalizeFramework(name);
      if (!framework) report(`${field}.compliance[${i}]`, unknownFramework(name));
      return framework;
    });
    reportDuplicates(frameworks, (i) => `${field}.compliance[${i}]`, 'compliance framework', report);
    const compliance = frameworks.filter((framework) => framework !== undefined);
    const data_residency = places.places(raw.data_residency, `${field}.data_residency`, report);
    return {
      region_id: raw.region_id,
      display_name: raw.display_name,
      provider: raw.provider,
      geographic_location: { ...raw.geographic_location, country },
      tier: raw.tier,
      capabilities: raw.capabilities,
      compliance,
      data_residency,
      residency_countries: places.countries(data_residency),
      cost_index: raw.cost_index,
    };
  });
}

function checkWitnesses(witnesses: Witness[], known: KnownRegions, report: Report): Witness[] {
  reportDuplicates(
    witnesses.map((w) => w.witness_id),
    (index) => `witnesses[${index}].witness_id`,
    'witness_id',
    report,
  );
  witnesses.forEach((witness, index) => {
    if (known.ids.has(witness.witness_id)) {
      report(
        `witnesses[${index}].witness_id`,
        `witness id "${witness.witness_id}" collides with the region of the same id`,
      );
    }
    if (known.ids.has(witness.region)) {
      report(
        `witnesses[${index}].region`,
        `witness runs in "${witness.region}", a region of this topology; a witness must fail independently of the regions it judges`,
      );
    }
  });
  return witnesses;
}

/** Reports unknown keys of a region-keyed record and, when `required`, regions without a key. */
function checkRegionKeys(
  record: Readonly<Record<string, unknown>>,
  field: string,
  known: KnownRegions,
  report: Report,
  required: string | undefined,
): void {
  for (const id of Object.keys(record)) {
    if (!known.ids.has(id)) report(`${field}.${id}`, unknownRegion(id));
  }
  if (required === undefined) return;
  for (const id of known.list) {
    if (!(id in record)) report(field, `region "${id}" has no ${required}`);
  }
}

// --- resources ---------------------------------------------------------------------------------

function checkResourcePool(
  pool: ParsedTopology['global_resource_pool'],
  known: KnownRegions,
  report: Report,
): GlobalResourcePool {
  const field = 'global_resource_pool';
  checkRegionKeys(pool.regional_allocation, `${field}.regional_allocation`, known, report, 'allocation');
  const allocations = Object.values(pool.regional_allocation);
  for (const resource of ['workers', 'tokens_per_hour', 'compute_units'] as const) {
    const allocated = round6(sum(allocations.map((a) => a[resource])));
    const total = pool.total_capacity[resource];
    if (allocated > total) {
      report(
        `${field}.regional_allocation`,
        `allocated ${resource} add up to ${allocated}, above total_capacity.${resource} ${total}`,
      );
    }
  }
  const { overload, underutilized } = pool.dynamic_rebalancing.thresholds;
  if (underutilized >= overload) {
    report(
      `${field}.dynamic_rebalancing.thresholds.underutilized`,
      `underutilized (${underutilized}) must be below overload (${overload})`,
    );
  }
  return pool;
}

// --- failover ----------------------------------------------------------------------------------

function checkFailoverPolicies(data: ParsedTopology, report: Report): FailoverPolicies {
  const policies = data.failover_policies;
  const field = 'failover_policies';
  const { interval_seconds, timeout_seconds, endpoints } = policies.health_check;
  if (timeout_seconds >= interval_seconds) {
    report(
      `${field}.health_check.timeout_seconds`,
      `timeout (${timeout_seconds} s) must be shorter than the interval (${interval_seconds} s), or probes overlap`,
    );
  }
  reportDuplicates(endpoints, (i) => `${field}.health_check.endpoints[${i}]`, 'endpoint', report);

  const steps = policies.failover_sequence;
  const seen = new Set<string>();
  steps.forEach((step, index) => {
    const at = `${field}.failover_sequence[${index}].step`;
    if (seen.has(step.step)) {
      report(at, `duplicate step "${step.step}"`);
      return;
    }
    const previous = steps[index - 1];
    if (previous && FAILOVER_STEPS.indexOf(previous.step) > FAILOVER_STEPS.indexOf(step.step)) {
      report(at, `step "${step.step}" is out of order; steps run ${FAILOVER_STEPS.join(', ')}`);
    }
    seen.add(step.step);
  });
  for (const step of FAILOVER_STEPS) {
    if (!seen.has(step)) report(`${field}.failover_sequence`, `missing step "${step}"`);
  }
  const budget = sum(steps.map((s) => s.timeout_seconds));
  const rto = data.monitoring.performance.failover_time.rto_target;
  if (budget > rto) {
    report(
      `${field}.failover_sequence`,
      `step timeouts add up to ${budget} s, above the RTO target of ${rto} s (monitoring.performance.failover_time.rto_target)`,
    );
  }
  return {
    ...policies,
    automatic_failover: {
      ...policies.automatic_failover,
      cooldown_seconds: policies.automatic_failover.cooldown_seconds ?? DEFAULT_COOLDOWN_SECONDS,
    },
  };
}

// --- replication -------------------------------------------------------------------------------

function checkReplication(
  strategies: ReplicationStrategies,
  known: KnownRegions,
  report: Report,
): ReplicationStrategies {
  const field = 'replication_strategies';
  const { synchronous, asynchronous, selective } = strategies;
  const acks = synchronous.replication_flow.min_replicas_ack;
  if (acks > known.list.length) {
    report(
      `${field}.synchronous.replication_flow.min_replicas_ack`,
      `${acks} acknowledgements cannot be had from ${known.list.length} regions`,
    );
  }
  reportDuplicates(
    synchronous.data_types,
    (i) => `${field}.synchronous.data_types[${i}]`,
    'data type',
    report,
  );
  reportDuplicates(
    asynchronous.data_types,
    (i) => `${field}.asynchronous.data_types[${i}]`,
    'data type',
    report,
  );
  const synchronousTypes = new Set(synchronous.data_types);
  asynchronous.data_types.forEach((type, i) => {
    if (synchronousTypes.has(type)) {
      report(
        `${field}.asynchronous.data_types[${i}]`,
        `data type "${type}" is also replicated synchronously; a data type has one strategy`,
      );
    }
  });
  reportDuplicates(
    selective.policies.map((p) => p.policy_id),
    (i) => `${field}.selective.policies[${i}].policy_id`,
    'policy_id',
    report,
  );
  selective.policies.forEach((policy, i) => {
    policy.target_regions.forEach((target, k) => {
      if (target !== 'all' && target !== 'same_jurisdiction' && !known.ids.has(target)) {
        report(
          `${field}.selective.policies[${i}].target_regions[${k}]`,
          `unknown target "${target}"; expected all, same_jurisdiction or a region id`,
        );
      }
    });
  });
  return strategies;
}

// --- deployment --------------------------------------------------------------------------------

function checkDeployment(
  deployment: DeploymentPattern,
  known: KnownRegions,
  report: Report,
): DeploymentPattern {
  const field = 'deployment.regions';
  checkRegionKeys(deployment.regions, field, known, report, 'deployment entry');
  const entries = Object.entries(deployment.regions);
  for (const [id, region] of entries) {
    const at = `${field}.${id}`;
    if (region.role !== 'active' && region.traffic_weight !== 0) {
      report(
        `${at}.traffic_weight`,
        `a ${region.role} region takes no traffic; expected 0, got ${region.traffic_weight}`,
      );
    }
    const expectedMode =
      region.role === 'passive-warm' ? 'warm' : region.role === 'passive-cold' ? 'cold' : undefined;
    if (region.standby_mode !== undefined && region.standby_mode !== expectedMode) {
      report(
        `${at}.standby_mode`,
        expectedMode
          ? `standby_mode "${region.standby_mode}" contradicts role ${region.role}`
          : `an active region has no standby_mode`,
      );
    }
  }
  const priorityOwner = new Map<number, string>();
  for (const [id, region] of entries) {
    const owner = priorityOwner.get(region.failover_priority);
    if (owner !== undefined) {
      report(
        `${field}.${id}.failover_priority`,
        `failover_priority ${region.failover_priority} is also used by ${owner}; the failover order must be total`,
      );
    } else priorityOwner.set(region.failover_priority, id);
  }

  const active = entries.filter(([, region]) => region.role === 'active');
  if (deployment.pattern === 'active-active') {
    const total = round6(sum(entries.map(([, region]) => region.traffic_weight)));
    if (total !== 100) {
      report(field, `traffic weights add up to ${total}; they must add up to 100`);
    }
  } else {
    if (active.length !== 1) {
      report(field, `active-passive needs exactly one active region, found ${active.length}`);
    }
    for (const [id, region] of active) {
      if (region.traffic_weight !== 100) {
        report(
          `${field}.${id}.traffic_weight`,
          `the active region of an active-passive deployment takes all traffic; expected 100, got ${region.traffic_weight}`,
        );
      }
    }
  }

  const replication = deployment.replication;
  if (replication) {
    const at = 'deployment.replication';
    if (!known.ids.has(replication.source)) report(`${at}.source`, unknownRegion(replication.source));
    else if (
      deployment.pattern === 'active-passive' &&
      active.length === 1 &&
      active[0]?.[0] !== replication.source
    ) {
      report(`${at}.source`, `replication source "${replication.source}" is not the active region`);
    }
    replication.targets.forEach((target, i) => {
      if (!known.ids.has(target)) report(`${at}.targets[${i}]`, unknownRegion(target));
      else if (target === replication.source)
        report(`${at}.targets[${i}]`, 'a region does not replicate to itself');
    });
    reportDuplicates(replication.targets, (i) => `${at}.targets[${i}]`, 'target', report);
  }
  return deployment;
}

// --- latency and routing -----------------------------------------------------------------------

function checkLatency(latency: LatencyConfig, known: KnownRegions, report: Report): LatencyConfig {
  const field = 'latency.matrix';
  for (const [from, row] of Object.entries(latency.matrix)) {
    if (!known.ids.has(from)) {
      report(`${field}.${from}`, unknownRegion(from));
      continue;
    }
    for (const to of Object.keys(row)) {
      if (!known.ids.has(to)) report(`${field}.${from}.${to}`, unknownRegion(to));
    }
  }
  for (const from of known.list) {
    const row = latency.matrix[from];
    if (!row) {
      report(`${field}.${from}`, `no latencies from region "${from}"; every ordered pair needs a figure`);
      continue;
    }
    for (const to of known.list) {
      if (row[to] === undefined) {
        report(
          `${field}.${from}.${to}`,
          `missing latency from ${from} to ${to}; every ordered pair (a region to itself too) needs a figure`,
        );
      }
    }
  }
  checkSla(latency.sla, 'latency.sla', report);
  for (const [pair, sla] of Object.entries(latency.pair_slas ?? {})) {
    const at = `latency.pair_slas.${pair}`;
    for (const id of pair.split('->')) {
      if (!known.ids.has(id)) report(at, unknownRegion(id));
    }
    checkSla(sla, at, report);
  }
  return latency;
}

function checkSla(sla: LatencyConfig['sla'], field: string, report: Report): void {
  if (sla.p95_target_ms < sla.p50_target_ms) {
    report(
      `${field}.p95_target_ms`,
      `p95 target (${sla.p95_target_ms} ms) is below the p50 target (${sla.p50_target_ms} ms)`,
    );
  }
  if (sla.p99_target_ms < sla.p95_target_ms) {
    report(
      `${field}.p99_target_ms`,
      `p99 target (${sla.p99_target_ms} ms) is below the p95 target (${sla.p95_target_ms} ms)`,
    );
  }
}

function checkRouting(routing: RoutingConfig, report: Report): RoutingConfig {
  for (const [profile, weights] of Object.entries(routing.weights)) {
    const total = round6(weights.capacity + weights.latency + weights.compliance + weights.cost);
    if (total !== 100) {
      report(
        `routing.weights.${profile}`,
        `weights add up to ${total} (capacity ${weights.capacity} + latency ${weights.latency} + compliance ${weights.compliance} + cost ${weights.cost}); they must add up to 100`,
      );
    }
  }
  return routing;
}

// --- compliance --------------------------------------------------------------------------------

function checkCompliance(
  raw: ParsedTopology['regional_compliance'],
  regions: readonly Region[],
  known: KnownRegions,
  places: PlaceResolver,
  report: Report,
): Record<string, RegionalCompliance> {
  checkRegionKeys(raw, 'regional_compliance', known, report, undefined);
  const out: Record<string, RegionalCompliance> = {};
  for (const [id, policy] of Object.entries(raw)) {
    const field = `regional_compliance.${id}`;
    const region = regions.find((r) => r.region_id === id);
    const frameworks: Partial<Record<ComplianceFramework, ComplianceFrameworkPolicy>> = {};
    for (const [name, settings] of Object.entries(policy.frameworks)) {
      const at = `${field}.frameworks.${name}`;
      const framework = normalizeFramework(name);
      if (!framework) {
        report(at, unknownFramework(name));
        continue;
      }
      if (frameworks[framework]) {
        report(at, `framework ${framework} appears twice (spellings ${framework} and ${name})`);
        continue;
      }
      if (settings.enabled && region && !region.compliance.includes(framework)) {
        const index = regions.indexOf(region);
        report(
          at,
          `framework ${framework} is enabled here but regions[${index}].compliance does not list it`,
        );
      }
      frameworks[framework] = settings;
    }
    const residency = policy.data_residency;
    const allowed_countries = places.places(
      residency.allowed_countries,
      `${field}.data_residency.allowed_countries`,
      report,
    );
    const transfer = residency.cross_border_transfer;
    const cross_border_transfer =
      typeof transfer === 'string'
        ? transfer
        : {
            ...transfer,
            adequacy_decisions: places.places(
              transfer.adequacy_decisions,
              `${field}.data_residency.cross_border_transfer.adequacy_decisions`,
              report,
              { names: true },
            ),
          };
    out[id] = {
      ...policy,
      frameworks,
      data_residency: { ...residency, allowed_countries, cross_border_transfer },
    };
  }
  return out;
}

// --- MCP servers -------------------------------------------------------------------------------

function checkMcp(
  raw: ParsedTopology['regional_mcp_deployment'],
  regions: readonly Region[],
  known: KnownRegions,
  places: PlaceResolver,
  report: Report,
): Record<string, RegionalMcpDeployment> {
  const field = 'regional_mcp_deployment';
  checkRegionKeys(raw, field, known, report, undefined);
  for (const region of regions) {
    const hosts = region.capabilities.includes('mcp-servers');
    // The reverse (a deployment in a region without the capability) is allowed: dropping the
    // capability is how an operator stops routing MCP work to a region without losing its config.
    if (hosts && !(region.region_id in raw)) {
      report(field, `region "${region.region_id}" has the mcp-servers capability but no MCP deployment`);
    }
  }
  const out: Record<string, RegionalMcpDeployment> = {};
  for (const [id, deployment] of Object.entries(raw)) {
    const region = regions.find((r) => r.region_id === id);
    const servers: Record<string, McpServerConfig> = {};
    for (const [name, server] of Object.entries(deployment.mcp_servers)) {
      const at = `${field}.${id}.mcp_servers.${name}`;
      server.replication?.targets?.forEach((target, i) => {
        const targetField = `${at}.replication.targets[${i}]`;
        if (!known.ids.has(target)) report(targetField, unknownRegion(target));
        else if (target === id) report(targetField, 'a server does not replicate to its own region');
      });
      const { compliance_mode: rawMode, data_residency: rawResidency, ...rest } = server;
      const compliance_mode = rawMode === undefined ? undefined : normalizeFramework(rawMode);
      if (compliance_mode && region && !region.compliance.includes(compliance_mode)) {
        report(
          `${at}.compliance_mode`,
          `region "${id}" does not list compliance framework ${compliance_mode}`,
        );
      }
      const data_residency =
        rawResidency === undefined ? undefined : places.place(rawResidency, `${at}.data_residency`, report);
      servers[name] = {
        ...rest,
        ...(compliance_mode ? { compliance_mode } : {}),
        ...(data_residency ? { data_residency } : {}),
      };
    }
    out[id] = { ...deployment, mcp_servers: servers };
  }
  return out;
}

// --- networking --------------------------------------------------------------------------------

function checkNetworking(
  networking: CrossRegionNetworking,
  known: KnownRegions,
  report: Report,
): CrossRegionNetworking {
  const field = 'cross_region_networking';
  const tunnels = networking.vpn_mesh.tunnels;
  reportDuplicates(
    tunnels.map((t) => t.tunnel_id),
    (i) => `${field}.vpn_mesh.tunnels[${i}].tunnel_id`,
    'tunnel_id',
    report,
  );
  const linked = new Set<string>();
  // Region -> its VPC ranges (each once, with the first place it is written).
  const cidrsOf = new Map<string, Map<string, string>>();
  tunnels.forEach((tunnel, i) => {
    const at = `${field}.vpn_mesh.tunnels[${i}]`;
    for (const end of ['source', 'destination'] as const) {
      const { region, allowed_ips } = tunnel[end];
      if (!known.ids.has(region)) report(`${at}.${end}.region`, unknownRegion(region));
      const ranges = cidrsOf.get(region) ?? new Map<string, string>();
      allowed_ips.forEach((cidr, k) => {
        if (!ranges.has(cidr)) ranges.set(cidr, `${at}.${end}.allowed_ips[${k}]`);
      });
      cidrsOf.set(region, ranges);
    }
    if (tunnel.source.region === tunnel.destination.region) {
      report(`${at}.destination.region`, 'a tunnel joins two different regions');
    }
    linked.add(pairKey(tunnel.source.region, tunnel.destination.region));
  });
  for (const [i, a] of known.list.entries()) {
    for (const b of known.list.slice(i + 1)) {
      if (!linked.has(pairKey(a, b))) {
        report(
          `${field}.vpn_mesh.tunnels`,
          `no tunnel between ${a} and ${b}; the mesh joins every pair of regions`,
        );
      }
    }
  }
  // Overlapping VPC ranges in two regions make tunnel routes ambiguous.
  const ranges = [...cidrsOf].flatMap(([region, list]) =>
    [...list].map(([cidr, at]) => ({ region, cidr, at, range: cidrRange(cidr) })),
  );
  for (const [i, a] of ranges.entries()) {
    for (const b of ranges.slice(i + 1)) {
      if (a.region !== b.region && a.range[0] <= b.range[1] && b.range[0] <= a.range[1]) {
        report(b.at, `${b.cidr} of ${b.region} overlaps ${a.cidr} of ${a.region}`);
      }
    }
  }

  const classes = networking.qos.traffic_classes;
  reportDuplicates(
    classes.map((c) => c.name),
    (i) => `${field}.qos.traffic_classes[${i}].name`,
    'traffic class',
    report,
  );
  reportDuplicates(
    classes.map((c) => String(c.priority)),
    (i) => `${field}.qos.traffic_classes[${i}].priority`,
    'priority',
    report,
  );
  const guaranteed = round6(sum(classes.map((c) => c.guaranteed_bandwidth_percent)));
  if (guaranteed > 100) {
    report(`${field}.qos.traffic_classes`, `guaranteed bandwidth adds up to ${guaranteed} %, above 100 %`);
  }
  return networking;
}

const pairKey = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);

function cidrRange(cidr: string): [number, number] {
  const [address = '', bits = '32'] = cidr.split('/');
  const base = address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(bits));
  const start = base - (base % size);
  return [start, start + size - 1];
}

// --- monitoring --------------------------------------------------------------------------------

function checkMonitoring(monitoring: MonitoringTargets, report: Report): MonitoringTargets {
  const latency = monitoring.performance.cross_region_latency;
  const field = 'monitoring.performance.cross_region_latency';
  if (latency.p95_target < latency.p50_target) {
    report(
      `${field}.p95_target`,
      `p95 target (${latency.p95_target}) is below the p50 target (${latency.p50_target})`,
    );
  }
  if (latency.p99_target < latency.p95_target) {
    report(
      `${field}.p99_target`,
      `p99 target (${latency.p99_target}) is below the p95 target (${latency.p95_target})`,
    );
  }
  const utilization = monitoring.capacity.regional_utilization;
  if (utilization.warning_threshold >= utilization.critical_threshold) {
    report(
      'monitoring.capacity.regional_utilization.warning_threshold',
      `warning threshold (${utilization.warning_threshold}) must be below the critical threshold (${utilization.critical_threshold})`,
    );
  }
  const lag = monitoring.performance.replication_lag;
  if (lag.synchronous_target > lag.asynchronous_target) {
    report(
      'monitoring.performance.replication_lag.synchronous_target',
      `synchronous target (${lag.synchronous_target} s) is above the asynchronous target (${lag.asynchronous_target} s)`,
    );
  }
  return monitoring;
}
