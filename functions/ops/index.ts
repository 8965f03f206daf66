import {
  availabilityPort,
  compliancePort,
  deploymentPort,
  documentsPort,
  eventsPort,
  functionDeps,
  latencyPort,
  opsPort,
  replicationPort,
  resourcesPort,
} from '../../lib/runtime/lambda.ts';
import { createOpsHandler } from './handler.ts';

export const handler = createOpsHandler(
  functionDeps('ops', {
    deployment: deploymentPort,
    compliance: compliancePort,
    latency: latencyPort,
    resources: resourcesPort,
    availability: availabilityPort,
    ops: opsPort,
    replication: replicationPort,
    documents: documentsPort,
    events: eventsPort,
  }),
);
