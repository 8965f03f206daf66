/**
 * Region selection for a task: one algorithm that honours the spec's three routing scripts
 * (select-region, route-cross-region-task, latency-aware-routing). Pure: the caller passes the
 * live region statuses and resource usage.
 *
 * 1. Hard filters, every reason collected: region serving; required compliance frameworks; data
 *    residency; the compliance rules for the task's classification and origin (lib/core/compliance:
 *    transfers, encryption, access control; the same rules as the compliance check and failover);
 *    required capabilities; latency from the source within max_latency_ms; capacity for the task's
 *    needs; and the priority reserve: a region near saturation keeps its last free share for
 *    higher-priority work (lower priorities are shed first, see reserveFor).
 * 2. Score 0-100 = sum of weight x factor / 100 with the topology's weights (default capacity 40,
 *    latency 30, compliance 20, cost 10; latency-sensitive latency 70, capacity 30).
 * 3. Highest score wins; ties go to the better tier, then the lower region id.
 */
import {
  assessCompliance,
  heldFrameworks,
  normalizeFrameworkName,
  originOfTask,
} from './compliance/rules.ts';
import type { DeploymentFacts } from './compliance/types.ts';
import { COUNTRIES, greatCircleKm } from './geo/countries.ts';
import { roleTakesTasks, weightedPick } from './resources/patterns.ts';
import type { Candidate, Exclusion, FactorScores, RegionStatus } from './state/records.ts';
import { isServing } from './state/records.ts';
import { expandResidency } from './topology/residency.ts';
import type { Region, ResourceAmounts, ResourceUsage, RoutingWeights, Topology } from './topology/types.ts';
import { TIER_PRIORITY } from './topology/types.ts';

type TaskSource = { readonly region: string } | { readonly country: string };

export interface TaskRequirements {
  readonly compliance?: readonly string[];
  readonly data_residency?: string;
  /** Unclassified tasks are `internal`: only a `prohibited` transfer rule restricts them. */
  readonly data_classification?: 'public' | 'internal' | 'sensitive' | 'pii';
  /** The approval of a cross-border transfer the policy allows only with one; recorded when used. */
  readonly approval_ref?: string;
  readonly latency_sensitive?: boolean;
  readonly max_latency_ms?: number;
  readonly capabilities?: readonly string[];
  /** Resources the task will hold on its region; defaults: 1 worker, 0 tokens, 0 compute units. */
  readonly workers?: number;
  readonly estimated_tokens?: number;
  readonly compute_units?: number;
}

type TaskPriority = 'low' | 'normal' | 'high' | 'critical';

export interface RouteInput {
  readonly task_id: string;
  readonly source: TaskSource;
  readonly requirements: TaskRequirements;
  /** Default `normal`. */
  readonly priority?: TaskPriority;
}

/**
 * The share of a region's scarcest resource a task of `priority` must leave free, given the
 * saturation threshold (the policy's available_capacity_threshold, 0.2 in the spec): low 1.5x,
 * normal 1x, high 0.5x, critical nothing. So as a region fills up it sheds low, then normal, then
 * high priority work, and the last of it stays for critical tasks (and for a failed region's
 * critical work). A region below the threshold is `saturated`: load, not failure.
 */
export function reserveFor(priority: TaskPriority | undefined, threshold: number): number {
  switch (priority ?? 'normal') {
    case 'low':
      return Math.min(1, threshold * 1.5);
    case 'normal':
      return threshold;
    case 'high':
      return threshold / 2;
    default:
      return 0;
  }
}

const RESOURCE_NAMES = {
  workers: 'workers',
  tokens_per_hour: 'tokens_per_hour',
  compute_units: 'compute_units',
} as const;

/** Why `need` would eat into the reserve `priority` must leave on `live`, naming the resource; or none. */
function reserveReasons(
  need: ResourceAmounts,
  live: RegionLiveState,
  priority: TaskPriority | undefined,
  threshold: number,
): string[] {
  const reserve = reserveFor(priority, threshold);
  if (reserve <= 0) return [];
  const after = (allocated: number, used: number, wanted: number) =>
    allocated <= 0 ? 1 : (allocated - used - wanted) / allocated;
  const shares: [keyof typeof RESOURCE_NAMES, number][] = [
    ['workers', after(live.allocation.workers, live.usage.workers, need.workers)],
    ['tokens_per_hour', after(live.allocation.tokens_per_hour, live.usage.tokens_used, need.tokens_per_hour)],
    ['compute_units', after(live.allocation.compute_units, live.usage.compute_units, need.compute_units)],
  ];
  // Only resources the task uses can be the reason to refuse it.
  const used = shares.filter(([name]) => need[name] > 0);
  const [name, share] = used.reduce<[keyof typeof RESOURCE_NAMES, number] | undefined>(
    (low, entry) => (low === undefined || entry[1] < low[1] ? entry : low),
    undefined,
  ) ?? ['workers', 1];
  if (share >= reserve) return [];
  return [
    `saturated: ${RESOURCE_NAMES[name]} would be ${pct(share)} free after this task, below the ${pct(reserve)} kept for higher-priority work (priority ${priority ?? 'normal'})`,
  ];
}

