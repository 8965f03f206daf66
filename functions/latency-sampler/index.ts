import type { Context } from 'aws-lambda';
import {
  eventsPort,
  functionDeps,
  lambdaObservability,
  latencyPort,
  probePort,
} from '../../lib/runtime/lambda.ts';
import { createLatencySamplerHandler, type LatencySamplerInput } from './handler.ts';

/** Deps are built on first use, so a bad environment fails the invocation, not the import. */
let sampler: ReturnType<typeof createLatencySamplerHandler> | undefined;

export const handler = (event: LatencySamplerInput, context: Context) => {
  if (!sampler) {
    const { logContext, log, metrics } = lambdaObservability();
    sampler = createLatencySamplerHandler(
      functionDeps('latency-sampler', { latency: latencyPort, probe: probePort, events: eventsPort }),
      { log, metrics },
    ).use(logContext);
  }
  return sampler(event, context);
};
