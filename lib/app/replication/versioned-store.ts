/**
 * Versioned documents: active-active data whose concurrent updates are kept, not lost.
 *
 * The record type: coordination documents (`PUT /v1/documents/{key}`), small JSON values any region
 * writes (the spec's `coordination/*` data: shared notes, knowledge-base entries, settings). They are
 * the platform's one record written in several regions at once by design; handoffs and region
 * statuses have one writer at a time (the router of the source region, the failover's coordinator).
 *
 * How: each region writes only its own slot of a document (lib/core/replication/records.ts
 * DocumentSlot), so replication, which keeps the last writer per item, never overwrites another
 * region's version. Each version carries its write's dot (region R, R's next counter) and the
 * context its writer had seen (`version`, the context a read returned; default: everything R's
 * replica holds): a dotted version vector, so even a stale write from the region whose counter is
 * ahead cannot claim what it did not see. A reader keeps the versions no other has seen:
 * - one: the document's value;
 * - several (siblings): a write based on a stale context (`stale_write`, detected at once in the
 *   writing region) or writes in two regions that had not seen each other (`concurrent_writes`,
 *   detected wherever both have arrived: by a read, a write, or the lag monitor's scan). Each
 *   conflict is recorded once per replica with a `replication.conflict_detected` event.
 * - `merge` writes a value whose context covers every sibling: it has seen them all, so it replaces them.
 */
import { createHash } from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '../../core/errors.ts';
import type { DocumentConflict, DocumentSlot, DocumentVersion } from '../../core/replication/records.ts';
import {
  clockOf,
  hasSeen,
  mergeVectors,
  siblingsOf,
  sortedVector,
  type VersionVector,
  vectorKey,
} from '../../core/replication/version-vector.ts';
import { isoTime } from '../../core/time.ts';
import type { DocumentPort } from '../../ports.ts';
import { publishEvents, type ReplicationDeps } from './deps.ts';

const DOCUMENT_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** A document's JSON content; siblings multiply it inside one item (400 KB). */
const MAX_CONTENT_BYTES = 32 * 1024;

interface DocumentView {
  readonly key: string;
  /** The context to send back with the next write: the merge of every sibling's vector. */
  readonly version: VersionVector;
  /** More than one sibling: concurrent versions wait for a merge. */
  readonly conflict: boolean;
  /** The value when there is exactly one sibling. */
  readonly content?: unknown;
  /** Each with `vector`, its clock (context plus its own write). */
  readonly siblings: readonly (DocumentVersion & { readonly vector: VersionVector })[];
}

interface WriteRequest {
  readonly content: unknown;
  /** The context the writer read (`version` of GET); omitted: everything this region's replica holds. */
  readonly version?: VersionVector;
}

interface WriteResult {
  readonly document: DocumentView;
  /** The write was based on a context older than what this replica holds: kept as a sibling. */
  readonly stale: boolean;
  readonly conflict_id?: string;
}

type DocumentDeps = Pick<ReplicationDeps, 'documents' | 'events' | 'regionId' | 'clock'>;

function viewOf(key: string, slots: readonly DocumentSlot[]): DocumentView {
  const siblings = siblingsOf(slots.flatMap((s) => s.versions)).map((v) => ({ ...v, vector: clockOf(v) }));
  // Newest first by write time, then region: a stable order for clients and tests.
  siblings.sort((a, b) =>
    a.written_at === b.written_at
      ? a.written_by < b.written_by
        ? -1
        : 1
      : a.written_at > b.written_at
        ? -1
        : 1,
  );
  return {
    key,
    version: mergeVectors(...siblings.map((s) => s.vector)),
    conflict: siblings.length > 1,
    ...(siblings.length === 1 ? { content: siblings[0]?.content } : {}),
    siblings,
  };
}

