import type { FunctionDeps } from '../../lib/app/deps.ts';
import { REGION_ID_PATTERN } from '../../lib/app/edge.ts';
import {
  deregisterMcpServer,
  discoverMcp,
  listMcpServers,
  registerMcpServer,
  SERVER_NAME_PATTERN,
} from '../../lib/app/mcp/registry.ts';
import type { RouteKeyWith } from '../../lib/app/routes.ts';
import {
  httpHandler,
  json,
  parseJsonBody,
  parseWith,
  pathParameter,
  type RoutedEvent,
} from '../shared/http.ts';
import { discoverQuerySchema, listServersQuerySchema, registrationSchema } from './request.ts';

/**
 * The MCP registry API (docs/mcp.md): `GET /v1/mcp/servers[?region=&capability=]` the registry with
 * each server's live state; `GET /v1/mcp/discover?capability=[&region=&data_classification=&min_version=]`
 * the server an agent should use, or 404/422 with every reason; `PUT|DELETE
 * /v1/mcp/servers/{region}/{server}` register and deregister.
 */
export function createMcpHandler(deps: FunctionDeps<'mcp'>) {
  return httpHandler('mcp', deps.log, {
    'GET /v1/mcp/servers': async (event) => {
      const query = parseWith(listServersQuerySchema, event.queryStringParameters ?? {}, 'query');
      const servers = await listMcpServers(deps, {
        ...(query.region === undefined ? {} : { region: query.region }),
        ...(query.capability === undefined ? {} : { capability: query.capability }),
      });
      return json(200, { observer: deps.regionId, servers });
    },
    'GET /v1/mcp/discover': async (event) => {
      const query = parseWith(discoverQuerySchema, event.queryStringParameters ?? {}, 'query');
      return json(
        200,
        await discoverMcp(deps, {
          capability: query.capability,
          ...(query.region === undefined ? {} : { region: query.region }),
          ...(query.data_classification === undefined
            ? {}
            : { data_classification: query.data_classification }),
          ...(query.min_version === undefined ? {} : { min_version: query.min_version }),
        }),
      );
    },
    'PUT /v1/mcp/servers/{region}/{server}': async (event) => {
      const { region, server } = serverOf(event);
      const body = parseWith(registrationSchema, parseJsonBody(event), 'registration');
      const registration = Object.fromEntries(
        Object.entries(body).filter(([, value]) => value !== undefined),
      ) as typeof body;
      return json(200, await registerMcpServer(deps, region, server, registration));
    },
    'DELETE /v1/mcp/servers/{region}/{server}': async (event) => {
      const { region, server } = serverOf(event);
      await deregisterMcpServer(deps, region, server);
      return json(200, { region, server, deregistered: true });
    },
  });
}

function serverOf(event: RoutedEvent<RouteKeyWith<'mcp', 'server'>>): { region: string; server: string } {
  return {
    region: pathParameter(event, 'region', REGION_ID_PATTERN, {
      field: 'region',
      example: 'a region id such as us-east-1',
    }),
    server: pathParameter(event, 'server', SERVER_NAME_PATTERN, {
      field: 'server',
      example: 'a lower-case server name such as postgres',
    }),
  };
}
