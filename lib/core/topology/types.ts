import type { ComplianceFramework } from './frameworks.ts';
import type {
  CrossRegionNetworking,
  MonitoringTargets,
  RegionalCompliance,
  RegionalMcpDeployment,
  ReplicationStrategies,
} from './sections.ts';

// The section shapes live in sections.ts (mirroring the spec's JSON); re-exported for one import site.
export type {
  CrossRegionNetworking,
  MonitoringTargets,
  RegionalCompliance,
  RegionalMcpDeployment,
  ReplicationStrategies,
};

/**
 * The topology: every fact about the regions this control plane runs in, as one validated,
 * frozen document. Field names follow the spec (snake_case) so the JSON file reads like it.
 * `validateTopology` turns raw JSON into this shape or fails naming each bad field.
 */

/**
 * An AWS region id as a request or the environment names one (`us-east-1`, `ap-southeast-2`): what a
 * field or path segment naming a region must match before it is looked up in the topology.
 */
export const REGION_ID_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d$/;

export type Tier = 'primary' | 'secondary' | 'tertiary' | 'edge';

export const TIERS: readonly Tier[] = ['primary', 'secondary', 'tertiary', 'edge'];

/** Lower number = preferred; used for tie-breaks and as the default failover order. */
export const TIER_PRIORITY: Readonly<Record<Tier, number>> = {
  primary: 0,
  secondary: 1,
  tertiary: 2,
  edge: 3,
};

type Capability = 'masters' | 'workers' | 'mcp-servers' | 'data-storage';

export const CAPABILITIES: readonly Capability[] = ['masters', 'workers', 'mcp-servers', 'data-storage'];

export { COMPLIANCE_FRAMEWORKS, type ComplianceFramework } from './frameworks.ts';

interface Coordinates {
  readonly lat: number;
  readonly lon: number;
}

export interface Region {
  readonly region_id: string;
  readonly display_name: string;
  readonly provider: 'aws';
  readonly geographic_location: {
    readonly continent: string;
    /** ISO 3166-1 alpha-2, upper case after normalization. */
    readonly country: string;
    readonly coordinates: Coordinates;
  };
  readonly tier: Tier;
  readonly capabilities: readonly Capability[];
  readonly compliance: readonly ComplianceFramework[];
  /** Residency list as written (normalized to upper case; groups kept by name). */
  readonly data_residency: readonly string[];
  /** The residency list with groups expanded: every ISO country whose data may live here. */
  readonly residency_countries: readonly string[];
  /** Relative price of running a task here (1.0 = baseline); feeds the cost factor. */
  readonly cost_index: number;
}

export interface Witness {
  /** A probe-only observer: votes in quorums, never serves tasks or holds data. */
  readonly witness_id: string;
  /** The AWS region its probe runs in on AWS (locally the gateway plays it). */
  readonly region: string;
}

export interface ResourceAmounts {
  readonly workers: number;
  readonly tokens_per_hour: number;
  readonly compute_units: number;
}

export interface ResourceUsage {
  readonly workers: number;
  readonly tokens_used: number;
  readonly compute_units: number;
}

interface RegionalAllocation extends ResourceAmounts {
  readonly current_usage: ResourceUsage;
}

export interface GlobalResourcePool {
  readonly total_capacity: ResourceAmounts;
  readonly regional_allocation: Readonly<Record<string, RegionalAllocation>>;
  readonly dynamic_rebalancing: {
    readonly enabled: boolean;
    readonly interval_seconds: number;
    readonly thresholds: { readonly overload: number; readonly underutilized: number };
  };
}

export interface FailoverStep {
  readonly step: 'detection' | 'preparation' | 'execution' | 'validation';
  readonly timeout_seconds: number;
  readonly actions: readonly string[];
}

