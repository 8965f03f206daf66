/**
 * Request body of the data API, strict (unknown fields rejected). zod/mini keeps the bundle small.
 */
import * as z from 'zod/mini';

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
