import { functionDeps, lambdaLogContext, selectivePort } from '../../lib/runtime/lambda.ts';
import { createDataHandler } from './handler.ts';

export const handler = createDataHandler(functionDeps('data', { selective: selectivePort })).use(
  lambdaLogContext(),
);
