import type { Wired } from '../../lib/app/deps.ts';
import type { RegionsDeps } from '../../lib/app/regions.ts';
import { availabilityPort, functionDeps, lambdaLogContext, resourcesPort } from '../../lib/runtime/lambda.ts';
import { createRegionsHandler } from './handler.ts';

// Every port the regions API reads when wired, or this does not compile.
const deps: Wired<RegionsDeps> = functionDeps('regions', {
  resources: resourcesPort,
  availability: availabilityPort,
});

export const handler = createRegionsHandler(deps).use(lambdaLogContext());
