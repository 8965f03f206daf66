import type { Wired } from '../../lib/app/deps.ts';
import type { ResourcesDeps } from '../../lib/app/resources/deps.ts';
import { eventsPort, functionDeps, lambdaLogContext, resourcesPort } from '../../lib/runtime/lambda.ts';
import { createResourcesHandler } from './handler.ts';

// Every port the resources API reads when wired, or this does not compile.
const deps: Wired<ResourcesDeps> = functionDeps('resources', {
  resources: resourcesPort,
  events: eventsPort,
});

export const handler = createResourcesHandler(deps).use(lambdaLogContext());
