/**
 * The structural schema of a topology file: shapes, types, ranges and formats, with unknown keys
 * rejected everywhere. Rules that relate one field to another (every region in the latency matrix,
 * weights adding up to 100, country codes resolving ...) are checked afterwards by
 * `validateTopology`, which also normalizes and derives values.
 *
 * Built with `zod/mini` (about 12 KiB) because this module ends up in Lambda bundles; the zod main
 * entry is 440 KiB. `topology/topology.schema.json` is generated from this schema.
 */

import * as z from 'zod/mini';
import { CAPABILITIES, COMPLIANCE_FRAMEWORKS, type ComplianceFramework, TIERS } from './types.ts';

/** Spellings the spec uses besides the region-metadata one (its compliance policies write `pci_dss`). */
export const COMPLIANCE_FRAMEWORK_ALIASES: Readonly<Record<string, ComplianceFramework>> = {
  pci_dss: 'pci-dss',
  iso_27001: 'iso27001',
};

const CONTINENTS = [
  'africa',
  'antarctica',
  'asia',
  'europe',
  'north-america',
  'oceania',
  'south-america',
] as const;

export const FAILOVER_STEPS = ['detection', 'preparation', 'execution', 'validation'] as const;

const FRAMEWORK_SPELLINGS = [...COMPLIANCE_FRAMEWORKS, ...Object.keys(COMPLIANCE_FRAMEWORK_ALIASES)];

/** An enum whose error names the concept and lists the accepted values (aliases not advertised). */
function oneOf<const T extends readonly string[]>(
  what: string,
  values: T,
  advertised: readonly string[] = values,
) {
  return z.enum(values, {
    error: (issue) =>
      `unknown ${what} ${JSON.stringify(issue.input)}; expected one of ${advertised.join(', ')}`,
  });
}

const text = () => z.string().check(z.minLength(1, 'must not be empty'));
const texts = () => z.array(text());
const positive = () => z.number().check(z.positive());
const nonNegative = () => z.number().check(z.gte(0));
const positiveInt = () => z.int().check(z.positive());
const nonNegativeInt = () => z.int().check(z.gte(0));
const fraction = () => z.number().check(z.gte(0), z.lte(1));
const percent = () => z.number().check(z.gte(0), z.lte(100));

const regionId = () =>
  z
    .string()
    .check(
      z.regex(
        /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/,
        'must be a lower-case id of letters, digits and dashes, like us-east-1',
      ),
    );
/** A country code, a country group or (where stated) a country name; resolved by the validator. */
const place = () => text();
const groupName = () =>
  z.string().check(z.regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'must be a name of letters, digits, _ and -'));
