import {
  availabilityPort,
  compliancePort,
  deploymentPort,
  documentsPort,
  eventsPort,
  functionDeps,
  latencyPort,
  mcpPort,
  probePort,
  replicaPort,
  replicationPort,
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
    replication: replicationPort,
    documents: documentsPort,
  }),
);
