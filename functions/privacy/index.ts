import {
  eventsPort,
  functionDeps,
  lambdaLogContext,
  privacyPort,
  resourcesPort,
} from '../../lib/runtime/lambda.ts';
import { createPrivacyHandler } from './handler.ts';

export const handler = createPrivacyHandler(
  functionDeps('privacy', { resources: resourcesPort, privacy: privacyPort, events: eventsPort }),
).use(lambdaLogContext());
