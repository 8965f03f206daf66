import type { Context } from 'aws-lambda';
import { privacyDeps } from '../../lib/runtime/lambda.ts';
import { createPrivacySweeperHandler } from './handler.ts';

let sweeper: ReturnType<typeof createPrivacySweeperHandler> | undefined;

/** Deps are built on the first invocation (no work at module scope). */
export const handler = (event: unknown, context: Context) => {
  sweeper ??= createPrivacySweeperHandler(privacyDeps());
  return sweeper(event, context);
};
