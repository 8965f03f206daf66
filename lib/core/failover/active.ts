import type { FailoverStatus } from './types.ts';

/**
 * Statuses of a failover that is still going (every other status is final). The state port lists
 * these apart from ended failovers, so a probe round reads only what it may act on.
 */
export const ACTIVE_FAILOVER_STATUSES: readonly FailoverStatus[] = ['running', 'awaiting_approval'];

export function isActiveFailoverStatus(status: FailoverStatus): boolean {
  return ACTIVE_FAILOVER_STATUSES.includes(status);
}

/**
 * The status a conditional update leaves a failover in, when the update alone tells: the patch's
 * status, else the one every expected status shares (all active, or all final); undefined otherwise.
 */
export function activityAfterUpdate(
  patchStatus: FailoverStatus | undefined,
  expectedStatuses: readonly FailoverStatus[],
): 'active' | 'ended' | undefined {
  if (patchStatus !== undefined) return isActiveFailoverStatus(patchStatus) ? 'active' : 'ended';
  if (expectedStatuses.length === 0) return undefined;
  if (expectedStatuses.every(isActiveFailoverStatus)) return 'active';
  if (!expectedStatuses.some(isActiveFailoverStatus)) return 'ended';
  return undefined;
}
