/** The router's request, strict (unknown fields rejected). zod/mini keeps the bundle small. */
import * as z from 'zod/mini';
import { APPROVAL_REF_PATTERN, APPROVAL_REF_RULE } from '../../core/compliance/types.ts';
import { SUBJECT_ID_PATTERN } from '../../core/privacy/rules.ts';
import { ERASURE_EXCEPTIONS } from '../../core/privacy/types.ts';

const TASK_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

const count = (max: number) => z.number().check(z.int(), z.minimum(0), z.maximum(max));

/** `POST /v1/route` body: strict, unknown fields rejected (DESIGN principle 10). */
const routeRequestSchema = z.strictObject({
  task_id: z.string().check(z.regex(TASK_ID_PATTERN, 'must match ^[A-Za-z0-9._:-]{1,128}$')),
  priority: z.optional(z.enum(['low', 'normal', 'high', 'critical'])),
  /** The data subject the task processes (GDPR rights: found, exported or erased by subject). */
  subject_id: z.optional(
    z.string().check(z.regex(SUBJECT_ID_PATTERN, 'must match ^[A-Za-z0-9._:@-]{1,128}$')),
  ),
  /** Keeps the task's records through an erasure when the jurisdiction's policy lists the basis. */
  legal_hold: z.optional(
    z.strictObject({
      basis: z.enum(ERASURE_EXCEPTIONS),
      reason: z.string().check(z.minLength(1), z.maxLength(256)),
    }),
  ),
  source: z.optional(
    z.strictObject({
      region: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
      country: z.optional(z.string().check(z.minLength(2), z.maxLength(8))),
    }),
  ),
  requirements: z.optional(
    z.strictObject({
      compliance: z.optional(z.array(z.string().check(z.maxLength(32))).check(z.maxLength(16))),
      data_residency: z.optional(z.string().check(z.minLength(2), z.maxLength(32))),
      data_classification: z.optional(z.enum(['public', 'internal', 'sensitive', 'pii'])),
      approval_ref: z.optional(z.string().check(z.regex(APPROVAL_REF_PATTERN, APPROVAL_REF_RULE))),
      latency_sensitive: z.optional(z.boolean()),
      max_latency_ms: z.optional(z.number().check(z.positive(), z.maximum(60_000))),
      capabilities: z.optional(z.array(z.string().check(z.maxLength(32))).check(z.maxLength(16))),
      workers: z.optional(count(10_000)),
      estimated_tokens: z.optional(count(1_000_000_000)),
      compute_units: z.optional(count(1_000_000)),
    }),
  ),
});

/** Each route's request (lib/app/routes.ts). */
export const ROUTER_REQUESTS = {
  'POST /v1/route': { body: { schema: routeRequestSchema, what: 'route request' } },
} as const;
