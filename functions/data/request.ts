/**
 * Request body of the data API, strict (unknown fields rejected). zod/mini keeps the bundle small.
 */
import * as z from 'zod/mini';

/** `PUT /v1/data/{key+}`: the record's JSON object. */
export const putDataRequestSchema = z.strictObject({
  value: z.record(z.string(), z.unknown()),
});
