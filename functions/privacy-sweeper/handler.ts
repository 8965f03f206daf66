import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import {
  type PrivacySweepReport,
  type SweepDeps,
  sweepPrivacyRequests,
} from '../../lib/app/privacy/sweep.ts';

interface PrivacySweeperOptions {
  /** One structured line per invocation; default stdout. */
  readonly log?: (line: string) => void;
}

/**
 * The privacy sweeper, run hourly by EventBridge Scheduler in every region: it retries the requests
 * this region owns that are not finished and reports overdue ones (lib/app/privacy/sweep.ts). The
 * schedule's input is ignored. The log line carries ids and statuses, never a subject id.
 */
export function createPrivacySweeperHandler(deps: SweepDeps, options: PrivacySweeperOptions = {}) {
  const log = options.log ?? ((line: string) => console.log(line));
  return middy<unknown, PrivacySweepReport, Error, Context>().handler(async () => {
    const report = await sweepPrivacyRequests(deps);
    log(JSON.stringify({ level: 'info', message: 'privacy sweep', ...report }));
    return report;
  });
}
