import { lambdaLogContext, privacyDeps } from '../../lib/runtime/lambda.ts';
import { createPrivacyHandler } from './handler.ts';

export const handler = createPrivacyHandler(privacyDeps()).use(lambdaLogContext());
