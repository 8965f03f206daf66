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

export const handler = createRouterHandler(
  functionDeps('router', {
    deployment: deploymentPort,
    compliance: compliancePort,
    latency: latencyPort,
    resources: resourcesPort,
    replica: replicaPort,
  }),
).use(lambdaLogContext());
