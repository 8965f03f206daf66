import type { Context } from 'aws-lambda';
import { eventsPort, functionDeps, lambdaObservability, resourcesPort } from '../../lib/runtime/lambda.ts';
import { createRebalancerHandler } from './handler.ts';

let rebalancer: ReturnType<typeof createRebalancerHandler> | undefined;

/** Deps are built on the first invocation (no work at module scope). */
export const handler = (event: unknown, context: Context) => {
  if (!rebalancer) {
    const { logContext, log } = lambdaObservability();
    rebalancer = createRebalancerHandler(
      functionDeps('rebalancer', { resources: resourcesPort, events: eventsPort }),
      { log },
    ).use(logContext);
  }
  return rebalancer(event, context);
};
