import type { Context } from 'aws-lambda';
import { resourcesDeps } from '../../lib/runtime/lambda.ts';
import { createRebalancerHandler } from './handler.ts';

let rebalancer: ReturnType<typeof createRebalancerHandler> | undefined;

/** Deps are built on the first invocation (no work at module scope). */
export const handler = (event: unknown, context: Context) => {
  rebalancer ??= createRebalancerHandler(resourcesDeps());
  return rebalancer(event, context);
};
