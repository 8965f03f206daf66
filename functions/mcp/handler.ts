import type { FunctionDeps } from '../../lib/app/deps.ts';
import {
  deregisterMcpServer,
  discoverMcp,
  listMcpServers,
  registerMcpServer,
} from '../../lib/app/mcp/registry.ts';
import { MCP_REQUESTS } from '../../lib/app/requests/mcp.ts';
import { httpHandler, json } from '../shared/http.ts';

/**
 * The MCP registry API (docs/mcp.md): `GET /v1/mcp/servers[?region=&capability=]` the registry with
 * each server's live state; `GET /v1/mcp/discover?capability=[&region=&data_classification=&min_version=]`
 * the server an agent should use, or 404/422 with every reason; `PUT|DELETE
 * /v1/mcp/servers/{region}/{server}` register and deregister.
 */
export function createMcpHandler(deps: FunctionDeps<'mcp'>) {
  return httpHandler(
    'mcp',
    deps.log,
    {
      'GET /v1/mcp/servers': async (_event, { query }) => {
        const servers = await listMcpServers(deps, {
          ...(query.region === undefined ? {} : { region: query.region }),
          ...(query.capability === undefined ? {} : { capability: query.capability }),
        });
        return json(200, { observer: deps.regionId, servers });
      },
      'GET /v1/mcp/discover': async (_event, { query }) =>
        json(
          200,
          await discoverMcp(deps, {
            capability: query.capability,
            ...(query.region === undefined ? {} : { region: query.region }),
            ...(query.data_classification === undefined
              ? {}
              : { data_classification: query.data_classification }),
            ...(query.min_version === undefined ? {} : { min_version: query.min_version }),
          }),
        ),
      'PUT /v1/mcp/servers/{region}/{server}': async (_event, { path, body }) => {
        const registration = Object.fromEntries(
          Object.entries(body).filter(([, value]) => value !== undefined),
        ) as typeof body;
        return json(200, await registerMcpServer(deps, path.region, path.server, registration));
      },
      'DELETE /v1/mcp/servers/{region}/{server}': async (_event, { path }) => {
        await deregisterMcpServer(deps, path.region, path.server);
        return json(200, { region: path.region, server: path.server, deregistered: true });
      },
    },
    MCP_REQUESTS,
  );
}
