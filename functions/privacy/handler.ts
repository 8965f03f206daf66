import type { PrivacyDeps } from '../../lib/app/privacy/deps.ts';
import {
  type CreateOptions,
  createPrivacyRequest,
  getPrivacyRequest,
  listPrivacyRequests,
} from '../../lib/app/privacy/requests.ts';
import { PRIVACY_REQUESTS } from '../../lib/app/requests/privacy.ts';
import { httpHandler, json, listLimit } from '../shared/http.ts';

/**
 * Data-subject requests: `POST /v1/privacy/requests` (201 when every region was searched, 202 when
 * some region is left to the sweeper), `GET /v1/privacy/requests`, `GET /v1/privacy/requests/{id}`.
 * A right the jurisdiction does not grant is a 422 naming the field (toHttpError).
 */
export function createPrivacyHandler(deps: PrivacyDeps, options: CreateOptions = {}) {
  return httpHandler(
    'privacy',
    deps.log,
    {
      'POST /v1/privacy/requests': async (_event, { body }) => {
        const created = await createPrivacyRequest(deps, body, options);
        return json(created.status === 'completed' ? 201 : 202, created);
      },
      'GET /v1/privacy/requests': async (_event, { query }) => {
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
      'GET /v1/privacy/requests/{id}': async (_event, { path }) =>
        json(200, await getPrivacyRequest(deps, path.id)),
    },
    PRIVACY_REQUESTS,
  );
}
