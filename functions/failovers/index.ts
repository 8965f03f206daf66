import {
  availabilityPort,
  compliancePort,
  deploymentPort,
  eventsPort,
  functionDeps,
  lambdaLogContext,
  latencyPort,
  mcpPort,
  probePort,
  replicaPort,
  resourcesPort,
  workflowPort,
} from '../../lib/runtime/lambda.ts';
import { createFailoversHandler } from './handler.ts';

export const handler = createFailoversHandler(
  functionDeps('failovers', {
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
).use(lambdaLogContext());
