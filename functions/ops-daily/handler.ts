import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import type { FunctionDeps } from '../../lib/app/deps.ts';
import { runDailyReport } from '../../lib/app/ops/daily-report.ts';
import { parseWith, scheduledEvent } from '../shared/http.ts';

/** The schedule's input carries nothing the report needs; other fields are ignored. */
const scheduledInputSchema = z.looseObject({});

interface DailyReportInvocation {
  readonly report_id: string;
  readonly status: string;
  readonly checks: Readonly<Record<string, string>>;
}

/**
 * The daily operations report of a region (EventBridge Scheduler, every region): the report goes to
 * the state table and the bus (lib/app/ops/daily-report.ts); the invocation logs one summary line.
 */
export function createDailyReportHandler(
  deps: FunctionDeps<'ops-daily'>,
  options: { readonly log?: (line: string) => void } = {},
) {
  const log = options.log ?? ((line: string) => console.log(line));
  return middy<unknown, DailyReportInvocation, Error, Context>().handler(async (event) => {
    parseWith(scheduledInputSchema, scheduledEvent(event), 'scheduled input', '(input)');
    const report = await runDailyReport(deps, { trigger: 'scheduled' });
    const summary: DailyReportInvocation = {
      report_id: report.report_id,
      status: report.status,
      checks: Object.fromEntries(Object.entries(report.checks).map(([name, check]) => [name, check.status])),
    };
    log(
      JSON.stringify({
        level: report.status === 'ok' ? 'info' : 'warn',
        message: 'daily operations report',
        ...summary,
      }),
    );
    return summary;
  });
}
