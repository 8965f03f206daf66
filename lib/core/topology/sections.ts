/**
 * Topology sections whose detailed use comes with later issues: replication, regional compliance,
 * regional MCP servers, cross-region networking and monitoring targets. Field names and nesting
 * mirror the spec's JSON (snake_case) so the topology file reads like the spec; `validateTopology`
 * checks them and fills in normalized values (country codes upper case, framework names in the
 * region-metadata spelling).
 */

import type { ComplianceFramework } from './frameworks.ts';

// ---------------------------------------------------------------------------------------------
// Data replication strategies (spec: "Replication Configurations")

export type ConflictResolution = 'primary_wins' | 'last_write_wins' | 'vector_clock';

interface SynchronousReplication {
  readonly description: string;
  readonly target_latency_ms: number;
  readonly consistency: 'strong';
  /** Data categories replicated this way; a category belongs to one strategy only. */
  readonly data_types: readonly string[];
  readonly replication_flow: {
    readonly write_to_primary: boolean;
    readonly wait_for_replicas: 'majority' | 'all';
    readonly min_replicas_ack: number;
    readonly timeout_ms: number;
    readonly on_timeout: 'fail_write' | 'accept_local';
  };
  readonly conflict_resolution: ConflictResolution;
}

export interface RetryPolicy {
  readonly max_retries: number;
  readonly backoff: 'exponential' | 'linear' | 'fixed';
  readonly max_backoff_seconds: number;
}

interface AsynchronousReplication {
  readonly description: string;
  readonly target_latency_ms: number;
  readonly consistency: 'eventual';
  readonly data_types: readonly string[];
  readonly replication_flow: {
    readonly write_to_primary: boolean;
    readonly wait_for_replicas: 'none';
    readonly batch_size: number;
    readonly batch_interval_seconds: number;
    readonly retry_policy: RetryPolicy;
  };
  readonly conflict_resolution: ConflictResolution;
}

/**
 * Where a selective policy copies data: `all` regions, the regions of the `same_jurisdiction`,
 * or a region id.
 */
type ReplicationTarget = string;

export interface SelectiveReplicationPolicy {
  readonly policy_id: string;
  /** Key pattern with `*` wildcards, e.g. `coordination/*\/knowledge-base/*`. */
  readonly data_pattern: string;
  readonly replication_trigger: 'on_create' | 'on_update' | 'on_demand';
  readonly target_regions: readonly ReplicationTarget[];
  readonly compression?: boolean;
  readonly encryption?: boolean;
  readonly retention_days?: number;
  readonly immutable?: boolean;
}

interface SelectiveReplication {
  readonly description: string;
  readonly consistency: 'custom';
  readonly policies: readonly SelectiveReplicationPolicy[];
}

export interface ReplicationStrategies {
  readonly synchronous: SynchronousReplication;
  readonly asynchronous: AsynchronousReplication;
  readonly selective: SelectiveReplication;
}

// ---------------------------------------------------------------------------------------------
// Regional compliance (spec: "Compliance Policies")

/** A framework's settings; which optional fields appear depends on the framework. */
export interface ComplianceFrameworkPolicy {
  readonly enabled: boolean;
  /** SOC 2 report type, e.g. `type_2`. */
  readonly type?: string;
  /** PCI DSS merchant level, e.g. `level_1`. */
  readonly level?: string;
  readonly audit_frequency?: string;
  readonly certification_status?: string;
  /** ISO date (YYYY-MM-DD). */
  readonly next_audit?: string;
  readonly requirements?: Readonly<Record<string, boolean | number | string>>;
  readonly legal_basis?: readonly string[];
}

interface CrossBorderTransferTerms {
  readonly mechanism: string;
  /** Countries with an adequacy decision, as ISO codes after validation (`Switzerland` -> `CH`). */
  readonly adequacy_decisions: readonly string[];
  readonly bcr_approved: boolean;
}

type CrossBorderTransferRule = 'allowed' | 'restricted' | 'approval_required' | 'prohibited';

interface ComplianceDataResidency {
  /** ISO codes or country groups (upper case after validation). */
  readonly allowed_countries: readonly string[];
  readonly cross_border_transfer: CrossBorderTransferRule | CrossBorderTransferTerms;
  readonly encryption_required?: boolean;
  readonly data_localization?: boolean;
  readonly critical_data_localization?: boolean;
}

interface IndividualRight {
  readonly max_response_days: number;
  readonly format?: string;
  readonly cost?: string;
  readonly exceptions?: readonly string[];
}

export interface RegionalCompliance {
  readonly jurisdiction: string;
  /** Keyed by framework in the region-metadata spelling (`pci_dss` in the file becomes `pci-dss`). */
  readonly frameworks: Readonly<Partial<Record<ComplianceFramework, ComplianceFrameworkPolicy>>>;
  readonly data_residency: ComplianceDataResidency;
  /** Data-subject rights (GDPR): access, erasure, portability ... */
  readonly individual_rights?: Readonly<Record<string, IndividualRight>>;
}

