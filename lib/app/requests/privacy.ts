/** The privacy API's requests: the schemas are the use case's (lib/app/privacy/request.ts). */
import {
  PRIVACY_REQUEST_ID_PATTERN,
  privacyListQuerySchema,
  privacyRequestSchema,
} from '../privacy/request.ts';
import type { PathParameterSpec } from '../request-spec.ts';

const id: PathParameterSpec = {
  pattern: PRIVACY_REQUEST_ID_PATTERN,
  field: 'request_id',
  what: 'privacy request id',
  example: 'a request id such as dsr-<uuid>',
};

/** Each route's request (lib/app/routes.ts). */
export const PRIVACY_REQUESTS = {
  'POST /v1/privacy/requests': { body: { schema: privacyRequestSchema, what: 'privacy request' } },
  'GET /v1/privacy/requests': { query: privacyListQuerySchema },
  'GET /v1/privacy/requests/{id}': { path: { id } },
} as const;
