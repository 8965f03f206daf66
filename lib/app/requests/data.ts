/**
 * The data API's requests, strict (unknown fields and parameters rejected). zod/mini keeps the bundle
 * small. A record's key (the greedy path parameter) is checked by the use case (checkDataKey).
 */
import * as z from 'zod/mini';
import type { PathParameterSpec } from '../request-spec.ts';

/** `PUT /v1/data/{key+}`: the record's JSON object. */
const putDataRequestSchema = z.strictObject({
  value: z.record(z.string(), z.unknown()),
});

/** The most records one `GET /v1/data` page holds (docs/api.md and the CLI's `--limit` name it too). */
export const MAX_DATA_LIST_LIMIT = 1000;

const limitReason = `must be a whole number from 1 to ${MAX_DATA_LIST_LIMIT}`;

/** `GET /v1/data` query: all optional; `limit` 1 to MAX_DATA_LIST_LIMIT (default 100). */
const listDataQuerySchema = z.strictObject({
  prefix: z.optional(z.string()),
  after: z.optional(z.string()),
  limit: z.optional(
    z.string().check(
      z.regex(new RegExp(`^\\d{1,${String(MAX_DATA_LIST_LIMIT).length}}$`), limitReason),
      z.refine((text) => Number(text) >= 1 && Number(text) <= MAX_DATA_LIST_LIMIT, limitReason),
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