function pct(fraction: number): string {
  return `${Math.round(Math.max(0, fraction) * 1000) / 10}%`;
}

/** What the router knows of each region right now. */
export interface RegionLiveState {
  readonly status: RegionStatus;
  readonly allocation: ResourceAmounts;
  readonly usage: ResourceUsage;
  /** The region's role from its status record (active, passive-warm, primary ...); default active. */
  readonly role?: string;
}

export interface RouteDecision {
  /** The chosen region, or undefined when every region is excluded. */
  readonly region: string | undefined;
  readonly score: number | undefined;
  /** Eligible regions, best first. */
  readonly candidates: readonly Candidate[];
  /** Every region that was filtered out, with all of its reasons. */
  readonly excluded: readonly Exclusion[];
  readonly weights: RoutingWeights;
  /**
   * Candidates reachable only through the task's `approval_ref`, with the jurisdictions whose
   * transfer rule it met (a use of the approval to record when the region is chosen).
   */
  readonly approvals: readonly { readonly region: string; readonly jurisdictions: readonly string[] }[];
}

export interface RouteOptions {
  /** What the deployment configures; without it `pii` and `sensitive` data go nowhere. */
  readonly deployment?: DeploymentFacts;
  /**
   * Measured round-trip ms, latency[from][to], preferred over `topology.latency.matrix` (
   * the fresh figures of the latency sampler; a pair absent here uses the static figure).
   */
  readonly latency?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /**
   * Declared latency of the mesh path between two regions, tunnel[from][to], used for a pair without
   * a measured figure before `topology.latency.matrix` (lib/core/latency/stats.ts `effectiveMatrix`).
   */
  readonly tunnelLatency?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /**
   * Active-active traffic weights by region (lib/core/resources/patterns.ts `trafficWeights`): a task
   * with no latency or residency constraint goes to a candidate picked by weight, stable per task id.
   */
  readonly weights?: ReadonlyMap<string, number>;
}

/** Fixed overhead of a request beyond propagation (TLS, queuing, processing), in ms. */
const GREAT_CIRCLE_BASE_MS = 5;
/** Light in fibre covers ~200 km/ms; real paths run ~1.5x the great circle; round trip doubles it. */
const GREAT_CIRCLE_MS_PER_KM = (2 * 1.5) / 200;

/** Estimated round-trip ms from a point to a region: 5 + 0.015 x great-circle km. */
export function estimateRttMs(from: { lat: number; lon: number }, region: Region): number {
  const km = greatCircleKm(from, region.geographic_location.coordinates);
  return round1(GREAT_CIRCLE_BASE_MS + GREAT_CIRCLE_MS_PER_KM * km);
}

/** Latency factor: 100 at 0 ms, minus one point per 10 ms (the spec's `100 - latency / 10`), floor 0. */
export function latencyScore(latencyMs: number): number {
  return round1(clamp(100 - latencyMs / 10, 0, 100));
}

/** Available fraction of the scarcest resource (0..1): a region is as free as its bottleneck. */
export function availableCapacity(allocation: ResourceAmounts, usage: ResourceUsage): number {
  const free = [
    fraction(allocation.workers - usage.workers, allocation.workers),
    fraction(allocation.tokens_per_hour - usage.tokens_used, allocation.tokens_per_hour),
    fraction(allocation.compute_units - usage.compute_units, allocation.compute_units),
  ];
  return Math.min(...free);
}

function fraction(free: number, total: number): number {
  return total <= 0 ? 0 : clamp(free / total, 0, 1);
}

function weightsFor(topology: Topology, requirements: TaskRequirements): RoutingWeights {
  return requirements.latency_sensitive
    ? topology.routing.weights.latency_sensitive
    : topology.routing.weights.default;
}

interface Measured {
  readonly latencyMs: number;
  readonly source: Candidate['latency_source'];
}

