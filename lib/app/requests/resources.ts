/**
 * The resources API's requests (usage, settlement, handoffs, rebalance), strict (unknown fields and
 * parameters rejected). zod/mini keeps the bundle small.
 */
import * as z from 'zod/mini';
import { REGION_ID_PATTERN as REGION_ID } from '../../core/topology/types.ts';
import { HANDOFF_LIST_MAX } from '../handoffs/lifecycle.ts';
import type { PathParameterSpec } from '../request-spec.ts';

/** `{handoff_id}` of the handoff routes. */
const HANDOFF_ID = /^[A-Za-z0-9._:-]{1,200}$/;

const amount = z.int().check(z.minimum(0), z.maximum(1_000_000_000_000));

/** `PUT /v1/resources/{region}/usage` body. */
const usageSchema = z.strictObject({
  workers: amount,
  tokens_used: amount,
  compute_units: amount,
});

/** `POST /v1/handoffs/{handoff_id}/complete|fail` optional body. */
const settleSchema = z.strictObject({
  actual_tokens: z.optional(amount),
  reason: z.optional(z.string().check(z.minLength(1), z.maxLength(500))),
});

const HANDOFF_STATUSES = ['pending', 'accepted', 'completed', 'failed', 'redirected'] as const;

/** `GET /v1/handoffs` query. */
const listHandoffsQuerySchema = z.strictObject({
  region: z.optional(z.string().check(z.regex(REGION_ID, 'must be a region id such as us-east-1'))),
  status: z.optional(z.enum(HANDOFF_STATUSES)),
  after: z.optional(z.string().check(z.minLength(1), z.maxLength(600))),
  limit: z.optional(
    z.string().check(
      z.regex(/^\d{1,3}$/, `must be a whole number from 1 to ${HANDOFF_LIST_MAX}`),
      z.refine(
        (text) => Number(text) >= 1 && Number(text) <= HANDOFF_LIST_MAX,
        `must be a whole number from 1 to ${HANDOFF_LIST_MAX}`,
      ),
    ),
  ),
});

/** `POST /v1/handoffs/{handoff_id}/accept` optional body. */
const acceptSchema = z.strictObject({
  worker: z.optional(
    z.string().check(z.regex(/^[A-Za-z0-9._:@/-]{1,128}$/, 'must be 1-128 letters, digits or ._:@/-')),
  ),
});

/** `POST /v1/rebalance` optional body. */
const rebalanceSchema = z.strictObject({
  dry_run: z.optional(z.boolean()),
  /** Plans even when `dynamic_rebalancing.enabled` is false (an operator's explicit request). */
  force: z.optional(z.boolean()),
});

const region: PathParameterSpec = {
  pattern: REGION_ID,
  field: 'region',
  example: 'a region id such as us-east-1',
};

const handoffId: PathParameterSpec = { pattern: HANDOFF_ID, field: 'handoff_id', example: 'a handoff id' };

const settlement = { schema: settleSchema, what: 'settlement', optional: true } as const;

/** Each route's request (lib/app/routes.ts). */
export const RESOURCES_REQUESTS = {
  'PUT /v1/resources/{region}/usage': {
    path: { region },
    body: { schema: usageSchema, what: 'usage report' },
  },
  'GET /v1/handoffs': { query: listHandoffsQuerySchema },
  'GET /v1/handoffs/{handoff_id}': { path: { handoff_id: handoffId } },
  'POST /v1/handoffs/{handoff_id}/accept': {
    path: { handoff_id: handoffId },
    body: { schema: acceptSchema, what: 'accept request', optional: true },
  },
  'POST /v1/handoffs/{handoff_id}/complete': { path: { handoff_id: handoffId }, body: settlement },
  'POST /v1/handoffs/{handoff_id}/fail': { path: { handoff_id: handoffId }, body: settlement },
  'POST /v1/rebalance': { body: { schema: rebalanceSchema, what: 'rebalance request', optional: true } },
} as const;
