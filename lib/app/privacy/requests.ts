/** The data-subject request API's use cases: create (and process at once), read one, list. */
import { randomUUID } from 'node:crypto';
import { NotFoundError, ValidationError } from '../../core/errors.ts';
import { RightNotGrantedError } from '../../core/privacy/errors.ts';
import { dueAt, grantedRight } from '../../core/privacy/rules.ts';
import type {
  PrivacyRequestRecord,
  PrivacyRequestStatus,
  PrivacyRequestType,
  SubjectExportRecord,
} from '../../core/privacy/types.ts';
import { isoSeconds } from '../../core/time.ts';
import type { PrivacyDeps } from './deps.ts';
import { privacyEvent, processPrivacyRequest, publishPrivacyEvents } from './process.ts';
import type { PrivacyRequestBody } from './request.ts';

/** A request as the API answers it: the record without its version, with the export when there is one. */
export type PrivacyRequestView = Omit<PrivacyRequestRecord, 'version'> & {
  readonly export?: {
    /** The policy's format (`structured`, `machine_readable`); the media type is always JSON. */
    readonly format: string;
    readonly media_type: 'application/json';
    readonly records: readonly SubjectExportRecord[];
  };
};

export interface CreateOptions {
  /** New request ids; default `dsr-<random UUID>` (randomness is an input, principle 8). */
  readonly newId?: () => string;
}

function view(record: PrivacyRequestRecord, records?: readonly SubjectExportRecord[]): PrivacyRequestView {
  const { version: _version, ...rest } = record;
  if (record.type === 'erasure' || records === undefined) return rest;
  return {
    ...rest,
    export: {
      format: record.right.format ?? (record.type === 'portability' ? 'machine_readable' : 'structured'),
      media_type: 'application/json',
      records,
    },
  };
}

/**
 * Records a data-subject request with its due date from the jurisdiction's policy, then works on it
 * at once: every region that answers is searched now; what cannot be reached is left to the sweeper.
 * Unknown jurisdiction: ValidationError (400). A right the jurisdiction does not grant:
 * RightNotGrantedError (422). Neither writes anything.
 */
export async function createPrivacyRequest(
  deps: Omit<PrivacyDeps, 'state'>,
  body: PrivacyRequestBody,
  options: CreateOptions = {},
): Promise<PrivacyRequestView> {
  const lookup = grantedRight(deps.topology, body.jurisdiction, body.type);
  if (!lookup.granted) {
    if (lookup.problem === 'unknown_jurisdiction') {
      throw new ValidationError('invalid privacy request', [
        {
          field: 'jurisdiction',
          reason: `unknown jurisdiction "${body.jurisdiction}"; known: ${lookup.known.join(', ')}`,
        },
      ]);
    }
    throw new RightNotGrantedError(`${body.jurisdiction} grants no ${body.type} right`, [
      { field: 'type', reason: lookup.reason },
    ]);
  }
  const now = deps.clock.now();
  const created = isoSeconds(now);
  const record: PrivacyRequestRecord = {
    request_id: (options.newId ?? (() => `dsr-${randomUUID()}`))(),
    type: body.type,
    subject_id: body.subject_id,
    jurisdiction: body.jurisdiction,
    received_in: deps.regionId,
    status: 'received',
    created_at: created,
    due_at: dueAt(now, lookup.right.max_response_days),
    right: lookup.right,
    regions: {},
    updated_at: created,
    version: 1,
  };
  const own = deps.privacy(deps.regionId);
  await own.createRequest(record);
  await publishPrivacyEvents(deps, [privacyEvent(deps, 'privacy.request_received', record)]);
  let current = record;
  try {
    current = await processPrivacyRequest(deps, record);
  } catch {
    // Recorded and due: the sweeper works on it (a claim left behind expires with its lease).
    return view((await own.getRequest(record.request_id)) ?? record);
  }
  return view(current, current.type === 'erasure' ? undefined : await own.listExport(record.request_id));
}

/** One request with its proof (and export); NotFoundError when this replica does not hold it. */
export async function getPrivacyRequest(
  deps: Omit<PrivacyDeps, 'state'>,
  requestId: string,
): Promise<PrivacyRequestView> {
  const own = deps.privacy(deps.regionId);
  const record = await own.getRequest(requestId);
  if (!record) throw new NotFoundError('privacy request', requestId);
  return view(record, record.type === 'erasure' ? undefined : await own.listExport(requestId));
}

interface PrivacyListFilter {
  readonly status?: PrivacyRequestStatus;
  readonly type?: PrivacyRequestType;
  readonly subject_id?: string;
  /** @default 100 */
  readonly limit?: number;
}

/** Requests newest first, without their exports. */
export async function listPrivacyRequests(
  deps: Omit<PrivacyDeps, 'state'>,
  filter: PrivacyListFilter = {},
): Promise<{ requests: PrivacyRequestView[] }> {
  const all = await deps.privacy(deps.regionId).listRequests();
  const requests = all
    .filter((r) => filter.status === undefined || r.status === filter.status)
    .filter((r) => filter.type === undefined || r.type === filter.type)
    .filter((r) => filter.subject_id === undefined || r.subject_id === filter.subject_id)
    .slice(0, filter.limit ?? 100)
    .map((r) => view(r));
  return { requests };
}
