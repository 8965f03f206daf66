import type { ControlJobDeps, Wired } from '../../lib/app/deps.ts';
import { controlPortBuilders, functionDeps, lambdaObservability } from '../../lib/runtime/lambda.ts';
import { createFailoverHandler } from './handler.ts';

const { logContext, metrics } = lambdaObservability();
// Every port the failover steps read when wired, or this does not compile (the MCP servers'
// endpoints are probed from the mesh's own function).
const deps: Wired<Omit<ControlJobDeps, 'mcpProbe'>> = functionDeps('failover', controlPortBuilders);

export const handler = createFailoverHandler(deps, { metrics }).use(logContext);
