import type { PrivacyDeps } from '../../lib/app/privacy/deps.ts';
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

/** The deps the privacy API uses; `privacy` may be missing where a runtime has no privacy records. */
export type PrivacyHandlerDeps = Omit<PrivacyDeps, 'privacy'> & Partial<Pick<PrivacyDeps, 'privacy'>>;

function requestId(event: RoutedEvent<RouteKeyWith<'privacy', 'id'>>): string {
  return pathParameter(event, 'id', PRIVACY_REQUEST_ID_PATTERN, {
    field: 'request_id',
    what: 'privacy request id',
    example: 'a request id such as dsr-<uuid>',
  });
}

function withPrivacy(deps: PrivacyHandlerDeps): PrivacyDeps {
  const { privacy } = deps;
  if (!privacy) throw new Error('privacy records are not configured in this runtime');
  return { ...deps, privacy };
}

/**
 * Data-subject requests: `POST /v1/privacy/requests` (201 when every region was searched, 202 when
 * some region is left to the sweeper), `GET /v1/privacy/requests`, `GET /v1/privacy/requests/{id}`.
 * A right the jurisdiction does not grant is a 422 naming the field (toHttpError).
 */
export function createPrivacyHandler(deps: PrivacyHandlerDeps, options: CreateOptions = {}) {
  return httpHandler('privacy', deps.log, {
    'POST /v1/privacy/requests': async (event) => {
      const body = parseWith(privacyRequestSchema, parseJsonBody(event), 'privacy request');
      const created = await createPrivacyRequest(withPrivacy(deps), body, options);
      return json(created.status === 'completed' ? 201 : 202, created);
    },
    'GET /v1/privacy/requests': async (event) => {
      const query = parseWith(privacyListQuerySchema, event.queryStringParameters ?? {}, 'query');
      const limit = listLimit(query.limit);
      return json(
        200,
        await listPrivacyRequests(withPrivacy(deps), {
          ...(query.status ? { status: query.status } : {}),
          ...(query.type ? { type: query.type } : {}),
          ...(query.subject_id ? { subject_id: query.subject_id } : {}),
          ...(limit === undefined ? {} : { limit }),
        }),
      );
    },
    'GET /v1/privacy/requests/{id}': async (event) =>
      json(200, await getPrivacyRequest(withPrivacy(deps), requestId(event))),
  });
}