const isoDate = () => z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date written YYYY-MM-DD'));
const cidr = () => z.cidrv4({ error: 'must be an IPv4 CIDR block like 10.1.0.0/16' });
const keyPath = () => z.string().check(z.regex(/^\//, 'must be a path starting with /'));

// --- regions -----------------------------------------------------------------------------------

const regionSchema = z.strictObject({
  region_id: regionId(),
  display_name: text(),
  provider: z.literal('aws'),
  geographic_location: z.strictObject({
    continent: oneOf('continent', CONTINENTS),
    country: place(),
    coordinates: z.strictObject({
      lat: z.number().check(z.gte(-90), z.lte(90)),
      lon: z.number().check(z.gte(-180), z.lte(180)),
    }),
  }),
  tier: oneOf('tier', TIERS),
  capabilities: z.array(oneOf('capability', CAPABILITIES)),
  compliance: z.array(oneOf('compliance framework', FRAMEWORK_SPELLINGS, COMPLIANCE_FRAMEWORKS)),
  data_residency: z.array(place()).check(z.minLength(1)),
  cost_index: positive(),
});

const witnessSchema = z.strictObject({
  witness_id: regionId(),
  region: regionId(),
});

// --- resources ---------------------------------------------------------------------------------

const amounts = {
  workers: nonNegativeInt(),
  tokens_per_hour: nonNegativeInt(),
  compute_units: nonNegative(),
};

const resourcePoolSchema = z.strictObject({
  total_capacity: z.strictObject(amounts),
  regional_allocation: z.record(
    regionId(),
    z.strictObject({
      ...amounts,
      current_usage: z.strictObject({
        workers: nonNegativeInt(),
        tokens_used: nonNegativeInt(),
        compute_units: nonNegative(),
      }),
    }),
  ),
  dynamic_rebalancing: z.strictObject({
    enabled: z.boolean(),
    interval_seconds: positiveInt(),
    thresholds: z.strictObject({ overload: fraction(), underutilized: fraction() }),
  }),
});

// --- failover ----------------------------------------------------------------------------------

const failoverPoliciesSchema = z.strictObject({
  health_check: z.strictObject({
    interval_seconds: positive(),
    timeout_seconds: positive(),
    failure_threshold: positiveInt(),
    success_threshold: positiveInt(),
    endpoints: z.array(keyPath()).check(z.minLength(1)),
  }),
  automatic_failover: z.strictObject({
    enabled: z.boolean(),
    decision_timeout_seconds: positive(),
    require_manual_approval: z.boolean(),
    cooldown_seconds: z.optional(nonNegative()),
    conditions: z.strictObject({
      health_check_failures: positiveInt(),
      error_rate_threshold: fraction(),
      latency_p99_threshold_ms: positive(),
      available_capacity_threshold: fraction(),
    }),
  }),
  failover_sequence: z.array(
    z.strictObject({
      step: oneOf('failover step', FAILOVER_STEPS),
      timeout_seconds: positive(),
      actions: texts().check(z.minLength(1)),
    }),
  ),
  rollback_criteria: z.strictObject({
    target_region_failure: z.boolean(),
    data_sync_failure: z.boolean(),
    validation_failure: z.boolean(),
    operator_intervention: z.boolean(),
  }),
});

// --- replication -------------------------------------------------------------------------------

const conflictResolution = () =>
  oneOf('conflict resolution', ['primary_wins', 'last_write_wins', 'vector_clock'] as const);

const replicationStrategiesSchema = z.strictObject({
  synchronous: z.strictObject({
    description: z.string(),
    target_latency_ms: positive(),
    consistency: z.literal('strong'),
    data_types: texts(),
    replication_flow: z.strictObject({
      write_to_primary: z.boolean(),
      wait_for_replicas: oneOf('acknowledgement mode', ['majority', 'all'] as const),
      min_replicas_ack: positiveInt(),
      timeout_ms: positive(),
      on_timeout: oneOf('timeout action', ['fail_write', 'accept_local'] as const),
    }),
    conflict_resolution: conflictResolution(),
  }),
  asynchronous: z.strictObject({
    description: z.string(),
    target_latency_ms: positive(),
    consistency: z.literal('eventual'),
    data_types: texts(),
    replication_flow: z.strictObject({
      write_to_primary: z.boolean(),
      wait_for_replicas: z.literal('none'),
      batch_size: positiveInt(),
      batch_interval_seconds: positive(),
      retry_policy: z.strictObject({
        max_retries: nonNegativeInt(),
        backoff: oneOf('backoff', ['exponential', 'linear', 'fixed'] as const),
        max_backoff_seconds: positive(),
      }),
    }),
    conflict_resolution: conflictResolution(),
  }),
  selective: z.strictObject({
    description: z.string(),
    consistency: z.literal('custom'),
    policies: z.array(
      z.strictObject({
        policy_id: text(),
        data_pattern: text(),
        replication_trigger: oneOf('replication trigger', ['on_create', 'on_update', 'on_demand'] as const),
        target_regions: texts().check(z.minLength(1)),
        compression: z.optional(z.boolean()),
        encryption: z.optional(z.boolean()),
        retention_days: z.optional(positiveInt()),
        immutable: z.optional(z.boolean()),
      }),
    ),
  }),
});

// --- deployment --------------------------------------------------------------------------------

const deploymentSchema = z.strictObject({
  pattern: oneOf('deployment pattern', ['active-active', 'active-passive'] as const),
  regions: z.record(
    regionId(),
    z.strictObject({
      role: oneOf('role', ['active', 'passive-warm', 'passive-cold'] as const),
      traffic_weight: percent(),
      capabilities: texts(),
      failover_priority: nonNegativeInt(),
      standby_mode: z.optional(oneOf('standby mode', ['warm', 'cold'] as const)),
    }),
  ),
  data_consistency: z.optional(
    z.strictObject({
      model: text(),
      sync_interval_seconds: positive(),
      conflict_resolution: text(),
    }),
  ),
  traffic_distribution: z.optional(
    z.strictObject({
      algorithm: text(),
      failover: text(),
      health_check_interval_seconds: positive(),
    }),
  ),
  replication: z.optional(
    z.strictObject({
      type: text(),
      source: regionId(),
      targets: z.array(regionId()),
      lag_tolerance_seconds: nonNegative(),
    }),
  ),
  failover: z.optional(
    z.strictObject({
      automatic: z.boolean(),
      promotion_time_seconds: z.strictObject({ warm: nonNegative(), cold: nonNegative() }),
    }),
  ),
});

// --- latency and routing -----------------------------------------------------------------------

const slaSchema = z.strictObject({
  p50_target_ms: positive(),
  p95_target_ms: positive(),
  p99_target_ms: positive(),
});

const latencySchema = z.strictObject({
  matrix: z.record(
    regionId(),
    z.record(
      regionId(),
      z
        .number()
        .check(z.gte(0, { error: (issue) => `latency must not be negative, got ${String(issue.input)}` })),
    ),
  ),
  sla: slaSchema,
  pair_slas: z.optional(
    z.record(
      z.string().check(z.regex(/^[a-z0-9-]+->[a-z0-9-]+$/, 'must be a pair of region ids written from->to')),
      slaSchema,
    ),
  ),
  sampling: z.optional(
    z.strictObject({
      interval_seconds: positive(),
      samples_per_run: z.number().check(z.int(), z.minimum(1), z.maximum(20)),
    }),
  ),
});

const routingWeightsSchema = z.strictObject({
  capacity: percent(),
  latency: percent(),
  compliance: percent(),
  cost: percent(),
});

const routingSchema = z.strictObject({
  weights: z.strictObject({ default: routingWeightsSchema, latency_sensitive: routingWeightsSchema }),
  default_max_latency_ms: positive(),
});

// --- compliance --------------------------------------------------------------------------------

const frameworkPolicySchema = z.strictObject({
  enabled: z.boolean(),
  type: z.optional(text()),
  level: z.optional(text()),
  audit_frequency: z.optional(text()),
  certification_status: z.optional(text()),
  next_audit: z.optional(isoDate()),
  requirements: z.optional(z.record(z.string(), z.union([z.boolean(), z.number(), z.string()]))),
  legal_basis: z.optional(texts()),
});

const regionalComplianceSchema = z.strictObject({
  jurisdiction: text(),
  // Keys are checked (and `pci_dss` normalized) by the validator, which names the unknown one.
  frameworks: z.record(z.string(), frameworkPolicySchema),
  data_residency: z.strictObject({
    allowed_countries: z.array(place()).check(z.minLength(1)),
    cross_border_transfer: z.union([
      oneOf('cross-border transfer rule', [
        'allowed',
        'restricted',
        'approval_required',
        'prohibited',
      ] as const),
      z.strictObject({
        mechanism: text(),
        adequacy_decisions: z.array(place()),
        bcr_approved: z.boolean(),
      }),
    ]),
    encryption_required: z.optional(z.boolean()),
    data_localization: z.optional(z.boolean()),
    critical_data_localization: z.optional(z.boolean()),
  }),
  individual_rights: z.optional(
    z.record(
      z.string(),
      z.strictObject({
        max_response_days: positiveInt(),
        format: z.optional(text()),
        cost: z.optional(text()),
        exceptions: z.optional(texts()),
      }),
    ),
  ),
});

// --- MCP servers -------------------------------------------------------------------------------

const mcpServerSchema = z.strictObject({
  enabled: z.boolean(),
  scope: oneOf('scope', ['regional', 'global'] as const),
  root_paths: z.optional(z.array(keyPath())),
  replication: z.optional(
    z.strictObject({
      enabled: z.optional(z.boolean()),
      targets: z.optional(z.array(regionId())),
      strategy: z.optional(
        oneOf('replication strategy', ['synchronous', 'asynchronous', 'selective'] as const),
      ),
      type: z.optional(oneOf('replication type', ['streaming', 'snapshot'] as const)),
      lag_tolerance_seconds: z.optional(nonNegative()),
    }),
  ),
  repositories: z.optional(texts()),
  failover: z.optional(oneOf('failover mode', ['any-region', 'cross-region', 'none'] as const)),
  endpoints: z.optional(z.record(z.string(), text())),
  clusters: z.optional(z.record(z.string(), text())),
  endpoint: z.optional(text()),
  compliance_mode: z.optional(oneOf('compliance framework', FRAMEWORK_SPELLINGS, COMPLIANCE_FRAMEWORKS)),
  data_residency: z.optional(place()),
});

const regionalMcpSchema = z.strictObject({
  mcp_servers: z.record(
    z.string().check(z.regex(/^[a-z][a-z0-9_-]*$/, 'must be a lower-case server name')),
    mcpServerSchema,
  ),
  discovery: z.optional(
    z.strictObject({
      registry_url: z.string().check(z.regex(/^https?:\/\/\S+$/, 'must be an http(s) URL')),
      health_check_interval_seconds: positive(),
    }),
  ),
});

// --- networking --------------------------------------------------------------------------------

const tunnelEndSchema = z.strictObject({
  region: regionId(),
  endpoint: text(),
  public_key: z.optional(text()),
  allowed_ips: z.array(cidr()).check(z.minLength(1)),
});

const networkingSchema = z.strictObject({
  vpn_mesh: z.strictObject({
    provider: oneOf('VPN provider', ['wireguard', 'ipsec'] as const),
    encryption: text(),
    key_rotation_days: positiveInt(),
    tunnels: z.array(
      z.strictObject({
        tunnel_id: text(),
        source: tunnelEndSchema,
        destination: tunnelEndSchema,
        status: oneOf('tunnel status', ['active', 'standby', 'down'] as const),
        bandwidth_mbps: positive(),
        latency_ms: nonNegative(),
      }),
    ),
  }),
  routing: z.strictObject({
    protocol: oneOf('routing protocol', ['bgp', 'static'] as const),
    autonomous_system: z.int().check(z.gte(1), z.lte(4_294_967_295)),
    route_priorities: z.strictObject({
      direct_tunnel: nonNegativeInt(),
      indirect_tunnel: nonNegativeInt(),
      internet_failover: nonNegativeInt(),
    }),
  }),
  qos: z.strictObject({
    enabled: z.boolean(),
    traffic_classes: z.array(
      z.strictObject({
        name: text(),
        priority: positiveInt(),
        patterns: texts().check(z.minLength(1)),
        guaranteed_bandwidth_percent: percent(),
      }),
    ),
  }),
});

// --- monitoring --------------------------------------------------------------------------------

const monitoringSchema = z.strictObject({
  health: z.strictObject({
    region_availability: z.strictObject({
      metric: z.literal('percentage'),
      sla: percent(),
      measurement_interval_seconds: positive(),
    }),
    service_health: z.strictObject({ metric: z.literal('boolean'), critical_services: texts() }),
  }),
  performance: z.strictObject({
    cross_region_latency: z.strictObject({
      metric: z.literal('milliseconds'),
      p50_target: positive(),
      p95_target: positive(),
      p99_target: positive(),
    }),
    replication_lag: z.strictObject({
      metric: z.literal('seconds'),
      synchronous_target: nonNegative(),
      asynchronous_target: nonNegative(),
    }),
    failover_time: z.strictObject({ metric: z.literal('seconds'), rto_target: positive() }),
  }),
  capacity: z.strictObject({
    regional_utilization: z.strictObject({
      metric: z.literal('percentage'),
      warning_threshold: percent(),
      critical_threshold: percent(),
    }),
    cross_region_bandwidth: z.strictObject({
      metric: z.literal('mbps'),
      monitoring_interval_seconds: positive(),
    }),
  }),
  compliance: z.strictObject({
    data_residency_violations: z.strictObject({ metric: z.literal('count'), target: nonNegativeInt() }),
    audit_success_rate: z.strictObject({ metric: z.literal('percentage'), target: percent() }),
  }),
});

// --- the file ----------------------------------------------------------------------------------

export const topologySchema = z.strictObject({
  /** Editor support: `"$schema": "./topology.schema.json"`. */
  $schema: z.optional(z.string()),
  $comment: z.optional(z.union([z.string(), z.array(z.string())])),
  name: text(),
  version: z.literal(1, {
    error: (issue) => `unsupported version ${JSON.stringify(issue.input)}; expected 1`,
  }),
  country_groups: z.optional(z.record(groupName(), z.array(place()).check(z.minLength(1)))),
  regions: z.array(regionSchema).check(z.minLength(1)),
  witnesses: z.optional(z.array(witnessSchema)),
  global_resource_pool: resourcePoolSchema,
  failover_policies: failoverPoliciesSchema,
  replication_strategies: replicationStrategiesSchema,
  deployment: deploymentSchema,
  latency: latencySchema,
  routing: routingSchema,
  regional_compliance: z.record(regionId(), regionalComplianceSchema),
  regional_mcp_deployment: z.record(regionId(), regionalMcpSchema),
  cross_region_networking: networkingSchema,
  monitoring: monitoringSchema,
});

/** A structurally valid topology file. */
export type ParsedTopology = z.output<typeof topologySchema>;
