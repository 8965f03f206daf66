/**
 * The public HTTP API in one table: each route key (`METHOD /path`, as API Gateway spells it) with
 * the concern whose function serves it and who may call it. Everything that routes a request is
 * derived from it: the API Gateway routes (lib/infra/regional-api.ts), the local router
 * (lib/local/regional-api.ts, through `matchRoute`) and each handler's dispatch (`httpHandler` in
 * functions/shared/http.ts takes exactly its concern's keys, or it does not compile). A new route
 * is one entry here and its entry in the concern's handler. A route names its request (path
 * parameters, query, body: lib/app/request-spec.ts), which the dispatch parses before the handler runs.
 */
import type { RequestSpec } from './request-spec.ts';
import { COMPLIANCE_REQUESTS } from './requests/compliance.ts';
import { DATA_REQUESTS } from './requests/data.ts';
import { FAILOVERS_REQUESTS } from './requests/failovers.ts';
import { HEALTH_REQUESTS } from './requests/health.ts';
import { LATENCY_REQUESTS } from './requests/latency.ts';
import { MCP_REQUESTS } from './requests/mcp.ts';
import { OPS_REQUESTS } from './requests/ops.ts';
import { PRIVACY_REQUESTS } from './requests/privacy.ts';
import { REGIONS_REQUESTS } from './requests/regions.ts';
import { REPLICATION_REQUESTS } from './requests/replication.ts';
import { RESOURCES_REQUESTS } from './requests/resources.ts';
import { ROUTER_REQUESTS } from './requests/router.ts';

/** A Lambda function per concern; its code is `functions/<concern>/index.ts`. */
export type Concern =
  | 'router'
  | 'regions'
  | 'health'
  | 'failovers'
  | 'privacy'
  | 'compliance'
  | 'replication'
  | 'latency'
  | 'resources'
  | 'data'
  | 'mcp'
  | 'ops';

export const CONCERNS: readonly Concern[] = [
  'router',
  'regions',
  'health',
  'failovers',
  'privacy',
  'compliance',
  'replication',
  'latency',
  'resources',
  'data',
  'mcp',
  'ops',
];

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** What a route needs besides its key: who serves it, who may call it and what it takes. */
interface RouteSpec {
  readonly concern: Concern;
  /** `iam`: SigV4-signed callers only. `none`: Route 53 health checkers must reach it. */
  readonly auth: 'iam' | 'none';
  /** Its path parameters' checks and its query and body schemas, parsed before its handler runs. */
  readonly request?: RequestSpec;
}

/** Each request of `R` as a route of `C` that only SigV4-signed callers may call. */
type IamRoutes<C extends Concern, R> = {
  readonly [K in keyof R]: { readonly concern: C; readonly auth: 'iam'; readonly request: R[K] };
};

/** The table's entries for a concern's requests (lib/app/requests/*), in their order. */
function iamRoutes<C extends Concern, R extends Readonly<Record<string, RequestSpec>>>(
  concern: C,
  requests: R,
): IamRoutes<C, R> {
  return Object.fromEntries(
    Object.entries(requests).map(([key, request]) => [key, { concern, auth: 'iam', request }]),
  ) as IamRoutes<C, R>;
}

/**
 * Route key -> spec. A path's `{name}` segments are path parameters; a last `{name+}` takes the rest
 * of the path (slashes included). Keys are API Gateway's route keys, and the `routeKey` a handler
 * dispatches on.
 */
const ROUTE_TABLE = {
  ...iamRoutes('router', ROUTER_REQUESTS),
  'GET /v1/regions': { concern: 'regions', auth: 'iam' },
  ...iamRoutes('regions', REGIONS_REQUESTS),
  'GET /health': { concern: 'health', auth: 'none' },
  'GET /api/v1/ping': { concern: 'health', auth: 'none' },
  'GET /coordination/status': { concern: 'health', auth: 'iam' },
  // The three above in one request, for the peers' probes (lib/core/health/probe-bundle.ts).
  ...iamRoutes('health', HEALTH_REQUESTS),
  ...iamRoutes('failovers', FAILOVERS_REQUESTS),
  ...iamRoutes('privacy', PRIVACY_REQUESTS),
  ...iamRoutes('compliance', COMPLIANCE_REQUESTS),
  ...iamRoutes('replication', REPLICATION_REQUESTS),
  ...iamRoutes('latency', LATENCY_REQUESTS),
  'GET /v1/resources': { concern: 'resources', auth: 'iam' },
  // Usage reports; handoffs read back, and their lifecycle as the target region's workers drive it.
  ...iamRoutes('resources', RESOURCES_REQUESTS),
  // Selectively replicated data: each key in its policy's table for the region (lib/app/data.ts).
  ...iamRoutes('data', DATA_REQUESTS),
  // The MCP server registry and discovery (lib/app/mcp/registry.ts).
  ...iamRoutes('mcp', MCP_REQUESTS),
  // Operations: an operator's emergency shutdown and restore, the daily report (lib/app/ops).
  ...iamRoutes('ops', OPS_REQUESTS),
} as const satisfies Readonly<Record<`${HttpMethod} /${string}`, RouteSpec>>;

