/**
 * The data API's requests, strict (unknown fields and parameters rejected). zod/mini keeps the bundle
 * small. A record's key (the greedy path parameter) is checked by the use case (checkDataKey).
 */
import * as z from 'zod/mini';
import type { PathParameterSpec } from '../request-spec.ts';

/** `PUT /v1/data/{key+}`: the record's JSON object. */
export const putDataRequestSchema = z.strictObject({
  value: z.record(z.string(), z.unknown()),
});

/** `GET /v1/data` query: all optional; `limit` 1-1000 (default 100). */
export const listDataQuerySchema = z.strictObject({
  prefix: z.optional(z.string()),
  after: z.optional(z.string()),
  limit: z.optional(
    z.string().check(
      z.regex(/^\d{1,4}$/, 'must be a whole number from 1 to 1000'),
      z.refine((text) => Number(text) >= 1 && Number(text) <= 1000, 'must be a whole number from 1 to 1000'),
    ),
  ),
});

/** A record's routes take no query. */
const noQuery = z.strictObject({});

const key: PathParameterSpec = { field: 'key', example: 'a data key' };

/** Each route's request (lib/app/routes.ts). */
export const DATA_REQUESTS = {
  'GET /v1/data': { query: listDataQuerySchema },
  'PUT /v1/data/{key+}': {
    path: { key },
    query: noQuery,
    body: { schema: putDataRequestSchema, what: 'data' },
  },
  'GET /v1/data/{key+}': { path: { key }, query: noQuery },
  'DELETE /v1/data/{key+}': { path: { key }, query: noQuery },
} as const;
