import { lambdaDeps, lambdaLogContext } from '../../lib/runtime/lambda.ts';
import { createHealthHandler } from './handler.ts';

export const handler = createHealthHandler(lambdaDeps()).use(lambdaLogContext());
