/**
 * One region's whole HTTP API as a single function: the local runtime's dispatcher. On AWS, API
 * Gateway does this dispatch and each concern is its own Lambda function (lib/infra). It builds the
 * handlers (functions/), so it belongs with a composition root: no use case may import the edge.
 */
import type { Context } from 'aws-lambda';
import { createComplianceHandler } from '../../functions/compliance-check/handler.ts';
import { createDataHandler } from '../../functions/data/handler.ts';
import { createFailoversHandler } from '../../functions/failovers/handler.ts';
import { createHealthHandler } from '../../functions/health/handler.ts';
import { createLatencyHandler } from '../../functions/latency/handler.ts';
import { createMcpHandler } from '../../functions/mcp/handler.ts';
import { createOpsHandler } from '../../functions/ops/handler.ts';
import { createPrivacyHandler } from '../../functions/privacy/handler.ts';
import { createRegionsHandler } from '../../functions/regions/handler.ts';
import { createReplicationHandler } from '../../functions/replication/handler.ts';
import { createResourcesHandler } from '../../functions/resources/handler.ts';
import { createRouterHandler } from '../../functions/router/handler.ts';
import {
  type ConcernHandler,
  type HttpEvent,
  type HttpResult,
  MethodNotAllowedError,
  RouteNotFoundError,
  toHttpError,
} from '../../functions/shared/http.ts';
import type { ControlDeps, FunctionDeps } from '../app/deps.ts';
import { ValidationError } from '../app/errors.ts';
import { type Concern, matchRoute } from '../app/routes.ts';

export type HttpHandler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

export type RegionalApi = (event: HttpEvent) => Promise<HttpResult>;

const LOCAL_CONTEXT = {
  functionName: 'cortex-local',
  callbackWaitsForEmptyEventLoop: false,
} as unknown as Context;

/** A region's whole API: every HTTP concern's ports, each required (the local root wires them all). */
export type RegionalApiDeps = ControlDeps & FunctionDeps<Concern>;

/** Each concern's handler, as each Lambda function builds it from its own deps. */
export function createConcernHandlers(deps: RegionalApiDeps): { readonly [C in Concern]: ConcernHandler<C> } {
  return {
    ...controlConcernHandlers(deps),
    privacy: createPrivacyHandler(deps),
    compliance: createComplianceHandler(deps),
    replication: createReplicationHandler(deps),
    latency: createLatencyHandler(deps),
    data: createDataHandler(deps),
    mcp: createMcpHandler(deps),
    ops: createOpsHandler(deps),
  };
}

/** The concerns a region's control ports serve on their own: routing, regions, health, failovers, resources. */
function controlConcernHandlers(deps: ControlDeps) {
  return {
    router: createRouterHandler(deps),
    regions: createRegionsHandler(deps),
    health: createHealthHandler(deps),
    failovers: createFailoversHandler(deps),
    resources: createResourcesHandler(deps),
  };
}

/** Routes an API Gateway v2 event to the concern's handler, as API Gateway would. */
export function createRegionalApi(deps: RegionalApiDeps): RegionalApi {
  return routeToHandlers(createConcernHandlers(deps));
}

/**
 * The API of a root that wires only the control ports (the simulator): the concerns those serve.
 * Another concern's routes answer 404, as API Gateway answers a route no function serves.
 */
export function createControlApi(deps: ControlDeps): RegionalApi {
  return routeToHandlers(controlConcernHandlers(deps));
}

/**
 * API Gateway's routing over `handlers` (the route table, API_ROUTES): the route key and path
 * parameters set, 404 for an unknown path, 405 for a known path with another method, 404 for a
 * concern not given. The statuses are toHttpError's, as every other answer's.
 */
export function routeToHandlers(handlers: Partial<Record<Concern, HttpHandler>>): RegionalApi {
  return async (event) => {
    const method = event.requestContext.http.method;
    let match: ReturnType<typeof matchRoute>;
    try {
      match = matchRoute(method, event.rawPath);
    } catch (error) {
      // A path parameter with malformed percent-encoding (`/v1/data/%`): the client's mistake.
      if (!(error instanceof URIError)) throw error;
      return toHttpError(
        new ValidationError('invalid path', [{ field: '(path)', reason: 'malformed percent-encoding' }]),
      );
    }
    if (!match.route) {
      return toHttpError(
        match.pathKnown
          ? new MethodNotAllowedError(`${method} is not allowed on ${event.rawPath}`)
          : new RouteNotFoundError(`no route for ${method} ${event.rawPath}`),
      );
    }
    const routed: HttpEvent = {
      ...event,
      routeKey: match.route.key,
      pathParameters: Object.keys(match.pathParameters).length > 0 ? match.pathParameters : undefined,
    };
    const handler = handlers[match.route.concern];
    if (!handler) return toHttpError(new RouteNotFoundError(`no handler for ${routed.routeKey}`));
    return handler(routed, LOCAL_CONTEXT);
  };
}
