/**
 * Working on a data-subject request: search every region's replica for the subject's records, export
 * or erase them (keeping those an exception covers), and record per region what was found and done.
 */

import { ConflictError } from '../../core/errors.ts';
import {
  erasureDecision,
  grantedRight,
  needsProcessing,
  regionsToSearch,
  statusAfter,
} from '../../core/privacy/rules.ts';
import type {
  PrivacyRequestRecord,
  RecordOutcome,
  RegionProof,
  SubjectExportRecord,
} from '../../core/privacy/types.ts';
import type { Reservation } from '../../core/resources/pool.ts';
import { type Handoff, isOpenHandoff } from '../../core/state/records.ts';
import { isoSeconds } from '../../core/time.ts';
import type { ControlPlaneEvent } from '../../ports.ts';
import type { PrivacyDeps } from './deps.ts';

interface RegionResult {
  readonly proof: RegionProof;
  readonly exports: readonly SubjectExportRecord[];
}

/** What an export shows of a handoff: the task as received and what became of it, not the scores. */
function exportView(handoff: Handoff): Record<string, unknown> {
  const { decision: _decision, request_hash: _hash, ...data } = handoff;
  return data;
}

function message(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/** Searches one region's replica and exports or erases what it holds of the subject. */
async function searchRegion(
  deps: Omit<PrivacyDeps, 'state'>,
  request: PrivacyRequestRecord,
  region: string,
): Promise<RegionResult> {
  const attempts = (request.regions[region]?.attempts ?? 0) + 1;
  const subject = request.subject_id;
  try {
    const port = deps.privacy(region);
    const handoffs = await port.findSubjectHandoffs(
      subject,
      deps.topology.regions.map((r) => r.region_id),
    );
    const records: RecordOutcome[] = [];
    const exports: SubjectExportRecord[] = [];
    if (request.type === 'erasure') {
      for (const handoff of handoffs) {
        const decision = erasureDecision(handoff.task, request.right.exceptions);
        if (!decision.erase) {
          records.push({
            record_id: handoff.handoff_id,
            kind: 'handoff',
            action: 'kept',
            exception: decision.exception,
            reason: decision.reason,
          });
          continue;
        }
        const erased = await port.eraseHandoff(handoff.handoff_id, subject);
        // An open handoff's reservation goes with it: released once, by the erasure of
        // its target region's replica (each replica's copy is erased once; a retry finds it gone).
        const held = (handoff as Handoff & { reservation?: Reservation }).reservation;
        if (erased && region === handoff.target_region && isOpenHandoff(handoff.status) && held) {
          await deps.resources?.release(held, -held.tokens);
        }
        const reason = [
          decision.note,
          erased ? undefined : 'already gone when deleted (erased through another replica)',
        ].filter((r) => r !== undefined);
        records.push({
          record_id: handoff.handoff_id,
          kind: 'handoff',
          action: 'erased',
          ...(reason.length > 0 ? { reason: reason.join('; ') } : {}),
        });
      }
      // Copies an earlier access or portability request keeps are the subject's data too.
      const earlier = (await port.listRequests()).filter(
        (r) => r.subject_id === subject && r.type !== 'erasure' && r.request_id !== request.request_id,
      );
      for (const previous of earlier) {
        for (const copy of await port.listExport(previous.request_id)) {
          await port.deleteExportRecord(previous.request_id, copy.record_id);
          records.push({
            record_id: `${previous.request_id}/${copy.record_id}`,
            kind: 'export',
            action: 'erased',
          });
        }
      }
    } else {
      for (const handoff of handoffs) {
        records.push({ record_id: handoff.handoff_id, kind: 'handoff', action: 'exported' });
        exports.push({ record_id: handoff.handoff_id, kind: 'handoff', region, data: exportView(handoff) });
      }
    }
    return {
      proof: {
        region,
        outcome: 'searched',
        at: isoSeconds(deps.clock.now()),
        attempts,
        found: records.map((r) => r.record_id),
        records,
      },
      exports,
    };
  } catch (error) {
    return {
      proof: {
        region,
        outcome: 'unreachable',
        at: isoSeconds(deps.clock.now()),
        attempts,
        found: [],
        records: [],
        error: message(error),
      },
      exports: [],
    };
  }
}

/** A privacy event. No subject id: events go to operators' inboxes and logs. */
export function privacyEvent(
  deps: Omit<PrivacyDeps, 'state'>,
  type: string,
  request: PrivacyRequestRecord,
  extra: Readonly<Record<string, unknown>> = {},
): ControlPlaneEvent {
  return {
    type,
    source_region: deps.regionId,
    time: isoSeconds(deps.clock.now()),
    detail: {
      request_id: request.request_id,
      request_type: request.type,
      jurisdiction: request.jurisdiction,
      status: request.status,
      due_at: request.due_at,
      ...extra,
    },
  };
}

/** Best effort (EventsPort): a lost event must not undo or repeat the work. */
export async function publishPrivacyEvents(
  deps: Omit<PrivacyDeps, 'state'>,
  events: readonly ControlPlaneEvent[],
): Promise<void> {
  await deps.events.publish(events).catch(() => undefined);
}

/**
 * Works on a request in this region: claims it (`processing`, conditional on its version), searches
 * every region not yet searched in parallel, stores the export (access, portability) in this
 * region's replica, and records the proof. Regions that cannot be reached are recorded as such and
 * the request stays `partially_completed` for the sweeper. Answers the request as it now is; a request
 * that needs no work, or that another worker changed meanwhile, is answered as found.
 */
export async function processPrivacyRequest(
  deps: Omit<PrivacyDeps, 'state'>,
  request: PrivacyRequestRecord,
): Promise<PrivacyRequestRecord> {
  const own = deps.privacy(deps.regionId);
  const started = deps.clock.now();
  if (!needsProcessing(request, started)) return request;
  try {
    const lookup = grantedRight(deps.topology, request.jurisdiction, request.type);
    if (!lookup.granted) {
      const rejection =
        lookup.problem === 'not_granted' ? lookup.reason : `jurisdiction ${request.jurisdiction} is gone`;
      const rejected = await own.updateRequest(
        request.request_id,
        { status: 'rejected', rejection, updated_at: isoSeconds(started), completed_at: isoSeconds(started) },
        request.version,
      );
      await publishPrivacyEvents(deps, [privacyEvent(deps, 'privacy.request_rejected', rejected)]);
      return rejected;
    }
    const claimed = await own.updateRequest(
      request.request_id,
      { status: 'processing', updated_at: isoSeconds(started) },
      request.version,
    );
    const regionIds = deps.topology.regions.map((r) => r.region_id);
    const results = await Promise.all(
      regionsToSearch(regionIds, claimed.regions).map((region) => searchRegion(deps, claimed, region)),
    );
    const proofs: Record<string, RegionProof> = { ...claimed.regions };
    const exports = new Map<string, SubjectExportRecord>();
    for (const result of results) {
      proofs[result.proof.region] = result.proof;
      for (const record of result.exports)
        if (!exports.has(record.record_id)) exports.set(record.record_id, record);
    }
    if (exports.size > 0) await own.putExport(request.request_id, [...exports.values()]);
    const status = statusAfter(regionIds, proofs);
    const now = isoSeconds(deps.clock.now());
    const exported = new Set(
      Object.values(proofs).flatMap((p) =>
        p.records.filter((r) => r.action === 'exported').map((r) => r.record_id),
      ),
    );
    const updated = await own.updateRequest(
      request.request_id,
      {
        status,
        regions: proofs,
        updated_at: now,
        ...(status === 'completed' ? { completed_at: now } : {}),
        ...(request.type === 'erasure' ? {} : { exported_records: exported.size }),
      },
      claimed.version,
    );
    if (status === 'completed') {
      await publishPrivacyEvents(deps, [privacyEvent(deps, 'privacy.request_completed', updated)]);
    }
    return updated;
  } catch (error) {
    // Someone else claimed or finished it: theirs is the current state.
    if (error instanceof ConflictError && error.current) return error.current as PrivacyRequestRecord;
    throw error;
  }
}
