import { functionDeps, operationsPortBuilders } from '../../lib/runtime/lambda.ts';
import { createOpsHandler } from './handler.ts';

export const handler = createOpsHandler(functionDeps('ops', operationsPortBuilders));
