import { controlPortBuilders, functionDeps, lambdaObservability } from '../../lib/runtime/lambda.ts';
import { createFailoverHandler } from './handler.ts';

const { logContext, metrics } = lambdaObservability();
export const handler = createFailoverHandler(functionDeps('failover', controlPortBuilders), { metrics }).use(
  logContext,
);
