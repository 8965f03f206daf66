/**
 * The privacy sweeper (hourly in every region): works again on the requests this region owns that
 * are not finished, and emits `privacy.request_overdue` once for each request past its due time.
 */

import { ConflictError, messageOf } from '../../core/errors.ts';
import { isOverdue, needsProcessing, ownerOf, regionsToSearch } from '../../core/privacy/rules.ts';
import type { PrivacyRequestRecord } from '../../core/privacy/types.ts';
import type { RegionStatus } from '../../core/state/records.ts';
import { isoSeconds } from '../../core/time.ts';
import type { RegionStatuses } from '../../ports.ts';
import type { WithState } from '../deps.ts';
import { readStatuses } from '../live-state.ts';
import type { PrivacyDeps } from './deps.ts';
import { privacyEvent, processPrivacyRequest, publishPrivacyEvents } from './process.ts';

export interface PrivacySweepReport {
  readonly region: string;
  readonly at: string;
  /** Requests this region owns and looked at (unfinished or not yet reported overdue). */
  readonly owned: number;
  /** Request id -> status after the sweep worked on it. */
  readonly processed: Readonly<Record<string, string>>;
  /** Requests reported overdue by this sweep. */
  readonly overdue: readonly string[];
  /** Request id -> why working on it failed (tried again next sweep). */
  readonly failed: Readonly<Record<string, string>>;
}

/** What a sweep uses: the privacy ports and, of the shared state, the statuses (who owns a request). */
export type SweepDeps = WithState<PrivacyDeps, RegionStatuses>;

/**
 * One sweep. A request belongs to the region that received it while that region serves, otherwise to
 * the first serving region in failover order, so exactly one sweeper works on it as this replica sees
 * the statuses. The overdue mark is written (conditional on the version) before the event, so a
 * request is reported at most once even when two sweeps race.
 */
export async function sweepPrivacyRequests(deps: SweepDeps): Promise<PrivacySweepReport> {
  const own = deps.privacy(deps.regionId);
  const statusRecords = await readStatuses(deps.topology, deps.state);
  const statuses = new Map<string, RegionStatus>(
    [...statusRecords].map(([region, record]) => [region, record.status]),
  );
  const processed: Record<string, string> = {};
  const failed: Record<string, string> = {};
  const overdue: string[] = [];
  let owned = 0;
  for (const listed of await own.listRequests()) {
    if (ownerOf(deps.topology, listed.received_in, statuses) !== deps.regionId) continue;
    const now = deps.clock.now();
    if (!needsProcessing(listed, now) && (listed.overdue_notified_at || !isOverdue(listed, now))) continue;
    owned++;
    let request: PrivacyRequestRecord = listed;
    if (needsProcessing(request, now)) {
      try {
        request = await processPrivacyRequest(deps, request);
        processed[request.request_id] = request.status;
      } catch (error) {
        failed[request.request_id] = messageOf(error);
        request = (await own.getRequest(request.request_id)) ?? request;
      }
    }
    const at = deps.clock.now();
    if (!isOverdue(request, at) || request.overdue_notified_at) continue;
    try {
      const marked = await own.updateRequest(
        request.request_id,
        { overdue_notified_at: isoSeconds(at) },
        request.version,
      );
      const late = Math.floor((at - Date.parse(marked.due_at)) / 86_400_000);
      await publishPrivacyEvents(deps, [
        privacyEvent(deps, 'privacy.request_overdue', marked, {
          days_overdue: late,
          regions_pending: regionsToSearch(
            deps.topology.regions.map((r) => r.region_id),
            marked.regions,
          ),
        }),
      ]);
      overdue.push(marked.request_id);
    } catch (error) {
      // Changed meanwhile: the next sweep looks again.
      if (!(error instanceof ConflictError)) throw error;
    }
  }
  return { region: deps.regionId, at: isoSeconds(deps.clock.now()), owned, processed, overdue, failed };
}
