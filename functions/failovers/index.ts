import type { ControlJobDeps, Wired } from '../../lib/app/deps.ts';
import { controlPortBuilders, functionDeps, lambdaLogContext } from '../../lib/runtime/lambda.ts';
import { createFailoversHandler } from './handler.ts';

// Every port a failover's start reads when wired, or this does not compile.
const deps: Wired<Omit<ControlJobDeps, 'mcpProbe'>> = functionDeps('failovers', controlPortBuilders);

export const handler = createFailoversHandler(deps).use(lambdaLogContext());
