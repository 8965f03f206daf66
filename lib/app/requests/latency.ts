/** The latency API's requests, strict (unknown parameters rejected). zod/mini keeps the bundle small. */
import * as z from 'zod/mini';

/** `GET /v1/latency` query: a pair's end or both (each checked against the topology by the handler). */
const latencyQuerySchema = z.strictObject({
  from: z.optional(z.string()),
  to: z.optional(z.string()),
});

/** Each route's request (lib/app/routes.ts). */
export const LATENCY_REQUESTS = {
  'GET /v1/latency': { query: latencyQuerySchema },
} as const;
