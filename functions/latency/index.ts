import { lambdaDeps } from '../../lib/runtime/lambda.ts';
import { createLatencyHandler } from './handler.ts';

export const handler = createLatencyHandler(lambdaDeps());