// ---------------------------------------------------------------------------------------------
// Regional MCP server deployment (spec: "Regional MCP Configuration")

interface McpServerReplication {
  readonly enabled?: boolean;
  /** Region ids. */
  readonly targets?: readonly string[];
  readonly strategy?: 'synchronous' | 'asynchronous' | 'selective';
  readonly type?: 'streaming' | 'snapshot';
  readonly lag_tolerance_seconds?: number;
}

/** One MCP server in a region; the optional fields depend on the server kind. */
export interface McpServerConfig {
  readonly enabled: boolean;
  readonly scope: 'regional' | 'global';
  readonly root_paths?: readonly string[];
  readonly replication?: McpServerReplication;
  readonly repositories?: readonly string[];
  readonly failover?: 'any-region' | 'cross-region' | 'none';
  /** Named endpoints, e.g. `primary` and `replica`. */
  readonly endpoints?: Readonly<Record<string, string>>;
  /** Named clusters, e.g. `production` and `staging`. */
  readonly clusters?: Readonly<Record<string, string>>;
  readonly endpoint?: string;
  readonly compliance_mode?: ComplianceFramework;
  /** A country code or group (upper case after validation). */
  readonly data_residency?: string;
}

export interface RegionalMcpDeployment {
  /** Server name (filesystem, github, postgres, kubernetes, n8n ...) -> its configuration. */
  readonly mcp_servers: Readonly<Record<string, McpServerConfig>>;
  readonly discovery?: {
    readonly registry_url: string;
    readonly health_check_interval_seconds: number;
  };
}

// ---------------------------------------------------------------------------------------------
// Cross-region networking (spec: "VPN Configuration")

interface VpnTunnelEnd {
  readonly region: string;
  readonly endpoint: string;
  readonly public_key?: string;
  /** IPv4 CIDR blocks reachable through this end (the region's VPC). */
  readonly allowed_ips: readonly string[];
}

interface VpnTunnel {
  readonly tunnel_id: string;
  readonly source: VpnTunnelEnd;
  readonly destination: VpnTunnelEnd;
  readonly status: 'active' | 'standby' | 'down';
  readonly bandwidth_mbps: number;
  readonly latency_ms: number;
}

export interface QosTrafficClass {
  readonly name: string;
  /** 1 = highest. */
  readonly priority: number;
  readonly patterns: readonly string[];
  readonly guaranteed_bandwidth_percent: number;
}

export interface CrossRegionNetworking {
  readonly vpn_mesh: {
    readonly provider: 'wireguard' | 'ipsec';
    readonly encryption: string;
    readonly key_rotation_days: number;
    /** One tunnel for every pair of regions (either direction). */
    readonly tunnels: readonly VpnTunnel[];
  };
  readonly routing: {
    readonly protocol: 'bgp' | 'static';
    readonly autonomous_system: number;
    readonly route_priorities: {
      readonly direct_tunnel: number;
      readonly indirect_tunnel: number;
      readonly internet_failover: number;
    };
  };
  readonly qos: {
    readonly enabled: boolean;
    readonly traffic_classes: readonly QosTrafficClass[];
  };
}

// ---------------------------------------------------------------------------------------------
// Monitoring targets (spec: "Key Metrics", the `multi_region_metrics` object)

export interface MonitoringTargets {
  readonly health: {
    readonly region_availability: {
      readonly metric: 'percentage';
      /** Percent, e.g. 99.99. */
      readonly sla: number;
      readonly measurement_interval_seconds: number;
    };
    readonly service_health: {
      readonly metric: 'boolean';
      readonly critical_services: readonly string[];
    };
  };
  readonly performance: {
    readonly cross_region_latency: {
      readonly metric: 'milliseconds';
      readonly p50_target: number;
      readonly p95_target: number;
      readonly p99_target: number;
    };
    readonly replication_lag: {
      readonly metric: 'seconds';
      readonly synchronous_target: number;
      readonly asynchronous_target: number;
    };
    readonly failover_time: {
      readonly metric: 'seconds';
      /** Recovery time objective for a regional failover, in seconds. */
      readonly rto_target: number;
    };
  };
  readonly capacity: {
    readonly regional_utilization: {
      readonly metric: 'percentage';
      readonly warning_threshold: number;
      readonly critical_threshold: number;
    };
    readonly cross_region_bandwidth: {
      readonly metric: 'mbps';
      readonly monitoring_interval_seconds: number;
    };
  };
  readonly compliance: {
    readonly data_residency_violations: { readonly metric: 'count'; readonly target: number };
    readonly audit_success_rate: { readonly metric: 'percentage'; readonly target: number };
  };
}
