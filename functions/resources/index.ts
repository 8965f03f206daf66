import { eventsPort, functionDeps, lambdaLogContext, resourcesPort } from '../../lib/runtime/lambda.ts';
import { createResourcesHandler } from './handler.ts';

export const handler = createResourcesHandler(
  functionDeps('resources', { resources: resourcesPort, events: eventsPort }),
).use(lambdaLogContext());
