import type { Wired } from '../../lib/app/deps.ts';
import type { RouteDeps } from '../../lib/app/route-task.ts';
import {
  compliancePort,
  deploymentPort,
  functionDeps,
  lambdaLogContext,
  latencyPort,
  replicaPort,
  resourcesPort,
} from '../../lib/runtime/lambda.ts';
import { createRouterHandler } from './handler.ts';

// Every port routing reads when wired, or this does not compile.
const deps: Wired<RouteDeps> = functionDeps('router', {
  deployment: deploymentPort,
  compliance: compliancePort,
  latency: latencyPort,
  resources: resourcesPort,
  replica: replicaPort,
});

export const handler = createRouterHandler(deps).use(lambdaLogContext());
