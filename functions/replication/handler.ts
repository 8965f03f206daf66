import type { FunctionDeps } from '../../lib/app/deps.ts';
import type { VersionVector } from '../../lib/app/edge.ts';
import { NotFoundError, ValidationError } from '../../lib/app/errors.ts';
import { runConsistencyCheck } from '../../lib/app/replication/consistency-check.ts';
import { readReplicationLag } from '../../lib/app/replication/monitor.ts';
import { getDocument, mergeDocument, putDocument } from '../../lib/app/replication/versioned-store.ts';
import { REPLICATION_REQUESTS } from '../../lib/app/requests/replication.ts';
import { httpHandler, json } from '../shared/http.ts';

/** The body must name `content` (z.unknown() lets a missing one through). */
function withContent<T extends { content?: unknown }>(body: T): T {
  if (body.content === undefined) {
    throw new ValidationError('invalid document', [
      { field: 'content', reason: 'required field is missing (expected a JSON value)' },
    ]);
  }
  return body;
}

/**
 * The replication API: `GET /v1/replication` (lag per pair), `POST /v1/replication/consistency-checks`
 * (201, the check's record), `GET /v1/replication/consistency-checks/{id}`, and the versioned documents
 * `GET|PUT /v1/documents/{key}`, `POST /v1/documents/{key}/merge`.
 */
export function createReplicationHandler(deps: FunctionDeps<'replication'>) {
  return httpHandler(
    'replication',
    deps.log,
    {
      'GET /v1/replication': async () => json(200, await readReplicationLag(deps)),
      'POST /v1/replication/consistency-checks': async (_event, { body }) =>
        json(201, await runConsistencyCheck(deps, body, { trigger: 'api' })),
      'GET /v1/replication/consistency-checks/{id}': async (_event, { path }) => {
        const record = await deps.replication(deps.regionId).getCheck(path.id);
        if (!record) throw new NotFoundError('consistency check', path.id);
        return json(200, record);
      },
      'GET /v1/documents/{key}': async (_event, { path }) => json(200, await getDocument(deps, path.key)),
      'PUT /v1/documents/{key}': async (_event, { path, body }) => {
        const document = withContent(body);
        return json(
          200,
          await putDocument(deps, path.key, {
            content: document.content,
            ...(document.version === undefined ? {} : { version: document.version as VersionVector }),
          }),
        );
      },
      'POST /v1/documents/{key}/merge': async (_event, { path, body }) => {
        const merge = withContent(body);
        return json(
          200,
          await mergeDocument(deps, path.key, {
            content: merge.content,
            version: merge.version as VersionVector,
          }),
        );
      },
    },
    REPLICATION_REQUESTS,
  );
}
