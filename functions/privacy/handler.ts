import type { DepsWith, Ports } from '../../lib/app/deps.ts';
import {
  PRIVACY_REQUEST_ID_PATTERN,
  privacyListQuerySchema,
  privacyRequestSchema,
} from '../../lib/app/privacy/request.ts';
import {
  type CreateOptions,
  createPrivacyRequest,
  getPrivacyRequest,
  listPrivacyRequests,
} from '../../lib/app/privacy/requests.ts';
import type { RouteKeyWith } from '../../lib/app/routes.ts';
import {
  httpHandler,
  json,
  listLimit,
  parseJsonBody,
  parseWith,
  pathParameter,
  type RoutedEvent,
} from '../shared/http.ts';

function requestId(event: RoutedEvent<RouteKeyWith<'privacy', 'id'>>): string {
  return pathParameter(event, 'id', PRIVACY_REQUEST_ID_PATTERN, {
    field: 'request_id',
    what: 'privacy request id',
    example: 'a request id such as dsr-<uuid>',
  });
}

/**
 * Data-subject requests: `POST /v1/privacy/requests` (201 when every region was searched, 202 when
 * some region is left to the sweeper), `GET /v1/privacy/requests`, `GET /v1/privacy/requests/{id}`.
 * A right the jurisdiction does not grant is a 422 naming the field (toHttpError).
 */
/**
 * The privacy API's ports: its records and the bus, required; the resource pool when the root has one
 * (an erasure gives back the reservation of a handoff it deletes, and a runtime without a pool holds none).
 */
export type PrivacyHandlerDeps = DepsWith<'privacy' | 'events'> & Partial<Pick<Ports, 'resources'>>;

export function createPrivacyHandler(deps: PrivacyHandlerDeps, options: CreateOptions = {}) {
  return httpHandler('privacy', deps.log, {
    'POST /v1/privacy/requests': async (event) => {
      const body = parseWith(privacyRequestSchema, parseJsonBody(event), 'privacy request');
      const created = await createPrivacyRequest(deps, body, options);
      return json(created.status === 'completed' ? 201 : 202, created);
    },
    'GET /v1/privacy/requests': async (event) => {
      const query = parseWith(privacyListQuerySchema, event.queryStringParameters ?? {}, 'query');
      const limit = listLimit(query.limit);
      return json(
        200,
        await listPrivacyRequests(deps, {
          ...(query.status ? { status: query.status } : {}),
          ...(query.type ? { type: query.type } : {}),
          ...(query.subject_id ? { subject_id: query.subject_id } : {}),
          ...(limit === undefined ? {} : { limit }),
        }),
      );
    },
    'GET /v1/privacy/requests/{id}': async (event) =>
      json(200, await getPrivacyRequest(deps, requestId(event))),
  });
}
