/**
 * One route table (lib/app/routes.ts) and three places that route by it: API Gateway in every
 * regional stack, the local router (lib/local/regional-api.ts) and each concern's handler dispatch
 * (httpHandler in functions/shared/http.ts); and the API page documents it. Table-driven: every place
 * serves exactly the table's routes, so no route is served in one place and missing in another.
 */
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { HttpResult } from '../../functions/shared/http.ts';
import { API_ROUTES, CONCERNS, type Concern, routeKeysOf, type TableRoute } from '../../lib/app/routes.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import {
  createConcernHandlers,
  type HttpHandler,
  type RegionalApiDeps,
  routeToHandlers,
} from '../../lib/local/regional-api.ts';
import { SimWorld } from '../../lib/sim/world.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { httpEvent, lambdaContext } from '../support/events.ts';
import { logicalId, useRegionalTemplates } from './build.ts';

const TABLE_KEYS = API_ROUTES.map((route) => route.key);
const sorted = (keys: readonly string[]) => [...keys].sort();

/** A request path for the route: `{name}` filled with one segment, a greedy `{name+}` with two. */
function pathOf(route: TableRoute): string {
  return route.path.replace(/\{(\w+)\+\}/, 'a/b').replace(/\{(\w+)\}/g, 'p-$1');
}

/** Each concern's handlers on the simulator's us-east-1, as the local plane builds them. */
function simHandlers() {
  const world = new SimWorld({ topology: validateTopology(defaultTopologyJson()), seed: 1 });
  // Quiet: a route called with placeholder input may fail in its use case (the simulator wires the
  // control ports only); only the dispatch is read here.
  return createConcernHandlers({ ...world.deps('us-east-1'), log: () => undefined } as RegionalApiDeps);
}

function body(result: HttpResult): { error?: { code: string; message: string } } {
  return JSON.parse(result.body ?? '{}');
}

describe('the route table', () => {
  it('has one entry per key, each key its method and path, every concern serving at least one', () => {
    expect(new Set(TABLE_KEYS).size).toBe(TABLE_KEYS.length);
    for (const route of API_ROUTES) expect(route.key).toBe(`${route.method} ${route.path}`);
    expect(sorted([...new Set(API_ROUTES.map((r) => r.concern))])).toEqual(sorted(CONCERNS));
  });
  // Route 53's health checkers cannot sign: only what they and liveness probes call is open.
  it('requires IAM (SigV4) on every route but /health and /api/v1/ping', () => {
    const open = API_ROUTES.filter((route) => route.auth === 'none').map((route) => route.key);
    expect(sorted(open)).toEqual(['GET /api/v1/ping', 'GET /health']);
  });
});

describe('docs/api.md', () => {
  it("has one row per route of the table, with its auth (the local gateway's own routes aside)", () => {
    const page = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
    const rows = [...page.matchAll(/^\| `([A-Z]+ \/[^`]*)`[^|]*\| ([^|]*?) +\|/gm)]
      .map(([, key = '', auth = '']) => ({ key, auth }))
      .filter((row) => row.auth !== 'local gateway only');
    expect(sorted(rows.map((row) => row.key))).toEqual(sorted(TABLE_KEYS));
    for (const row of rows) {
      const route = API_ROUTES.find((r) => r.key === row.key);
      expect(row.auth.startsWith('none') ? 'none' : row.auth, row.key).toBe(
        route?.auth === 'iam' ? 'IAM' : 'none',
      );
    }
  });
});

describe('API Gateway (every regional stack)', () => {
  const regional = useRegionalTemplates();

  it('routes exactly the table: each key once, to its concern function, with its auth', () => {
    regional.each((stack, template) => {
      const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route'));
      expect(sorted(routes.map((r) => r.Properties.RouteKey)), stack.stackName).toEqual(sorted(TABLE_KEYS));
      const integrations = template.findResources('AWS::ApiGatewayV2::Integration');
      for (const route of API_ROUTES) {
        const cfn = routes.find((r) => r.Properties.RouteKey === route.key);
        expect(cfn?.Properties.AuthorizationType, route.key).toBe(route.auth === 'iam' ? 'AWS_IAM' : 'NONE');
        const integration = integrations[cfn?.Properties.Target['Fn::Join'][1][1].Ref as string];
        expect(integration?.Properties, route.key).toMatchObject({
          IntegrationType: 'AWS_PROXY',
          IntegrationUri: {
            'Fn::GetAtt': [logicalId(stack.handlers[route.concern].function.node.defaultChild), 'Arn'],
          },
          PayloadFormatVersion: '2.0',
        });
      }
    });
  });
});

describe('the local router', () => {
  /** What the router hands each concern: the concern and the route key it set. */
  function recorder() {
    const seen: { concern: Concern; routeKey: string; params: unknown }[] = [];
    const handlers = Object.fromEntries(
      CONCERNS.map((concern): [Concern, HttpHandler] => [
        concern,
        async (event: APIGatewayProxyEventV2) => {
          seen.push({ concern, routeKey: event.routeKey, params: event.pathParameters });
          return { statusCode: 204 };
        },
      ]),
    ) as Record<Concern, HttpHandler>;
    return { seen, api: routeToHandlers(handlers) };
  }

  it('routes a request on each route of the table to its concern with its key, and nothing else', async () => {
    const { seen, api } = recorder();
    for (const route of API_ROUTES) {
      const result = await api(httpEvent({ method: route.method, path: pathOf(route) }));
      expect(result.statusCode, route.key).toBe(204);
      expect(seen.at(-1), route.key).toMatchObject({ concern: route.concern, routeKey: route.key });
    }
    expect(sorted(seen.map((s) => s.routeKey))).toEqual(sorted(TABLE_KEYS));
  });

  it('answers 405 for a route path with a method the table does not give it, 404 off the table', async () => {
    const { seen, api } = recorder();
    for (const route of API_ROUTES) {
      const others = (['GET', 'POST', 'PUT', 'DELETE'] as const).filter(
        (method) => !API_ROUTES.some((r) => r.method === method && r.path === route.path),
      );
      for (const method of others) {
        const result = await api(httpEvent({ method, path: pathOf(route) }));
        expect(result.statusCode, `${method} ${route.path}`).toBe(405);
        expect(body(result).error?.code).toBe('METHOD_NOT_ALLOWED');
      }
    }
    const off = await api(httpEvent({ method: 'GET', path: '/v1/not-a-route' }));
    expect([off.statusCode, body(off).error?.code]).toEqual([404, 'NOT_FOUND']);
    expect(seen).toEqual([]);
  });
});

describe("each concern's handler", () => {
  const handlers = simHandlers();

  it("dispatches exactly its concern's keys of the table", () => {
    for (const concern of CONCERNS) {
      expect(handlers[concern].concern).toBe(concern);
      expect(sorted(handlers[concern].routeKeys), concern).toEqual(sorted(routeKeysOf(concern)));
    }
    expect(sorted(CONCERNS.flatMap((c) => handlers[c].routeKeys))).toEqual(sorted(TABLE_KEYS));
  });

  it('answers every key of its own, and 404 for every key of another concern', async () => {
    for (const route of API_ROUTES) {
      for (const concern of CONCERNS) {
        const event = httpEvent({ method: route.method, path: pathOf(route), routePath: route.path });
        const result = await handlers[concern](event, lambdaContext);
        const unrouted = result.statusCode === 404 && body(result).error?.message === `no route ${route.key}`;
        expect(unrouted, `${concern} handler on ${route.key}`).toBe(concern !== route.concern);
      }
    }
  });
});
