import type { Wired } from '../../lib/app/deps.ts';
import type { PrivacyDeps } from '../../lib/app/privacy/deps.ts';
import {
  eventsPort,
  functionDeps,
  lambdaLogContext,
  privacyPort,
  resourcesPort,
} from '../../lib/runtime/lambda.ts';
import { createPrivacyHandler } from './handler.ts';

// Every port the privacy API reads when wired (the pool an erasure releases), or this does not compile.
const deps: Wired<PrivacyDeps> = functionDeps('privacy', {
  resources: resourcesPort,
  privacy: privacyPort,
  events: eventsPort,
});

export const handler = createPrivacyHandler(deps).use(lambdaLogContext());
