/**
 * The disaster-recovery objectives of the spec (its "RTO/RPO Definitions"): the most downtime each
 * service tier may suffer, the most data each data class may lose, the drill scenarios and the
 * success criteria a drill is judged by. Plain data: the runbooks, the drills and their reports read
 * the same figures.
 */

export const SERVICE_TIERS = ['tier_1_services', 'tier_2_services', 'tier_3_services'] as const;
export type ServiceTier = (typeof SERVICE_TIERS)[number];

export const SERVICES = [
  'global_coordinator',
  'authentication',
  'critical_masters',
  'worker_execution',
  'mcp_servers',
  'data_services',
  'analytics',
  'reporting',
  'archival',
] as const;
export type Service = (typeof SERVICES)[number];

export const DATA_CLASSES = ['critical_data', 'important_data', 'standard_data'] as const;
export type DataClass = (typeof DATA_CLASSES)[number];

export const DATA_TYPES = [
  'master_state',
  'active_tasks',
  'transaction_logs',
  'worker_state',
  'metrics',
  'audit_logs',
  'analytics',
  'historical_logs',
  'archives',
] as const;
export type DataType = (typeof DATA_TYPES)[number];

interface RtoObjective {
  readonly max_downtime_minutes: number;
  readonly services: readonly Service[];
}

interface RpoObjective {
  readonly max_data_loss_seconds: number;
  readonly data_types: readonly DataType[];
}

export interface DrObjectives {
  readonly rto: Readonly<Record<ServiceTier, RtoObjective>>;
  readonly rpo: Readonly<Record<DataClass, RpoObjective>>;
  readonly success_criteria: {
    /** Share of the service tiers that must recover within their RTO. */
    readonly rto_achievement: number;
    /** Share of the data classes that must lose no more than their RPO. */
    readonly rpo_achievement: number;
    /** Share of the acknowledged writes that must be present and equal in every survivor. */
    readonly data_integrity: number;
  };
}

/** The spec's objectives, as written. */
export const DR_OBJECTIVES: DrObjectives = {
  rto: {
    tier_1_services: {
      max_downtime_minutes: 15,
      services: ['global_coordinator', 'authentication', 'critical_masters'],
    },
    tier_2_services: {
      max_downtime_minutes: 60,
      services: ['worker_execution', 'mcp_servers', 'data_services'],
    },
    tier_3_services: { max_downtime_minutes: 240, services: ['analytics', 'reporting', 'archival'] },
  },
  rpo: {
    critical_data: {
      max_data_loss_seconds: 60,
      data_types: ['master_state', 'active_tasks', 'transaction_logs'],
    },
    important_data: { max_data_loss_seconds: 300, data_types: ['worker_state', 'metrics', 'audit_logs'] },
    standard_data: { max_data_loss_seconds: 3600, data_types: ['analytics', 'historical_logs', 'archives'] },
  },
  success_criteria: { rto_achievement: 0.95, rpo_achievement: 0.99, data_integrity: 1.0 },
};

export const DRILL_SCENARIOS = [
  'complete_regional_failure',
  'network_partition',
  'data_corruption',
  'cascading_failure',
] as const;
export type DrillScenario = (typeof DRILL_SCENARIOS)[number];

/** The regional failure runbook's end-to-end checks (the spec's critical paths). */
export const END_TO_END_CHECKS = [
  'user_authentication',
  'task_submission',
  'worker_spawning',
  'data_retrieval',
  'mcp_server_access',
] as const;

export function tierOf(service: Service, objectives: DrObjectives = DR_OBJECTIVES): ServiceTier {
  for (const tier of SERVICE_TIERS) if (objectives.rto[tier].services.includes(service)) return tier;
  throw new RangeError(`no tier holds service ${service}`);
}
