import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { runComplianceAudit } from '../../lib/app/compliance/audit.ts';
import type { ComplianceDeps } from '../../lib/app/compliance/deps.ts';
import { REGION_ID_PATTERN } from '../../lib/app/edge.ts';
import { auditMetrics, type MetricsPublisher } from '../../lib/app/metrics.ts';
import { parseWith } from '../shared/http.ts';

/**
 * The schedule's input. EventBridge Scheduler passes the schedule's `Input` (an EventBridge rule would
 * pass a Scheduled Event): other fields are ignored. `regions` lets an operator audit others too.
 */
const scheduledInputSchema = z.looseObject({
  regions: z.optional(z.array(z.string().check(z.regex(REGION_ID_PATTERN, 'must be a region id')))),
});

type ScheduledAuditInput = z.infer<typeof scheduledInputSchema> | null | undefined;

interface AuditInvocationReport {
  readonly audit_id: string;
  readonly status: string;
  readonly compliance_score: number;
  readonly total_violations: number;
  readonly violations_by_type: Readonly<Record<string, number>>;
}

/**
 * The daily compliance audit of a region (EventBridge Scheduler, every region): the report goes to
 * the state table and the bus (lib/app/compliance/audit.ts); the invocation logs one summary line.
 */
export function createComplianceAuditHandler(
  deps: ComplianceDeps,
  options: {
    readonly log?: (line: string) => void;
    /** Where the audit's residency violations and success rate go (lib/app/metrics.ts); default nowhere. */
    readonly metrics?: MetricsPublisher;
  } = {},
) {
  const log = options.log ?? ((line: string) => console.log(line));
  return middy<ScheduledAuditInput, AuditInvocationReport, Error, Context>().handler(async (event) => {
    const input = parseWith(scheduledInputSchema, event ?? {}, 'scheduled input', '(input)');
    const report = await runComplianceAudit(deps, {
      trigger: 'scheduled',
      ...(input.regions === undefined ? {} : { regions: input.regions }),
    });
    options.metrics?.publish(auditMetrics(report));
    const summary: AuditInvocationReport = {
      audit_id: report.audit_id,
      status: report.status,
      compliance_score: report.compliance_score,
      total_violations: report.total_violations,
      violations_by_type: report.violations_by_type,
    };
    log(
      JSON.stringify({
        level: report.total_violations > 0 ? 'warn' : 'info',
        message: 'compliance audit',
        ...summary,
      }),
    );
    return summary;
  });
}
