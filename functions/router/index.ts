import { lambdaDeps, lambdaLogContext } from '../../lib/runtime/lambda.ts';
import { createRouterHandler } from './handler.ts';

export const handler = createRouterHandler(lambdaDeps()).use(lambdaLogContext());
