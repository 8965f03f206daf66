import * as z from 'zod/mini';
import type { RegionalDeps } from '../../lib/app/deps.ts';
import type { EventsPort, McpRegistryPort } from '../../lib/app/edge.ts';
import {
  COMPLIANCE_FRAMEWORKS,
  DATA_CLASSIFICATIONS,
  deregisterMcpServer,
  discoverMcp,
  listMcpServers,
  registerMcpServer,
  SERVER_NAME_PATTERN,
  VERSION_PATTERN,
} from '../../lib/app/mcp/registry.ts';
import {
  type HttpEvent,
  httpHandler,
  json,
  parseJsonBody,
  parseWith,
  pathParameter,
} from '../shared/http.ts';

const REGION_ID = /^[a-z]{2}(-[a-z]+)+-\d$/;
const CAPABILITY = /^[a-z][a-z0-9._-]{0,62}$/;
const regionId = z.string().check(z.regex(REGION_ID, 'must be a region id such as us-east-1'));
const capability = z.string().check(z.regex(CAPABILITY, 'must be a lower-case capability name such as sql'));
const version = z
  .string()
  .check(z.regex(VERSION_PATTERN, 'must be a version major.minor.patch such as 1.2.0'));

const listQuerySchema = z.strictObject({
  region: z.optional(regionId),
  capability: z.optional(capability),
});

const discoverQuerySchema = z.strictObject({
  capability,
  region: z.optional(regionId),
  data_classification: z.optional(z.enum(DATA_CLASSIFICATIONS)),
  min_version: z.optional(version),
});

const registrationSchema = z.strictObject({
  type: z.optional(
    z.string().check(z.regex(SERVER_NAME_PATTERN, 'must be a lower-case server type such as postgres')),
  ),
  scope: z.enum(['regional', 'global']),
  capabilities: z.optional(z.array(capability).check(z.maxLength(32))),
  endpoint: z.string().check(z.minLength(1), z.maxLength(500), z.regex(/^\S+$/, 'must have no spaces')),
  version,
  compliance_mode: z.optional(z.enum(COMPLIANCE_FRAMEWORKS as [string, ...string[]])),
  data_residency: z.optional(
    z.string().check(z.regex(/^[A-Za-z]{2,12}$/, 'must be a country code or group such as EU')),
  ),
  failover: z.optional(z.enum(['any-region', 'cross-region', 'none'])),
});

/**
 * The MCP registry API (docs/mcp.md): `GET /v1/mcp/servers[?region=&capability=]` the registry with
 * each server's live state; `GET /v1/mcp/discover?capability=[&region=&data_classification=&min_version=]`
 * the server an agent should use, or 404/422 with every reason; `PUT|DELETE
 * /v1/mcp/servers/{region}/{server}` register and deregister.
 */
export function createMcpHandler(
  deps: RegionalDeps & { readonly mcp?: McpRegistryPort; readonly events?: EventsPort },
) {
  const registryDeps = () => {
    const { mcp } = deps;
    if (!mcp) throw new Error('no MCP registry (deps.mcp)');
    return { ...deps, mcp };
  };
  return httpHandler('mcp', deps.log, {
    'GET /v1/mcp/servers': async (event) => {
      const query = parseWith(listQuerySchema, event.queryStringParameters ?? {}, 'query');
      const servers = await listMcpServers(registryDeps(), {
        ...(query.region === undefined ? {} : { region: query.region }),
        ...(query.capability === undefined ? {} : { capability: query.capability }),
      });
      return json(200, { observer: deps.regionId, servers });
    },
    'GET /v1/mcp/discover': async (event) => {
      const query = parseWith(discoverQuerySchema, event.queryStringParameters ?? {}, 'query');
      return json(
        200,
        await discoverMcp(registryDeps(), {
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
      return json(200, await registerMcpServer(registryDeps(), region, server, registration));
    },
    'DELETE /v1/mcp/servers/{region}/{server}': async (event) => {
      const { region, server } = serverOf(event);
      await deregisterMcpServer(registryDeps(), region, server);
      return json(200, { region, server, deregistered: true });
    },
  });
}

function serverOf(event: HttpEvent): { region: string; server: string } {
  return {
    region: pathParameter(event, 'region', REGION_ID, {
      field: 'region',
      example: 'a region id such as us-east-1',
    }),
    server: pathParameter(event, 'server', SERVER_NAME_PATTERN, {
      field: 'server',
      example: 'a lower-case server name such as postgres',
    }),
  };
}
