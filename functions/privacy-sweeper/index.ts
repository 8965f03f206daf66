import type { Context } from 'aws-lambda';
import type { Wired } from '../../lib/app/deps.ts';
import type { SweepDeps } from '../../lib/app/privacy/sweep.ts';
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
    // Every port a sweep reads when wired (the pool an erasure releases), or this does not compile.
    const deps: Wired<SweepDeps> = functionDeps('privacy-sweeper', {
      resources: resourcesPort,
      privacy: privacyPort,
      events: eventsPort,
    });
    sweeper = createPrivacySweeperHandler(deps, { log }).use(logContext);
  }
  return sweeper(event, context);
};
