import { complianceDeps, lambdaObservability } from '../../lib/runtime/lambda.ts';
import { createComplianceAuditHandler } from './handler.ts';

const { logContext, log, metrics } = lambdaObservability();
export const handler = createComplianceAuditHandler(complianceDeps(), { log, metrics }).use(logContext);
