/**
 * The failover API's requests, strict (unknown fields and parameters rejected); the bodies and the
 * failover id are the use case's (lib/app/failover/request.ts). zod/mini keeps the bundle small.
 */
import * as z from 'zod/mini';
import { REGION_ID_PATTERN } from '../../core/topology/types.ts';
import {
  FAILOVER_ID_PATTERN,
  operatorDecisionSchema,
  startFailoverRequestSchema,
} from '../failover/request.ts';
import type { PathParameterSpec } from '../request-spec.ts';

/** `GET /v1/failovers` query. */
const listFailoversQuerySchema = z.strictObject({
  failed_region: z.optional(z.string().check(z.regex(REGION_ID_PATTERN, 'must be a region id'))),
  status: z.optional(
    z.enum(['running', 'awaiting_approval', 'completed', 'rolled_back', 'cancelled', 'failed']),
  ),
  limit: z.optional(z.string().check(z.regex(/^\d{1,3}$/, 'must be a whole number from 1 to 500'))),
});

const id: PathParameterSpec = {
  pattern: FAILOVER_ID_PATTERN,
  field: 'failover_id',
  what: 'failover id',
  example: 'a failover id such as failover-us-east-1-e0',
};

/** The decision endpoints take an optional body (`by`, `reason`). */
const decision = { schema: operatorDecisionSchema, what: 'decision', optional: true } as const;

/** Each route's request (lib/app/routes.ts). */
export const FAILOVERS_REQUESTS = {
  'POST /v1/failovers': { body: { schema: startFailoverRequestSchema, what: 'failover request' } },
  'GET /v1/failovers': { query: listFailoversQuerySchema },
  'GET /v1/failovers/{id}': { path: { id } },
  'POST /v1/failovers/{id}/abort': { path: { id }, body: decision },
  'POST /v1/failovers/{id}/approve': { path: { id }, body: decision },
  'POST /v1/failovers/{id}/decline': { path: { id }, body: decision },
} as const;
