import { availabilityPort, functionDeps, lambdaLogContext, resourcesPort } from '../../lib/runtime/lambda.ts';
import { createRegionsHandler } from './handler.ts';

export const handler = createRegionsHandler(
  functionDeps('regions', { resources: resourcesPort, availability: availabilityPort }),
).use(lambdaLogContext());
