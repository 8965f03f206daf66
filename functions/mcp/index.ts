import { lambdaDeps } from '../../lib/runtime/lambda.ts';
import { createMcpHandler } from './handler.ts';

export const handler = createMcpHandler(lambdaDeps());
