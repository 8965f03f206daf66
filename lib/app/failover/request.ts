/**
 * Request bodies of the failover API, strict (unknown fields rejected, principle 10). zod/mini keeps
 * the Lambda bundles small. Parse with functions/shared/http.ts `parseWith`.
 */
import * as z from 'zod/mini';
import { REGION_ID_PATTERN as REGION_ID } from '../../core/topology/types.ts';

/** `POST /v1/failovers` */
export const startFailoverRequestSchema = z.strictObject({
  failed_region: z.string().check(z.regex(REGION_ID, 'must be a region id such as us-east-1')),
  target_region: z.optional(z.string().check(z.regex(REGION_ID, 'must be a region id such as eu-west-1'))),
  reason: z.string().check(z.trim(), z.minLength(1), z.maxLength(500)),
  action: z.optional(z.enum(['failover', 'failback'])),
  dry_run: z.optional(z.boolean()),
});

/** `POST /v1/failovers/{id}/abort|approve|decline`: the body is optional. */
export const operatorDecisionSchema = z.strictObject({
  /** Who decided, for the record (the caller's IAM identity is better when the edge has it). */
  by: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
  reason: z.optional(z.string().check(z.maxLength(500))),
});

/** The failover id in a path: `failover-<region>-e<epoch>` or `failback-<region>-e<epoch>`. */
export const FAILOVER_ID_PATTERN = /^(failover|failback)-[a-z]{2}(-[a-z]+)+-\d-e\d{1,12}$/;
