import type { Wired } from '../../lib/app/deps.ts';
import type { HealthConcernDeps } from '../../lib/app/regions.ts';
import { functionDeps, lambdaLogContext, resourcesPort } from '../../lib/runtime/lambda.ts';
import { createHealthHandler } from './handler.ts';

// Every port the health concern reads when wired, or this does not compile.
const deps: Wired<HealthConcernDeps> = functionDeps('health', { resources: resourcesPort });

export const handler = createHealthHandler(deps).use(lambdaLogContext());
