import { complianceDeps } from '../../lib/runtime/lambda.ts';
import { createComplianceAuditHandler } from './handler.ts';

export const handler = createComplianceAuditHandler(complianceDeps());
