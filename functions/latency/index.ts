import { lambdaDeps, lambdaLogContext } from '../../lib/runtime/lambda.ts';
import { createLatencyHandler } from './handler.ts';

export const handler = createLatencyHandler(lambdaDeps()).use(lambdaLogContext());
