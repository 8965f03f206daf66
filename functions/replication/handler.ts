import type { FunctionDeps } from '../../lib/app/deps.ts';
import type { VersionVector } from '../../lib/app/edge.ts';
import { NotFoundError, ValidationError } from '../../lib/app/errors.ts';
import { CHECK_ID_PATTERN, runConsistencyCheck } from '../../lib/app/replication/consistency-check.ts';
import { readReplicationLag } from '../../lib/app/replication/monitor.ts';
import { getDocument, mergeDocument, putDocument } from '../../lib/app/replication/versioned-store.ts';
import type { RouteKeyWith } from '../../lib/app/routes.ts';
import {
  httpHandler,
  json,
  noQuery,
  optionalJsonBody,
  parseJsonBody,
  parseWith,
  pathParameter,
  type RoutedEvent,
} from '../shared/http.ts';
import {
  consistencyCheckRequestSchema,
  mergeDocumentRequestSchema,
  putDocumentRequestSchema,
} from './request.ts';

function checkId(event: RoutedEvent<RouteKeyWith<'replication', 'id'>>): string {
  return pathParameter(event, 'id', CHECK_ID_PATTERN, {
    field: 'check_id',
    what: 'consistency check id',
    example: 'a check id such as check-us-east-1-mfx2k3-0a1b2c3d',
  });
}

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
  return httpHandler('replication', deps.log, {
    'GET /v1/replication': async (event) => {
      noQuery(event);
      return json(200, await readReplicationLag(deps));
    },
    'POST /v1/replication/consistency-checks': async (event) => {
      const request = parseWith(consistencyCheckRequestSchema, optionalJsonBody(event), 'consistency check');
      return json(201, await runConsistencyCheck(deps, request, { trigger: 'api' }));
    },
    'GET /v1/replication/consistency-checks/{id}': async (event) => {
      const id = checkId(event);
      const record = await deps.replication(deps.regionId).getCheck(id);
      if (!record) throw new NotFoundError('consistency check', id);
      return json(200, record);
    },
    'GET /v1/documents/{key}': async (event) =>
      json(200, await getDocument(deps, event.pathParameters?.key ?? '')),
    'PUT /v1/documents/{key}': async (event) => {
      const body = withContent(parseWith(putDocumentRequestSchema, parseJsonBody(event), 'document'));
      return json(
        200,
        await putDocument(deps, event.pathParameters?.key ?? '', {
          content: body.content,
          ...(body.version === undefined ? {} : { version: body.version as VersionVector }),
        }),
      );
    },
    'POST /v1/documents/{key}/merge': async (event) => {
      const body = withContent(parseWith(mergeDocumentRequestSchema, parseJsonBody(event), 'merge'));
      return json(
        200,
        await mergeDocument(deps, event.pathParameters?.key ?? '', {
          content: body.content,
          version: body.version as VersionVector,
        }),
      );
    },
  });
}
