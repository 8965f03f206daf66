import {
  availabilityPort,
  compliancePort,
  deploymentPort,
  eventsPort,
  functionDeps,
  latencyPort,
  mcpPort,
  probePort,
  replicaPort,
  resourcesPort,
  workflowPort,
} from '../../lib/runtime/lambda.ts';
import { createDrHandler } from './handler.ts';

export const handler = createDrHandler(
  functionDeps('dr', {
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
);
