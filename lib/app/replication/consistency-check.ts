/**
 * The consistency check (spec: verify_data_consistency): sample keys from this region's
 * replica, read each from every region's replica, compare checksums of the contents, and report each
 * disagreement with every region's version. With `reconcile: true` (never by default) each one is
 * repaired by its data type's rule (lib/core/replication/consistency.ts): the winning copy is written
 * into every replica that differs, guarded so that a write landing meanwhile is not undone, and the
 * record says what was written where.
 *
 * The sample comes from the checking region's replica (a random start in the table's hash order,
 * lib/adapters/aws/dynamodb-replication.ts), so a key missing there is found by the check of another
 * region: the scheduled check runs in every region. Replication marks are never sampled (they change
 * on every write). Keys written within the settle window (the asynchronous lag target) are reported
 * but not reconciled: their replication may still be on its way.
 */
import { randomUUID } from 'node:crypto';
import { messageOf, ValidationError } from '../../core/errors.ts';
import { chooseWinner, copiesAgree, inFlight } from '../../core/replication/consistency.ts';
import { ruleForRecord } from '../../core/replication/data-types.ts';
import {
  type ConsistencyCheckRecord,
  type CopyReport,
  type Inconsistency,
  MAX_REPORTED_INCONSISTENCIES,
  type ReconcileWrite,
  type Reconciliation,
} from '../../core/replication/records.ts';
import { isServing } from '../../core/state/records.ts';
import { isoTime } from '../../core/time.ts';
import type { ItemCopy, RegionStatuses } from '../../ports.ts';
import type { WithState } from '../deps.ts';
import { readStatuses } from '../live-state.ts';
import { publishEvents, type ReplicationDeps } from './deps.ts';

const DEFAULT_SAMPLE_SIZE = 100;
export const MAX_SAMPLE_SIZE = 10_000;
export const CHECK_ID_PATTERN = /^check-[a-z0-9-]{1,80}$/;

interface CheckRequest {
  /** Keys to sample (1..10,000); default 100. */
  readonly sample_size?: number;
  /** Repair what disagrees by each data type's rule; default false (report only). */
  readonly reconcile?: boolean;
}

interface CheckOptions {
  readonly trigger: 'api' | 'schedule';
  /** Where in the table the sample starts, 0 <= x < 1; default random. */
  readonly random?: () => number;
  /** A copy written this recently is not reconciled; default the asynchronous target. */
  readonly settleMs?: number;
}

function reportOf(copy: ItemCopy | undefined): CopyReport {
  if (!copy) return { present: false };
  return {
    present: true,
    checksum: copy.checksum,
    ...(copy.write_time === undefined ? {} : { write_time: copy.write_time }),
    ...(copy.write_region === undefined ? {} : { write_region: copy.write_region }),
  };
}

/** The primary now: the serving region with role `primary` (after a failover), else the topology's. */
async function primaryOf(deps: WithState<ReplicationDeps, RegionStatuses>): Promise<string | undefined> {
  const statuses = await readStatuses(deps.topology, deps.state);
  for (const [region, status] of statuses)
    if (status.role === 'primary' && isServing(status.status)) return region;
  return (deps.topology.regions.find((r) => r.tier === 'primary') ?? deps.topology.regions[0])?.region_id;
}

