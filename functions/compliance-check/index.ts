import { complianceDeps, lambdaLogContext } from '../../lib/runtime/lambda.ts';
import { createComplianceHandler } from './handler.ts';

export const handler = createComplianceHandler(complianceDeps()).use(lambdaLogContext());
