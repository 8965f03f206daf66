import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { FunctionDeps } from '../../lib/app/deps.ts';
import { rebalanceOnSchedule } from '../../lib/app/resources/rebalance.ts';

interface RebalancerOptions {
  /** One structured line per invocation; default stdout. */
  readonly log?: (line: string) => void;
}

type Outcome = Awaited<ReturnType<typeof rebalanceOnSchedule>>;

/**
 * The rebalancer, run by EventBridge Scheduler every `dynamic_rebalancing.interval_seconds` in every
 * region (lib/app/resources/rebalance.ts: only the first serving region in failover order acts). The
 * schedule's input is ignored.
 */
export function createRebalancerHandler(deps: FunctionDeps<'rebalancer'>, options: RebalancerOptions = {}) {
  const log = options.log ?? ((line: string) => console.log(line));
  return middy<unknown, Outcome, Error, Context>().handler(async () => {
    const outcome = await rebalanceOnSchedule(deps);
    log(JSON.stringify({ level: 'info', message: 'rebalance', ...outcome }));
    return outcome;
  });
}
