/**
 * Request bodies and queries of the operations API, strict (unknown fields rejected, principle 10).
 * zod/mini keeps the Lambda bundle small. Parse with functions/shared/http.ts `parseWith`.
 */
import * as z from 'zod/mini';
import { MAX_DRAIN_TIMEOUT_SECONDS } from '../../core/ops/shutdown.ts';

/** `POST /v1/regions/{id}/emergency-shutdown` */
export const shutdownRequestSchema = z.strictObject({
  reason: z.string().check(z.trim(), z.minLength(1), z.maxLength(500)),
  /** The region id again: without it nothing happens. */
  confirm: z.optional(z.string().check(z.maxLength(64))),
  drain_timeout_seconds: z.optional(
    z
      .int()
      .check(
        z.gte(0, 'must be at least 0'),
        z.lte(MAX_DRAIN_TIMEOUT_SECONDS, `must be at most ${MAX_DRAIN_TIMEOUT_SECONDS}`),
      ),
  ),
});

/** `DELETE /v1/regions/{id}/emergency-shutdown` */
export const restoreRequestSchema = z.strictObject({
  confirm: z.optional(z.string().check(z.maxLength(64))),
  reason: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(500))),
});

/** `POST /v1/ops/reports`: a report on request; the CLI may hand in the cost model's figure. */
export const reportRequestSchema = z.strictObject({
  cost_estimate: z.optional(
    z.strictObject({
      total_usd: z.number().check(z.gte(0), z.lte(1e9)),
      computed_at: z.iso.datetime(),
      price_book: z.string().check(z.minLength(1), z.maxLength(100)),
    }),
  ),
});

/** `GET /v1/ops/reports` */
export const listReportsQuerySchema = z.strictObject({
  limit: z.optional(z.string().check(z.regex(/^\d{1,3}$/, 'must be a whole number from 1 to 500'))),
});

export { REPORT_ID_PATTERN } from '../../core/ops/daily-report.ts';
export { REGION_ID_PATTERN } from '../../core/topology/types.ts';