function conflictIdOf(siblings: readonly DocumentVersion[]): string {
  const text = siblings
    .map((s) => `${s.dot.region}:${s.dot.counter}`)
    .sort()
    .join('|');
  return `conflict-${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}

function checkKey(key: string): void {
  if (!DOCUMENT_KEY_PATTERN.test(key)) {
    throw new ValidationError('invalid document key', [
      { field: 'key', reason: `"${key}" must match ${DOCUMENT_KEY_PATTERN.source}` },
    ]);
  }
}

function checkContent(content: unknown): void {
  const text = JSON.stringify(content);
  if (text === undefined) {
    throw new ValidationError('invalid document', [{ field: 'content', reason: 'must be a JSON value' }]);
  }
  if (Buffer.byteLength(text, 'utf8') > MAX_CONTENT_BYTES) {
    throw new ValidationError('invalid document', [
      { field: 'content', reason: `must be at most ${MAX_CONTENT_BYTES} bytes of JSON` },
    ]);
  }
}

/** Records and announces the document's siblings if it has several and this replica has not seen them. */
async function noteConflict(
  deps: DocumentDeps,
  view: DocumentView,
  kind: DocumentConflict['kind'],
): Promise<{ readonly conflict_id: string; readonly recorded: boolean } | undefined> {
  if (!view.conflict) return undefined;
  const vectors = view.siblings.map((s) => s.vector);
  const conflict: DocumentConflict = {
    key: view.key,
    conflict_id: conflictIdOf(view.siblings),
    vectors,
    written_by: view.siblings.map((s) => s.written_by),
    kind,
    detected_at: isoTime(deps.clock.now()),
    detected_by: deps.regionId,
  };
  const recorded = await deps.documents.recordConflict(conflict);
  if (recorded) {
    await publishEvents(deps, [
      {
        type: 'replication.conflict_detected',
        detail: {
          key: view.key,
          conflict_id: conflict.conflict_id,
          kind,
          siblings: view.siblings.map((s) => ({
            vector: s.vector,
            written_by: s.written_by,
            written_at: s.written_at,
          })),
        },
      },
    ]);
  }
  return { conflict_id: conflict.conflict_id, recorded };
}

/** The document as this region's replica holds it; NotFoundError when no region ever wrote it. */
export async function getDocument(deps: DocumentDeps, key: string): Promise<DocumentView> {
  checkKey(key);
  const slots = await deps.documents.getSlots(key);
  if (slots.length === 0) throw new NotFoundError('document', key);
  const view = viewOf(key, slots);
  await noteConflict(deps, view, 'concurrent_writes');
  return view;
}

/** Looks at one document for siblings this replica has not recorded yet (the monitor's scan). */
export async function detectConflict(
  deps: DocumentDeps,
  key: string,
  kind: DocumentConflict['kind'],
): Promise<{ readonly conflict_id: string; readonly recorded: boolean } | undefined> {
  const slots = await deps.documents.getSlots(key);
  return slots.length === 0 ? undefined : noteConflict(deps, viewOf(key, slots), kind);
}

/** The recorded conflicts of a document in this replica. */
export function listConflicts(documents: DocumentPort, key: string): Promise<DocumentConflict[]> {
  checkKey(key);
  return documents.listConflicts(key);
}

/**
 * Writes a new version in this region's slot. A context older than what this replica holds does not
 * overwrite: the write becomes a sibling of what it did not see (and the conflict is announced).
 */
export function putDocument(deps: DocumentDeps, key: string, request: WriteRequest): Promise<WriteResult> {
  return write(deps, key, request, false);
}

/**
 * Resolves siblings: `version` must descend from every sibling this replica holds (it is the context
 * of a read that saw them all), else ConflictError MERGE_CONTEXT_STALE carrying the current view.
 */
export async function mergeDocument(
  deps: DocumentDeps,
  key: string,
  request: WriteRequest & { readonly version: VersionVector },
): Promise<DocumentView> {
  return (await write(deps, key, request, true)).document;
}

async function write(
  deps: DocumentDeps,
  key: string,
  request: WriteRequest,
  merge: boolean,
): Promise<WriteResult> {
  checkKey(key);
  checkContent(request.content);
  const region = deps.regionId;
  for (let attempt = 0; attempt < 5; attempt++) {
    const slots = await deps.documents.getSlots(key);
    const current = viewOf(key, slots);
    if (merge && slots.length === 0) throw new NotFoundError('document', key);
    const base = request.version ?? current.version;
    const unseen = current.siblings.filter((s) => !hasSeen(base, s));
    if (merge && unseen.length > 0) {
      throw new ConflictError(
        'MERGE_CONTEXT_STALE',
        `the merge's version does not cover ${unseen.length} version(s) of ${key} (${unseen
          .map((s) => vectorKey(s.vector))
          .join('; ')}): read it again and merge what it holds now`,
        current,
      );
    }
    const own = slots.find((s) => s.region === region);
    // Counters of this region are never reused: one past the highest this replica knows.
    const known = Math.max(
      0,
      ...slots.flatMap((s) =>
        s.versions.map((v) => Math.max(v.context[region] ?? 0, v.dot.region === region ? v.dot.counter : 0)),
      ),
      base[region] ?? 0,
    );
    const now = isoTime(deps.clock.now());
    const version: DocumentVersion = {
      dot: { region, counter: known + 1 },
      context: sortedVector(base),
      content: request.content,
      written_at: now,
      written_by: region,
    };
    const slot: DocumentSlot = {
      key,
      region,
      // This region's earlier versions the new one has seen are replaced; the others stay siblings.
      versions: [...(own?.versions ?? []).filter((v) => !hasSeen(version.context, v)), version],
      revision: (own?.revision ?? 0) + 1,
      updated_at: now,
    };
    try {
      await deps.documents.putSlot(slot, own?.revision);
    } catch (error) {
      // Another writer in this region moved the slot first: read again and base on what it wrote.
      if (error instanceof ConflictError && error.code === 'DOCUMENT_CHANGED') continue;
      throw error;
    }
    const document = viewOf(key, [...slots.filter((s) => s.region !== region), slot]);
    const stale = unseen.length > 0;
    const noted = await noteConflict(deps, document, stale ? 'stale_write' : 'concurrent_writes');
    return { document, stale, ...(noted ? { conflict_id: noted.conflict_id } : {}) };
  }
  throw new ConflictError('DOCUMENT_CONTENDED', `document ${key} kept changing in ${region} while writing`);
}
