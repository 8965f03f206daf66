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
import { createDailyReportHandler } from './handler.ts';

export const handler = createDailyReportHandler(
  functionDeps('ops-daily', {
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
