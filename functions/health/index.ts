import { functionDeps, lambdaLogContext, resourcesPort } from '../../lib/runtime/lambda.ts';
import { createHealthHandler } from './handler.ts';

export const handler = createHealthHandler(functionDeps('health', { resources: resourcesPort })).use(
  lambdaLogContext(),
);
