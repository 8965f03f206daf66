import {
  availabilityPort,
  deploymentPort,
  eventsPort,
  functionDeps,
  lambdaLogContext,
  latencyPort,
  mcpPort,
  resourcesPort,
} from '../../lib/runtime/lambda.ts';
import { createMcpHandler } from './handler.ts';

export const handler = createMcpHandler(
  functionDeps('mcp', {
    deployment: deploymentPort,
    latency: latencyPort,
    resources: resourcesPort,
    availability: availabilityPort,
    mcp: mcpPort,
    events: eventsPort,
  }),
).use(lambdaLogContext());
