/**
 * The failover API's query, strict (unknown parameters rejected); its bodies and the failover id are
 * the use case's (lib/app/failover/request.ts). zod/mini keeps the bundle small.
 */
import * as z from 'zod/mini';
import { REGION_ID_PATTERN } from '../../lib/app/edge.ts';

/** `GET /v1/failovers` query. */
export const listFailoversQuerySchema = z.strictObject({
  failed_region: z.optional(z.string().check(z.regex(REGION_ID_PATTERN, 'must be a region id'))),
  status: z.optional(
    z.enum(['running', 'awaiting_approval', 'completed', 'rolled_back', 'cancelled', 'failed']),
  ),
  limit: z.optional(z.string().check(z.regex(/^\d{1,3}$/, 'must be a whole number from 1 to 500'))),
});
