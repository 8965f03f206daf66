/**
 * The public HTTP API: one table used by the CDK stacks (one API Gateway route per entry, to the
 * concern's Lambda function) and by the local runtime (dispatch by method and path).
 */

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

export interface ApiRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /**
   * API Gateway route path; `{name}` segments are path parameters, a last `{name+}` takes the rest
   * of the path (slashes included).
   */
  readonly path: string;
  readonly concern: Concern;
  /** `iam`: SigV4-signed callers only. `none`: Route 53 health checkers must reach it. */
  readonly auth: 'iam' | 'none';
}

export const API_ROUTES: readonly ApiRoute[] = [
  { method: 'POST', path: '/v1/route', concern: 'router', auth: 'iam' },
  { method: 'GET', path: '/v1/regions', concern: 'regions', auth: 'iam' },
  { method: 'GET', path: '/v1/regions/{id}', concern: 'regions', auth: 'iam' },
  { method: 'GET', path: '/health', concern: 'health', auth: 'none' },
  { method: 'GET', path: '/api/v1/ping', concern: 'health', auth: 'none' },
  { method: 'GET', path: '/coordination/status', concern: 'health', auth: 'iam' },
  { method: 'POST', path: '/v1/failovers', concern: 'failovers', auth: 'iam' },
  { method: 'GET', path: '/v1/failovers', concern: 'failovers', auth: 'iam' },
  { method: 'GET', path: '/v1/failovers/{id}', concern: 'failovers', auth: 'iam' },
  { method: 'POST', path: '/v1/failovers/{id}/abort', concern: 'failovers', auth: 'iam' },
  { method: 'POST', path: '/v1/failovers/{id}/approve', concern: 'failovers', auth: 'iam' },
  { method: 'POST', path: '/v1/failovers/{id}/decline', concern: 'failovers', auth: 'iam' },
  { method: 'POST', path: '/v1/privacy/requests', concern: 'privacy', auth: 'iam' },
  { method: 'GET', path: '/v1/privacy/requests', concern: 'privacy', auth: 'iam' },
  { method: 'GET', path: '/v1/privacy/requests/{id}', concern: 'privacy', auth: 'iam' },
  { method: 'POST', path: '/v1/compliance/check', concern: 'compliance', auth: 'iam' },
  { method: 'POST', path: '/v1/compliance/audits', concern: 'compliance', auth: 'iam' },
  { method: 'GET', path: '/v1/compliance/audits', concern: 'compliance', auth: 'iam' },
  { method: 'GET', path: '/v1/compliance/audits/{id}', concern: 'compliance', auth: 'iam' },
  { method: 'GET', path: '/v1/replication', concern: 'replication', auth: 'iam' },
  { method: 'POST', path: '/v1/replication/consistency-checks', concern: 'replication', auth: 'iam' },
  { method: 'GET', path: '/v1/replication/consistency-checks/{id}', concern: 'replication', auth: 'iam' },
  { method: 'GET', path: '/v1/documents/{key}', concern: 'replication', auth: 'iam' },
  { method: 'PUT', path: '/v1/documents/{key}', concern: 'replication', auth: 'iam' },
  { method: 'POST', path: '/v1/documents/{key}/merge', concern: 'replication', auth: 'iam' },
  { method: 'GET', path: '/v1/latency', concern: 'latency', auth: 'iam' },
  { method: 'GET', path: '/v1/resources', concern: 'resources', auth: 'iam' },
  { method: 'PUT', path: '/v1/resources/{region}/usage', concern: 'resources', auth: 'iam' },
  // Handoffs read back, and their lifecycle as the target region's workers drive it.
  { method: 'GET', path: '/v1/handoffs', concern: 'resources', auth: 'iam' },
  { method: 'GET', path: '/v1/handoffs/{handoff_id}', concern: 'resources', auth: 'iam' },
  { method: 'POST', path: '/v1/handoffs/{handoff_id}/accept', concern: 'resources', auth: 'iam' },
  { method: 'POST', path: '/v1/handoffs/{handoff_id}/complete', concern: 'resources', auth: 'iam' },
  { method: 'POST', path: '/v1/handoffs/{handoff_id}/fail', concern: 'resources', auth: 'iam' },
  { method: 'POST', path: '/v1/rebalance', concern: 'resources', auth: 'iam' },
  // Selectively replicated data: each key in its policy's table for the region (lib/app/data.ts).
  { method: 'GET', path: '/v1/data', concern: 'data', auth: 'iam' },
  { method: 'PUT', path: '/v1/data/{key+}', concern: 'data', auth: 'iam' },
  { method: 'GET', path: '/v1/data/{key+}', concern: 'data', auth: 'iam' },
  { method: 'DELETE', path: '/v1/data/{key+}', concern: 'data', auth: 'iam' },
  // The MCP server registry and discovery (lib/app/mcp/registry.ts).
  { method: 'GET', path: '/v1/mcp/servers', concern: 'mcp', auth: 'iam' },
  { method: 'PUT', path: '/v1/mcp/servers/{region}/{server}', concern: 'mcp', auth: 'iam' },
  { method: 'DELETE', path: '/v1/mcp/servers/{region}/{server}', concern: 'mcp', auth: 'iam' },
  { method: 'GET', path: '/v1/mcp/discover', concern: 'mcp', auth: 'iam' },
  // Operations: an operator's emergency shutdown and restore, the daily report (lib/app/ops).
  { method: 'POST', path: '/v1/regions/{id}/emergency-shutdown', concern: 'ops', auth: 'iam' },
  { method: 'DELETE', path: '/v1/regions/{id}/emergency-shutdown', concern: 'ops', auth: 'iam' },
  { method: 'GET', path: '/v1/ops/incidents', concern: 'ops', auth: 'iam' },
  { method: 'POST', path: '/v1/ops/reports', concern: 'ops', auth: 'iam' },
  { method: 'GET', path: '/v1/ops/reports', concern: 'ops', auth: 'iam' },
  { method: 'GET', path: '/v1/ops/reports/{id}', concern: 'ops', auth: 'iam' },
];

export interface RouteMatch {
  readonly route: ApiRoute;
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
