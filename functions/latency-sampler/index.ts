import type { Context } from 'aws-lambda';
import { latencySamplerDeps } from '../../lib/runtime/lambda.ts';
import { createLatencySamplerHandler, type LatencySamplerInput } from './handler.ts';

/** Deps are built on first use, so a bad environment fails the invocation, not the import. */
let sampler: ReturnType<typeof createLatencySamplerHandler> | undefined;

export const handler = (event: LatencySamplerInput, context: Context) => {
  sampler ??= createLatencySamplerHandler(latencySamplerDeps());
  return sampler(event, context);
};
