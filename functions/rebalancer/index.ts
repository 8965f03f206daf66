import type { Context } from 'aws-lambda';
import { lambdaObservability, resourcesDeps } from '../../lib/runtime/lambda.ts';
import { createRebalancerHandler } from './handler.ts';

let rebalancer: ReturnType<typeof createRebalancerHandler> | undefined;

/** Deps are built on the first invocation (no work at module scope). */
export const handler = (event: unknown, context: Context) => {
  if (!rebalancer) {
    const { logContext, log } = lambdaObservability();
    rebalancer = createRebalancerHandler(resourcesDeps(), { log }).use(logContext);
  }
  return rebalancer(event, context);
};
