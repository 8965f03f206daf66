/**
 * The rules of data-subject requests, over plain data (no I/O, time passed in): which right a
 * jurisdiction grants and by when, which record an erasure must keep and why, what a request's status
 * is given what each region answered, when it is overdue, and which region's sweeper owns it.
 */
import { failoverOrder } from '../health/quorum.ts';
import { isServing, type RegionStatus } from '../state/records.ts';
import { isoSeconds } from '../time.ts';
import type { Topology } from '../topology/types.ts';
import {
  ERASURE_EXCEPTIONS,
  type ErasureException,
  type GrantedRight,
  type LegalHold,
  type PrivacyRequestRecord,
  type PrivacyRequestStatus,
  type PrivacyRequestType,
  type RegionProof,
} from './types.ts';

/** A data subject's id as tasks carry it (`task.subject_id`): no spaces, no slashes, at most 128. */
export const SUBJECT_ID_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/;

/** `dsr-` and a UUID: what the API hands out. */
export const PRIVACY_REQUEST_ID_PATTERN =
  /^dsr-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const DAY_MS = 86_400_000;

/** Every jurisdiction the topology's compliance policies name, sorted. */
export function jurisdictionsOf(topology: Topology): string[] {
  return [...new Set(Object.values(topology.regional_compliance).map((p) => p.jurisdiction))].sort();
}

type RightLookup =
  | { readonly granted: true; readonly right: GrantedRight }
  | { readonly granted: false; readonly problem: 'unknown_jurisdiction'; readonly known: readonly string[] }
  | { readonly granted: false; readonly problem: 'not_granted'; readonly reason: string };

/**
 * The right `type` as `jurisdiction` grants it. When several regions share a jurisdiction, the
 * strictest policy wins: the shortest response time, and only the erasure exceptions all of them list.
 */
export function grantedRight(
  topology: Topology,
  jurisdiction: string,
  type: PrivacyRequestType,
): RightLookup {
  const policies = topology.regions
    .map((r) => ({ region: r.region_id, policy: topology.regional_compliance[r.region_id] }))
    .filter((p) => p.policy?.jurisdiction === jurisdiction);
  if (policies.length === 0) {
    return { granted: false, problem: 'unknown_jurisdiction', known: jurisdictionsOf(topology) };
  }
  const rights = policies.map((p) => ({ region: p.region, right: p.policy?.individual_rights?.[type] }));
  const missing = rights.filter((r) => r.right === undefined).map((r) => r.region);
  if (missing.length > 0) {
    return {
      granted: false,
      problem: 'not_granted',
      reason: `the ${jurisdiction} policy (${missing.join(', ')}) has no individual_rights.${type}`,
    };
  }
  const granted = rights.flatMap((r) => (r.right ? [r.right] : []));
  const strictest = granted.reduce((a, b) => (b.max_response_days < a.max_response_days ? b : a));
  const exceptions = ERASURE_EXCEPTIONS.filter((e) => granted.every((r) => r.exceptions?.includes(e)));
  return {
    granted: true,
    right: {
      max_response_days: strictest.max_response_days,
      ...(strictest.format === undefined ? {} : { format: strictest.format }),
      exceptions: type === 'erasure' ? exceptions : [],
      policy_regions: policies.map((p) => p.region),
    },
  };
}

/** The answer is due `max_response_days` whole days after the request was received. */
export function dueAt(createdAtMs: number, maxResponseDays: number): string {
  return isoSeconds(createdAtMs + maxResponseDays * DAY_MS);
}

/** A task's legal hold (`task.legal_hold: { basis, reason }`); anything malformed is no hold. */
export function legalHoldOf(task: Readonly<Record<string, unknown>>): LegalHold | undefined {
  const hold = task.legal_hold;
  if (hold === null || typeof hold !== 'object' || Array.isArray(hold)) return undefined;
  const { basis, reason } = hold as Record<string, unknown>;
  if (!(ERASURE_EXCEPTIONS as readonly unknown[]).includes(basis)) return undefined;
  if (typeof reason !== 'string' || reason.trim() === '') return undefined;
  return { basis: basis as ErasureException, reason };
}

type ErasureDecision =
  | { readonly erase: true; readonly note?: string }
  | { readonly erase: false; readonly exception: ErasureException; readonly reason: string };

/**
 * Whether an erasure deletes a record. The one exception rule: the task carries a legal hold whose
 * basis the jurisdiction's erasure policy lists (`exceptions`). A hold on a basis the policy does not
 * recognize does not stop the erasure; the proof says so.
 */
export function erasureDecision(
  task: Readonly<Record<string, unknown>>,
  exceptions: readonly ErasureException[],
): ErasureDecision {
  const hold = legalHoldOf(task);
  if (!hold) return { erase: true };
  if (exceptions.includes(hold.basis)) return { erase: false, exception: hold.basis, reason: hold.reason };
  return {
    erase: true,
    note: `legal hold on ${hold.basis} ignored: not an erasure exception of this jurisdiction`,
  };
}

/** Terminal requests are never processed again. */
function isTerminal(status: PrivacyRequestStatus): boolean {
  return status === 'completed' || status === 'rejected';
}

/** Regions still to search: never tried, or unreachable last time. */
export function regionsToSearch(regionIds: readonly string[], proofs: Readonly<Record<string, RegionProof>>) {
  return regionIds.filter((id) => proofs[id]?.outcome !== 'searched');
}

/** `completed` once every region was searched; `partially_completed` while some could not be. */
export function statusAfter(
  regionIds: readonly string[],
  proofs: Readonly<Record<string, RegionProof>>,
): 'completed' | 'partially_completed' {
  return regionsToSearch(regionIds, proofs).length === 0 ? 'completed' : 'partially_completed';
}

/** Past its due time and not answered in full. */
export function isOverdue(record: PrivacyRequestRecord, now: number): boolean {
  return !isTerminal(record.status) && now > Date.parse(record.due_at);
}

/**
 * The region whose sweeper works on a request: the one that received it while it serves, otherwise
 * the first serving region in failover order (so a request outlives its region's failure). Undefined
 * when no region serves.
 */
export function ownerOf(
  topology: Topology,
  receivedIn: string,
  statuses: ReadonlyMap<string, RegionStatus>,
): string | undefined {
  const serving = (id: string) => isServing(statuses.get(id) ?? 'healthy');
  const known = topology.regions.some((r) => r.region_id === receivedIn);
  if (known && serving(receivedIn)) return receivedIn;
  return failoverOrder(topology).find(serving);
}

/** A `processing` claim older than this is taken as abandoned (a crashed or timed-out invocation). */
export const PROCESSING_LEASE_MS = 15 * 60_000;

/** Whether a sweep should work on the request now. */
export function needsProcessing(record: PrivacyRequestRecord, now: number): boolean {
  if (isTerminal(record.status)) return false;
  if (record.status === 'processing') return now - Date.parse(record.updated_at) > PROCESSING_LEASE_MS;
  return true;
}