export async function runConsistencyCheck(
  deps: WithState<ReplicationDeps, RegionStatuses>,
  request: CheckRequest,
  options: CheckOptions,
): Promise<ConsistencyCheckRecord> {
  const sampleSize = request.sample_size ?? DEFAULT_SAMPLE_SIZE;
  if (!Number.isSafeInteger(sampleSize) || sampleSize < 1 || sampleSize > MAX_SAMPLE_SIZE) {
    throw new ValidationError('invalid consistency check', [
      { field: 'sample_size', reason: `must be a whole number from 1 to ${MAX_SAMPLE_SIZE}` },
    ]);
  }
  const reconcile = request.reconcile ?? false;
  const random = options.random ?? Math.random;
  const startedMs = deps.clock.now();
  const regions = deps.topology.regions.map((r) => r.region_id);
  const sampled = await deps.replication(deps.regionId).sampleKeys(sampleSize, random());
  const copies = new Map<string, Map<string, ItemCopy>>();
  const unreachable: { region: string; error: string }[] = [];
  await Promise.all(
    regions.map(async (region) => {
      try {
        copies.set(region, await deps.replication(region).readCopies(sampled));
      } catch (error) {
        unreachable.push({ region, error: messageOf(error) });
      }
    }),
  );
  unreachable.sort((a, b) => (a.region < b.region ? -1 : 1));
  const readable = regions.filter((r) => copies.has(r));
  const settleMs =
    options.settleMs ?? deps.topology.monitoring.performance.replication_lag.asynchronous_target * 1000;
  const primary = reconcile ? await primaryOf(deps) : undefined;

  const inconsistencies: Inconsistency[] = [];
  let consistent = 0;
  let reconciled = 0;
  for (const key of [...sampled].sort()) {
    const byRegion: Record<string, CopyReport> = {};
    for (const region of readable) byRegion[region] = reportOf(copies.get(region)?.get(key));
    if (copiesAgree(byRegion)) {
      consistent++;
      continue;
    }
    const any = readable.map((r) => copies.get(r)?.get(key)).find((c) => c !== undefined);
    const rule = ruleForRecord(deps.topology, any?.record_type);
    let reconciliation: Reconciliation | undefined;
    if (reconcile) {
      reconciliation = await reconcileKey(deps, key, byRegion, copies, {
        rule: rule.conflict_resolution,
        primary,
        owner: any?.owner,
        inFlight: inFlight(byRegion, deps.clock.now(), settleMs),
      });
      if (reconciliation.writes.some((w) => w.applied)) reconciled++;
    }
    inconsistencies.push({
      key,
      ...(any?.record_type === undefined ? {} : { record_type: any.record_type }),
      data_type: rule.data_type,
      ...(rule.conflict_resolution === undefined ? {} : { rule: rule.conflict_resolution }),
      copies: byRegion,
      ...(reconciliation ? { reconciliation } : {}),
    });
  }
  const finishedMs = deps.clock.now();
  // Unique without coordination: the region, the start time and a random suffix (not `random`, which a
  // caller may fix to pin the sample).
  const checkId = `check-${deps.regionId}-${Math.floor(startedMs).toString(36)}-${randomUUID().slice(0, 8)}`;
  const record: ConsistencyCheckRecord = {
    check_id: checkId,
    observer: deps.regionId,
    trigger: options.trigger,
    reconcile,
    regions: readable,
    sample_size: sampleSize,
    sampled: sampled.length,
    consistent,
    inconsistent: inconsistencies.length,
    reconciled,
    unreachable,
    inconsistencies: inconsistencies.slice(0, MAX_REPORTED_INCONSISTENCIES),
    truncated: Math.max(0, inconsistencies.length - MAX_REPORTED_INCONSISTENCIES),
    started_at: isoTime(startedMs),
    finished_at: isoTime(finishedMs),
    duration_ms: Math.round(finishedMs - startedMs),
  };
  await deps.replication(deps.regionId).putCheck(record);
  const events: { type: string; detail: Record<string, unknown> }[] = [];
  if (record.inconsistent > 0) {
    events.push({
      type: 'replication.inconsistency_detected',
      detail: {
        check_id: checkId,
        sampled: record.sampled,
        inconsistent: record.inconsistent,
        keys: inconsistencies.slice(0, 20).map((i) => i.key),
      },
    });
  }
  if (reconciled > 0) {
    events.push({ type: 'replication.reconciled', detail: { check_id: checkId, reconciled } });
  }
  await publishEvents(deps, events);
  return record;
}

async function reconcileKey(
  deps: Omit<ReplicationDeps, 'state'>,
  key: string,
  byRegion: Readonly<Record<string, CopyReport>>,
  copies: ReadonlyMap<string, ReadonlyMap<string, ItemCopy>>,
  context: {
    readonly rule: ReturnType<typeof ruleForRecord>['conflict_resolution'];
    readonly primary: string | undefined;
    readonly owner: string | undefined;
    readonly inFlight: boolean;
  },
): Promise<Reconciliation> {
  const rule = context.rule ?? 'none';
  if (context.inFlight) {
    return {
      rule,
      writes: [],
      skipped: 'a copy was written within the settle window: replication may be in flight',
    };
  }
  const choice = chooseWinner({
    rule: context.rule,
    copies: byRegion,
    primary: context.primary,
    owner: context.owner,
  });
  if (choice.winner === undefined) return { rule, writes: [], skipped: choice.skipped };
  const winner = choice.winner;
  const winning = copies.get(winner)?.get(key);
  const target = byRegion[winner];
  const writes: ReconcileWrite[] = [];
  for (const [region, copy] of Object.entries(byRegion)) {
    if (region === winner) continue;
    if (copy.present === target?.present && copy.checksum === target?.checksum) continue;
    let applied: boolean;
    try {
      applied = await deps.replication(region).repair(key, winning?.image, copy.checksum);
    } catch {
      applied = false;
    }
    writes.push({
      region,
      action: winning ? 'put' : 'delete',
      ...(copy.checksum === undefined ? {} : { before_checksum: copy.checksum }),
      applied,
    });
  }
  return {
    rule,
    winner,
    reason: choice.reason,
    ...(target?.checksum === undefined ? {} : { winner_checksum: target.checksum }),
    writes,
  };
}
