import type { Context } from 'aws-lambda';
import { functionDeps, lambdaObservability, mcpPort, mcpProbePort } from '../../lib/runtime/lambda.ts';
import { createMcpProbeHandler, type McpProbeInput } from './handler.ts';

/** Deps are built on first use, so a bad environment fails the invocation, not the import. */
let probe: ReturnType<typeof createMcpProbeHandler> | undefined;

export const handler = (event: McpProbeInput, context: Context) => {
  if (!probe) {
    const { logContext, log } = lambdaObservability();
    probe = createMcpProbeHandler(functionDeps('mcp-probe', { mcp: mcpPort, mcpProbe: mcpProbePort }), {
      log,
    }).use(logContext);
  }
  return probe(event, context);
};