export interface FailoverPolicies {
  readonly health_check: {
    readonly interval_seconds: number;
    readonly timeout_seconds: number;
    readonly failure_threshold: number;
    readonly success_threshold: number;
    readonly endpoints: readonly string[];
  };
  readonly automatic_failover: {
    readonly enabled: boolean;
    readonly decision_timeout_seconds: number;
    readonly require_manual_approval: boolean;
    readonly cooldown_seconds: number;
    readonly conditions: {
      readonly health_check_failures: number;
      readonly error_rate_threshold: number;
      readonly latency_p99_threshold_ms: number;
      readonly available_capacity_threshold: number;
    };
  };
  readonly failover_sequence: readonly FailoverStep[];
  readonly rollback_criteria: {
    readonly target_region_failure: boolean;
    readonly data_sync_failure: boolean;
    readonly validation_failure: boolean;
    readonly operator_intervention: boolean;
  };
}

type RegionRole = 'active' | 'passive-warm' | 'passive-cold';

interface DeploymentRegion {
  readonly role: RegionRole;
  readonly traffic_weight: number;
  readonly capabilities: readonly string[];
  /** 0 = first choice; the failover order (also used without active-passive). */
  readonly failover_priority: number;
  readonly standby_mode?: 'warm' | 'cold';
}

export interface DeploymentPattern {
  readonly pattern: 'active-active' | 'active-passive';
  readonly regions: Readonly<Record<string, DeploymentRegion>>;
  readonly data_consistency?: {
    readonly model: string;
    readonly sync_interval_seconds: number;
    readonly conflict_resolution: string;
  };
  readonly traffic_distribution?: {
    readonly algorithm: string;
    readonly failover: string;
    readonly health_check_interval_seconds: number;
  };
  readonly replication?: {
    readonly type: string;
    readonly source: string;
    readonly targets: readonly string[];
    readonly lag_tolerance_seconds: number;
  };
  readonly failover?: {
    readonly automatic: boolean;
    readonly promotion_time_seconds: { readonly warm: number; readonly cold: number };
  };
}

export interface LatencySla {
  readonly p50_target_ms: number;
  readonly p95_target_ms: number;
  readonly p99_target_ms: number;
}

export interface LatencyConfig {
  /** Static round-trip figures in ms: matrix[from][to], every ordered pair present. */
  readonly matrix: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Default SLA for every pair. */
  readonly sla: LatencySla;
  /** Per-pair overrides, keyed "from->to". */
  readonly pair_slas?: Readonly<Record<string, LatencySla>>;
  /** The latency sampler's schedule; default every 60 s, 3 samples per pair and run. */
  readonly sampling?: { readonly interval_seconds: number; readonly samples_per_run: number };
}

export interface RoutingWeights {
  readonly capacity: number;
  readonly latency: number;
  readonly compliance: number;
  readonly cost: number;
}

export interface RoutingConfig {
  readonly weights: {
    readonly default: RoutingWeights;
    readonly latency_sensitive: RoutingWeights;
  };
  /** Applied when a task names no max_latency_ms (the spec's `// 1000`). */
  readonly default_max_latency_ms: number;
}

/**
 * Sections whose detailed use comes with later issues (replication, compliance, MCP, networking).
 * Their structure is validated by the topology validator; their types live there.
 */
export interface Topology {
  readonly name: string;
  readonly version: number;
  /** Groups such as EU, EEA, APAC: group name -> members (ISO codes or other groups). */
  readonly country_groups: Readonly<Record<string, readonly string[]>>;
  /** Group name -> expanded ISO codes (derived at validation). */
  readonly expanded_groups: Readonly<Record<string, readonly string[]>>;
  readonly regions: readonly Region[];
  readonly witnesses: readonly Witness[];
  readonly global_resource_pool: GlobalResourcePool;
  readonly failover_policies: FailoverPolicies;
  readonly replication_strategies: ReplicationStrategies;
  readonly deployment: DeploymentPattern;
  readonly latency: LatencyConfig;
  readonly routing: RoutingConfig;
  readonly regional_compliance: Readonly<Record<string, RegionalCompliance>>;
  readonly regional_mcp_deployment: Readonly<Record<string, RegionalMcpDeployment>>;
  readonly cross_region_networking: CrossRegionNetworking;
  readonly monitoring: MonitoringTargets;
}
