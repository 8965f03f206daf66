import { lambdaDeps, lambdaLogContext } from '../../lib/runtime/lambda.ts';
import { createRegionsHandler } from './handler.ts';

export const handler = createRegionsHandler(lambdaDeps()).use(lambdaLogContext());
