import { functionDeps, lambdaLogContext, latencyPort } from '../../lib/runtime/lambda.ts';
import { createLatencyHandler } from './handler.ts';

export const handler = createLatencyHandler(functionDeps('latency', { latency: latencyPort })).use(
  lambdaLogContext(),
);
