/**
 * Which data type of the spec each record of the state table is, and so which replication strategy
 * (topology `replication_strategies`) and conflict rule apply to it. The one place that maps record
 * types to data types (lib/core/replication/placement.ts maps data types to tables).
 *
 * | record_type         | data type              | strategy (default topology) | rule                    |
 * | ------------------- | ---------------------- | --------------------------- | ----------------------- |
 * | region_status       | master_state           | synchronous (1 s target)    | primary_wins            |
 * | failover            | master_state           | synchronous                 | primary_wins            |
 * | handoff             | active_tasks           | synchronous                 | primary_wins            |
 * | target_health       | metrics                | asynchronous (30 s target)  | last_write_wins         |
 * | heartbeat           | metrics                | asynchronous                | last_write_wins         |
 * | replication_lag     | metrics                | asynchronous                | last_write_wins         |
 * | consistency_check   | audit_trails           | asynchronous                | last_write_wins         |
 * | document_conflict   | audit_trails           | asynchronous                | last_write_wins         |
 * | document_slot       | coordination_documents | active-active (eventual)    | vector_clock            |
 *
 * The replication marks (`replication_mark`) are the monitor's own instrument: they change on every
 * write, so they are never sampled by a consistency check. Record types not listed (added by later
 * issues) are reported by a check but not reconciled until they are mapped here.
 *
 * `vector_clock` on a document slot means: only the slot's region writes it, so its region's copy is
 * the true one; conflicts between regions are siblings in different slots, never overwrites.
 */
import type { ConflictResolution } from '../topology/sections.ts';
import type { Topology } from '../topology/types.ts';

export const RECORD_DATA_TYPES: Readonly<Record<string, string>> = {
  region_status: 'master_state',
  failover: 'master_state',
  handoff: 'active_tasks',
  target_health: 'metrics',
  heartbeat: 'metrics',
  replication_lag: 'metrics',
  consistency_check: 'audit_trails',
  document_conflict: 'audit_trails',
  document_slot: 'coordination_documents',
};

/** Active-active data kept with version vectors (lib/app/replication/versioned-store.ts). */
const VERSIONED_DATA_TYPES: ReadonlySet<string> = new Set(['coordination_documents']);

type ReplicationClass = 'synchronous' | 'asynchronous' | 'active_active' | 'unclassified';

interface DataTypeRule {
  readonly record_type: string | undefined;
  readonly data_type: string;
  readonly strategy: ReplicationClass;
  /** undefined: no rule applies, so a check reports the record but does not reconcile it. */
  readonly conflict_resolution: ConflictResolution | undefined;
  /** The lag target for this data, seconds (monitoring.performance.replication_lag). */
  readonly target_seconds: number | undefined;
}

/** The data type, strategy and conflict rule of a record type in a topology. */
export function ruleForRecord(topology: Topology, recordType: string | undefined): DataTypeRule {
  const dataType = (recordType === undefined ? undefined : RECORD_DATA_TYPES[recordType]) ?? 'unclassified';
  const strategies = topology.replication_strategies;
  const targets = topology.monitoring.performance.replication_lag;
  const base = { record_type: recordType, data_type: dataType };
  if (VERSIONED_DATA_TYPES.has(dataType)) {
    return {
      ...base,
      strategy: 'active_active',
      conflict_resolution: 'vector_clock',
      target_seconds: targets.asynchronous_target,
    };
  }
  if (strategies.synchronous.data_types.includes(dataType)) {
    return {
      ...base,
      strategy: 'synchronous',
      conflict_resolution: strategies.synchronous.conflict_resolution,
      target_seconds: targets.synchronous_target,
    };
  }
  if (strategies.asynchronous.data_types.includes(dataType)) {
    return {
      ...base,
      strategy: 'asynchronous',
      conflict_resolution: strategies.asynchronous.conflict_resolution,
      target_seconds: targets.asynchronous_target,
    };
  }
  return { ...base, strategy: 'unclassified', conflict_resolution: undefined, target_seconds: undefined };
}
