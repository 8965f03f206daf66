import {
  availabilityPort,
  compliancePort,
  deploymentPort,
  eventsPort,
  functionDeps,
  lambdaObservability,
  latencyPort,
  mcpPort,
  probePort,
  replicaPort,
  resourcesPort,
  workflowPort,
} from '../../lib/runtime/lambda.ts';
import { createFailoverHandler } from './handler.ts';

const { logContext, metrics } = lambdaObservability();
export const handler = createFailoverHandler(
  functionDeps('failover', {
    deployment: deploymentPort,
    compliance: compliancePort,
    latency: latencyPort,
    resources: resourcesPort,
    availability: availabilityPort,
    mcp: mcpPort,
    replica: replicaPort,
    probe: probePort,
    workflow: workflowPort,
    events: eventsPort,
  }),
  { metrics },
).use(logContext);