function latencyFrom(
  topology: Topology,
  source: TaskSource,
  region: Region,
  measured?: RouteOptions['latency'],
  tunnel?: RouteOptions['tunnelLatency'],
): Measured {
  if ('region' in source) {
    const fresh = measured?.[source.region]?.[region.region_id];
    if (fresh !== undefined) return { latencyMs: fresh, source: 'measured' };
    const declared = tunnel?.[source.region]?.[region.region_id];
    if (declared !== undefined) return { latencyMs: declared, source: 'tunnel' };
    const ms = topology.latency.matrix[source.region]?.[region.region_id];
    if (ms === undefined) throw new Error(`latency matrix has no ${source.region} -> ${region.region_id}`);
    return { latencyMs: ms, source: 'matrix' };
  }
  const country = COUNTRIES.get(source.country);
  if (!country) throw new Error(`unknown source country ${source.country}`);
  return { latencyMs: estimateRttMs(country, region), source: 'great_circle' };
}

function needs(requirements: TaskRequirements): ResourceAmounts {
  return {
    workers: requirements.workers ?? 1,
    tokens_per_hour: requirements.estimated_tokens ?? 0,
    compute_units: requirements.compute_units ?? 0,
  };
}

function capacityReasons(need: ResourceAmounts, live: RegionLiveState): string[] {
  const reasons: string[] = [];
  const check = (what: string, wanted: number, allocated: number, used: number) => {
    const free = allocated - used;
    if (wanted > free || (what === 'workers' && free < 1)) {
      reasons.push(`insufficient ${what}: needs ${wanted}, ${Math.max(free, 0)} free of ${allocated}`);
    }
  };
  check('workers', need.workers, live.allocation.workers, live.usage.workers);
  check('tokens_per_hour', need.tokens_per_hour, live.allocation.tokens_per_hour, live.usage.tokens_used);
  check('compute_units', need.compute_units, live.allocation.compute_units, live.usage.compute_units);
  return reasons;
}

/** Decides where a task runs; `live` must hold every topology region (missing means unknown: excluded). */
export function decideRoute(
  topology: Topology,
  task: RouteInput,
  live: ReadonlyMap<string, RegionLiveState>,
  options: RouteOptions = {},
): RouteDecision {
  const req = task.requirements;
  const weights = weightsFor(topology, req);
  const maxLatency = req.max_latency_ms ?? topology.routing.default_max_latency_ms;
  const residency =
    req.data_residency === undefined ? undefined : expandResidency(topology, req.data_residency);
  if (req.data_residency !== undefined && residency === undefined) {
    throw new Error(`unknown data residency ${req.data_residency}`);
  }
  const required = (req.compliance ?? []).map(normalizeFramework);
  const need = needs(req);
  const saturation = topology.failover_policies.automatic_failover.conditions.available_capacity_threshold;
  const index = indexOf(topology);
  const origin = originOfTask(topology, task.source, req.data_residency);
  if (origin === undefined) throw new Error(`unknown origin of task ${task.task_id}`);
  const compliance = assessCompliance(
    topology,
    {
      data_classification: req.data_classification ?? 'internal',
      origin,
      frameworks: required,
      ...(req.approval_ref === undefined ? {} : { approval_ref: req.approval_ref }),
    },
    options.deployment,
  );
  const approvals: { region: string; jurisdictions: readonly string[] }[] = [];

  const candidates: Candidate[] = [];
  const excluded: Exclusion[] = [];
  for (const region of topology.regions) {
    const reasons: string[] = [];
    const state = live.get(region.region_id);
    if (!state) {
      excluded.push({ region: region.region_id, reasons: ['status unknown'] });
      continue;
    }
    if (state.status === 'shutdown') reasons.push('region is shut down by an operator, not serving');
    else if (!isServing(state.status)) reasons.push(`region is ${state.status}, not serving`);
    if (!roleTakesTasks(topology, state.role)) {
      reasons.push(`role ${state.role}: only the active region takes tasks (active-passive)`);
    }
    const facts = index.regions.get(region.region_id) as RegionFacts;
    for (const framework of required) {
      if (!facts.compliance.has(framework)) reasons.push(`lacks compliance framework ${framework}`);
    }
    if (residency) {
      const outside = residency.filter((country) => !facts.residency.has(country));
      if (outside.length > 0) {
        reasons.push(
          `data residency ${req.data_residency} not allowed here (${summarize(outside)} outside ${region.data_residency.join(', ')})`,
        );
      }
    }
    const verdict = compliance.get(region.region_id);
    for (const reason of verdict?.reasons ?? []) {
      // Frameworks were checked above, in the router's own words.
      if (reason.type !== 'framework') reasons.push(reason.reason);
    }
    for (const capability of req.capabilities ?? []) {
      if (!facts.capabilities.has(capability)) reasons.push(`lacks capability ${capability}`);
    }
    const latency = latencyFrom(topology, task.source, region, options.latency, options.tunnelLatency);
    if (latency.latencyMs > maxLatency) {
      reasons.push(
        `latency ${latency.latencyMs} ms from ${describeSource(task.source)} exceeds ${maxLatency} ms`,
      );
    }
    const short = capacityReasons(need, state);
    reasons.push(...short);
    if (short.length === 0) reasons.push(...reserveReasons(need, state, task.priority, saturation));
    if (reasons.length > 0) {
      excluded.push({ region: region.region_id, reasons });
      continue;
    }
    const factors: FactorScores = {
      capacity: round1(100 * availableCapacity(state.allocation, state.usage)),
      latency: latencyScore(latency.latencyMs),
      // Frameworks, residency and the compliance rules are hard filters: a candidate meets them
      // fully, at home (100) or through a cross-border transfer its policy allows (50).
      compliance: verdict?.factor ?? 100,
      cost: round1((100 * index.cheapest) / region.cost_index),
    };
    if (verdict && verdict.approval_for.length > 0) {
      approvals.push({ region: region.region_id, jurisdictions: verdict.approval_for });
    }
    candidates.push({
      region: region.region_id,
      score: weighted(weights, factors),
      factors,
      latency_ms: latency.latencyMs,
      latency_source: latency.source,
    });
  }

  const tierOf = (id: string) => index.regions.get(id)?.tierPriority ?? 99;
  candidates.sort(
    (a, b) =>
      b.score - a.score ||
      tierOf(a.region) - tierOf(b.region) ||
      (a.region < b.region ? -1 : a.region > b.region ? 1 : 0),
  );
  const best = spreadByWeight(task, candidates, options.weights) ?? candidates[0];
  return {
    region: best?.region,
    score: best?.score,
    candidates,
    excluded,
    weights,
    approvals,
  };
}

