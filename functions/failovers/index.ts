import { controlPortBuilders, functionDeps, lambdaLogContext } from '../../lib/runtime/lambda.ts';
import { createFailoversHandler } from './handler.ts';

export const handler = createFailoversHandler(functionDeps('failovers', controlPortBuilders)).use(
  lambdaLogContext(),
);
