import {
  compliancePort,
  deploymentPort,
  eventsPort,
  functionDeps,
  lambdaLogContext,
  selectivePort,
} from '../../lib/runtime/lambda.ts';
import { createComplianceHandler } from './handler.ts';

export const handler = createComplianceHandler(
  functionDeps('compliance', {
    deployment: deploymentPort,
    compliance: compliancePort,
    selective: selectivePort,
    events: eventsPort,
  }),
).use(lambdaLogContext());