export type RouteKey = keyof typeof ROUTE_TABLE;

/** The route keys `concern` serves: what its handler must dispatch, no more and no fewer. */
export type RouteKeyOf<C extends Concern> = {
  [K in RouteKey]: (typeof ROUTE_TABLE)[K]['concern'] extends C ? K : never;
}[RouteKey];

/** The request route `K` declares, or undefined when its handler reads the event itself. */
export type RequestSpecOf<K extends RouteKey> = (typeof ROUTE_TABLE)[K] extends {
  readonly request: infer S extends RequestSpec;
}
  ? S
  : undefined;

/** The keys of `concern` that declare a request: its handler hands the dispatch their specs. */
export type RequestKeyOf<C extends Concern> = {
  [K in RouteKeyOf<C>]: RequestSpecOf<K> extends RequestSpec ? K : never;
}[RouteKeyOf<C>];

/** The path parameters a route key names: `PUT /v1/mcp/servers/{region}/{server}` -> `region | server`. */
export type PathParameterOf<K extends string> = K extends `${string}{${infer Name}}${infer Rest}`
  ? (Name extends `${infer Greedy}+` ? Greedy : Name) | PathParameterOf<Rest>
  : never;

/** A route as API Gateway takes it: method, path template, the concern serving it, auth. */
export interface ApiRoute extends RouteSpec {
  readonly method: HttpMethod;
  readonly path: string;
}

/** A route of the table: its key is `${method} ${path}`. */
export interface TableRoute extends ApiRoute {
  readonly key: RouteKey;
}

/** The table as a list, in its order. */
export const API_ROUTES: readonly TableRoute[] = Object.freeze(
  (Object.entries(ROUTE_TABLE) as [RouteKey, RouteSpec][]).map(([key, spec]) => {
    const space = key.indexOf(' ');
    return Object.freeze({
      key,
      method: key.slice(0, space) as HttpMethod,
      path: key.slice(space + 1),
      concern: spec.concern,
      auth: spec.auth,
    });
  }),
);

/**
 * The keys `concern` serves, in the table's order. Exported for the edge's check that each handler
 * dispatches exactly these (test/infra/http-edge.test.ts): the table is the contract.
 */
export function routeKeysOf<C extends Concern>(concern: C): readonly RouteKeyOf<C>[] {
  return API_ROUTES.filter((route) => route.concern === concern).map((route) => route.key as RouteKeyOf<C>);
}

interface RouteMatch {
  readonly route: TableRoute;
  readonly pathParameters: Record<string, string>;
}

/** Finds the route for a request path; `pathKnown` true means the path exists for other methods (405). */
export function matchRoute(
  method: string,
  path: string,
): RouteMatch | { route: undefined; pathKnown: boolean } {
  let pathKnown = false;
  for (const route of API_ROUTES) {
    const params = matchPath(route.path, path);
    if (!params) continue;
    pathKnown = true;
    if (route.method === method.toUpperCase()) return { route, pathParameters: params };
  }
  return { route: undefined, pathKnown };
}

function matchPath(template: string, path: string): Record<string, string> | undefined {
  const want = template.split('/');
  const got = path.split('/');
  const last = want[want.length - 1] ?? '';
  const greedy = last.startsWith('{') && last.endsWith('+}');
  if (greedy ? got.length < want.length : want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  if (greedy) {
    const rest = got.slice(want.length - 1);
    if (rest.some((segment) => segment === '')) return undefined;
    params[last.slice(1, -2)] = rest.map((segment) => decodeURIComponent(segment)).join('/');
    want.pop();
  }
  for (let i = 0; i < want.length; i++) {
    const w = want[i] ?? '';
    const g = got[i] ?? '';
    if (w.startsWith('{') && w.endsWith('}')) {
      if (g === '') return undefined;
      params[w.slice(1, -1)] = decodeURIComponent(g);
    } else if (w !== g) {
      return undefined;
    }
  }
  return params;
}

/**
 * The response header naming the region whose handlers answered. The local endpoints and gateway
 * set it (the gateway answers as whichever region DNS names); on AWS each region's API has its own
 * host (`execute-api.<region>.amazonaws.com`), which names the region instead.
 */
export const REGION_HEADER = 'x-cortex-region';
