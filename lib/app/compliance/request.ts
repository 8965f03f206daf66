/**
 * Request bodies and queries of the compliance API, strict (unknown fields rejected, principle 10).
 * zod/mini keeps the Lambda bundles small. Parse with functions/shared/http.ts `parseWith`.
 */
import * as z from 'zod/mini';
import { APPROVAL_REF_PATTERN, APPROVAL_REF_RULE } from '../../core/compliance/types.ts';
import { REGION_ID_PATTERN as REGION_ID } from '../../core/topology/types.ts';

const TASK_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** `POST /v1/compliance/check` */
export const complianceCheckRequestSchema = z.strictObject({
  task_id: z.optional(z.string().check(z.regex(TASK_ID, 'must match ^[A-Za-z0-9._:-]{1,128}$'))),
  data_classification: z.enum(['public', 'internal', 'sensitive', 'pii']),
  /** A country code (any case, `UK` accepted) or a group of the topology (`EEA`). */
  user_location: z.string().check(z.minLength(2), z.maxLength(32)),
  target_region: z.optional(z.string().check(z.regex(REGION_ID, 'must be a region id such as eu-west-1'))),
  frameworks: z.optional(z.array(z.string().check(z.minLength(1), z.maxLength(32))).check(z.maxLength(16))),
  approval_ref: z.optional(z.string().check(z.regex(APPROVAL_REF_PATTERN, APPROVAL_REF_RULE))),
});

export type ComplianceCheckRequest = z.infer<typeof complianceCheckRequestSchema>;

/** `POST /v1/compliance/audits`: the body is optional; without `regions` every region is audited. */
export const auditRequestSchema = z.strictObject({
  regions: z.optional(
    z
      .array(z.string().check(z.regex(REGION_ID, 'must be a region id such as eu-west-1')))
      .check(z.minLength(1), z.maxLength(64)),
  ),
});

/** `GET /v1/compliance/audits` */
export const listAuditsQuerySchema = z.strictObject({
  region: z.optional(z.string().check(z.regex(REGION_ID, 'must be a region id such as eu-west-1'))),
  status: z.optional(z.enum(['compliant', 'needs_attention', 'non_compliant'])),
  limit: z.optional(z.string().check(z.regex(/^\d{1,3}$/, 'must be a whole number from 1 to 500'))),
});

/**
 * An audit id: `audit-<region>-<yyyymmdd>` for the daily run (one per region and day), and
 * `audit-<region>-<yyyymmdd>t<hhmmss>-<6 hex>` for one run on request.
 */
export const AUDIT_ID_PATTERN = /^audit-[a-z]{2}(-[a-z]+)+-\d-\d{8}(t\d{6}-[0-9a-f]{6})?$/;
