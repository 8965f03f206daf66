import { lambdaLogContext, resourcesDeps } from '../../lib/runtime/lambda.ts';
import { createResourcesHandler } from './handler.ts';

export const handler = createResourcesHandler(resourcesDeps()).use(lambdaLogContext());
