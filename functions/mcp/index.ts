import { lambdaDeps, lambdaLogContext } from '../../lib/runtime/lambda.ts';
import { createMcpHandler } from './handler.ts';

export const handler = createMcpHandler(lambdaDeps()).use(lambdaLogContext());
