/**
 * The automatic failover start: one conditional create of the record, then the workflow start, both
 * idempotent per failover id, so two detectors of one failure start one failover.
 */
import { ConflictError } from '../core/errors.ts';
import { type FailoverRecord, failoverIdFor } from '../core/failover/types.ts';
import { type HealthPolicy, healthPolicyOf } from '../core/health/evaluate.ts';
import type { FailedRegion } from '../core/health/types.ts';
import type { Failovers, RegionStatuses } from '../ports.ts';
import type { ControlDeps, WithState } from './deps.ts';
import { defaultStatus } from './live-state.ts';

export interface AutomaticFailoverResult {
  readonly failover_id: string;
  /**
   * `created`: this call wrote the record and started the workflow; `existing`: the record was
   * already there (another detector or an earlier round); `resumed`: it was this region's, never
   * started a step, and its workflow start was re-issued.
   */
  readonly outcome: 'created' | 'existing' | 'resumed';
  readonly record: FailoverRecord;
}

/**
 * Starts the automatic failover of `failed` from this region: one conditional create of the record
 * whose id derives from the failed region's epoch (two detectors derive the same id), then the
 * workflow start, which is idempotent per id.
 */
export async function startAutomaticFailover(
  deps: WithState<ControlDeps, RegionStatuses & Failovers>,
  failed: FailedRegion,
  reason: string,
  /** failoverConditions when it starts (the retry rule compares the next attempt's with them). */
  conditions?: string,
): Promise<AutomaticFailoverResult> {
  const { state, topology, regionId, clock } = deps;
  const status = (await state.getRegionStatus(failed.region)) ?? defaultStatus(topology, failed.region);
  const now = clock.now();
  const at = new Date(now).toISOString();
  const record: FailoverRecord = {
    failover_id: failoverIdFor('failover', failed.region, status.epoch),
    kind: 'failover',
    failed_region: failed.region,
    trigger: 'automatic',
    reason,
    status: 'running',
    coordinator: regionId,
    epoch: status.epoch,
    dry_run: false,
    initiated_at: at,
    workloads_migrated: 0,
    workloads_pending: 0,
    steps: [],
    previous_statuses: [],
    abort_requested: false,
    ...(conditions === undefined ? {} : { conditions }),
    updated_at: at,
  };
  const start = () => deps.workflow.startFailover({ failover_id: record.failover_id, coordinator: regionId });
  try {
    await state.createFailover(record);
  } catch (error) {
    if (!(error instanceof ConflictError && error.code === 'FAILOVER_EXISTS')) throw error;
    const current =
      (error.current as FailoverRecord | undefined) ?? (await state.getFailover(record.failover_id));
    if (!current) throw error;
    if (lostStart(current, regionId, now, healthPolicyOf(topology))) {
      await start();
      return { failover_id: record.failover_id, outcome: 'resumed', record: current };
    }
    return { failover_id: record.failover_id, outcome: 'existing', record: current };
  }
  await start();
  return { failover_id: record.failover_id, outcome: 'created', record };
}

/**
 * A record this region created whose workflow never recorded a step a whole interval later: the
 * start was lost between the record write and the workflow call (crash, throttling).
 */
function lostStart(record: FailoverRecord, regionId: string, now: number, policy: HealthPolicy): boolean {
  return (
    record.coordinator === regionId &&
    record.status === 'running' &&
    record.steps.length === 0 &&
    now - Date.parse(record.initiated_at) >= policy.interval_seconds * 1000
  );
}
