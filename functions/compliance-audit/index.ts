import {
  archivePort,
  compliancePort,
  deploymentPort,
  eventsPort,
  functionDeps,
  lambdaObservability,
  selectivePort,
} from '../../lib/runtime/lambda.ts';
import { createComplianceAuditHandler } from './handler.ts';

const { logContext, log, metrics } = lambdaObservability();
export const handler = createComplianceAuditHandler(
  functionDeps('compliance-audit', {
    deployment: deploymentPort,
    compliance: compliancePort,
    selective: selectivePort,
    events: eventsPort,
    archive: archivePort,
  }),
  { log, metrics },
).use(logContext);
