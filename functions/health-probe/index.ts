import type { Context } from 'aws-lambda';
import type { ControlJobDeps, Wired } from '../../lib/app/deps.ts';
import {
  controlPortBuilders,
  functionDeps,
  lambdaObservability,
  witnessDeps,
} from '../../lib/runtime/lambda.ts';
import { createHealthProbeHandler, createWitnessProbeHandler, type ScheduledInput } from './handler.ts';

/**
 * Two entry points in one bundle: `index.handler` in every region, `index.witnessHandler` in each
 * witness's region. Each builds its deps on first use, so a witness never needs a region's environment.
 */
let regional: ReturnType<typeof createHealthProbeHandler> | undefined;
let witness: ReturnType<typeof createWitnessProbeHandler> | undefined;

export const handler = (event: ScheduledInput, context: Context) => {
  if (!regional) {
    const { logContext, log, metrics } = lambdaObservability();
    // Every port the probe round reads when wired, or this does not compile (the MCP servers'
    // endpoints are probed from the mesh's own function).
    const deps: Wired<Omit<ControlJobDeps, 'mcpProbe'>> = functionDeps('health-probe', controlPortBuilders);
    regional = createHealthProbeHandler(deps, { log, metrics }).use(logContext);
  }
  return regional(event, context);
};

export const witnessHandler = (event: ScheduledInput, context: Context) => {
  if (!witness) {
    // A witness publishes no metrics: the regions' own probes and alarms watch availability.
    const { logContext, log } = lambdaObservability();
    witness = createWitnessProbeHandler(witnessDeps(), { log }).use(logContext);
  }
  return witness(event, context);
};