interface RegionFacts {
  readonly compliance: ReadonlySet<string>;
  readonly capabilities: ReadonlySet<string>;
  readonly residency: ReadonlySet<string>;
  readonly tierPriority: number;
}

interface TopologyIndex {
  readonly regions: ReadonlyMap<string, RegionFacts>;
  readonly cheapest: number;
}

// Topologies are frozen, so their lookup sets are built once per topology, not per decision.
const indexes = new WeakMap<Topology, TopologyIndex>();

function indexOf(topology: Topology): TopologyIndex {
  let index = indexes.get(topology);
  if (!index) {
    index = {
      regions: new Map(
        topology.regions.map((r) => [
          r.region_id,
          {
            compliance: heldFrameworks(topology, r.region_id),
            capabilities: new Set<string>(r.capabilities),
            residency: new Set(r.residency_countries),
            tierPriority: TIER_PRIORITY[r.tier],
          },
        ]),
      ),
      cheapest: Math.min(...topology.regions.map((r) => r.cost_index)),
    };
    indexes.set(topology, index);
  }
  return index;
}

function weighted(weights: RoutingWeights, factors: FactorScores): number {
  const sum =
    weights.capacity * factors.capacity +
    weights.latency * factors.latency +
    weights.compliance * factors.compliance +
    weights.cost * factors.cost;
  return round1(sum / 100);
}

/** The spec writes `pci_dss` and `iso_27001` in policies and `pci-dss`, `iso27001` in metadata. */
export function normalizeFramework(name: string): string {
  return normalizeFrameworkName(name);
}

function describeSource(source: TaskSource): string {
  return 'region' in source ? source.region : `country ${source.country}`;
}

function summarize(codes: readonly string[]): string {
  return codes.length <= 5
    ? codes.join(', ')
    : `${codes.slice(0, 5).join(', ')} and ${codes.length - 5} more`;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/**
 * Active-active: a task that states no latency or residency constraint is spread over the candidates
 * by traffic weight (deterministic per task id, so a retry lands on the same region).
 */
function spreadByWeight(
  task: RouteInput,
  candidates: readonly Candidate[],
  weights: ReadonlyMap<string, number> | undefined,
): Candidate | undefined {
  const req = task.requirements;
  if (!weights || candidates.length < 2) return undefined;
  if (req.latency_sensitive || req.max_latency_ms !== undefined || req.data_residency !== undefined) {
    return undefined;
  }
  const picked = weightedPick(
    task.task_id,
    candidates.map((c) => c.region),
    weights,
  );
  return candidates.find((c) => c.region === picked);
}
