import type { Context } from 'aws-lambda';
import {
  eventsPort,
  functionDeps,
  lambdaObservability,
  privacyPort,
  resourcesPort,
} from '../../lib/runtime/lambda.ts';
import { createPrivacySweeperHandler } from './handler.ts';

let sweeper: ReturnType<typeof createPrivacySweeperHandler> | undefined;

/** Deps are built on the first invocation (no work at module scope). */
export const handler = (event: unknown, context: Context) => {
  if (!sweeper) {
    const { logContext, log } = lambdaObservability();
    sweeper = createPrivacySweeperHandler(
      functionDeps('privacy-sweeper', { resources: resourcesPort, privacy: privacyPort, events: eventsPort }),
      { log },
    ).use(logContext);
  }
  return sweeper(event, context);
};
