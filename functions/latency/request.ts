/** `GET /v1/latency` query, strict (unknown parameters rejected). zod/mini keeps the bundle small. */
import * as z from 'zod/mini';

export const latencyQuerySchema = z.strictObject({
  from: z.optional(z.string()),
  to: z.optional(z.string()),
});
