/**
 * The MCP registry API's requests, strict (unknown fields and parameters rejected). zod/mini keeps
 * the bundle small.
 */
import * as z from 'zod/mini';
import { REGION_ID_PATTERN as REGION_ID } from '../../core/topology/types.ts';
import {
  COMPLIANCE_FRAMEWORKS,
  DATA_CLASSIFICATIONS,
  SERVER_NAME_PATTERN,
  VERSION_PATTERN,
} from '../mcp/registry.ts';
import type { PathParameterSpec } from '../request-spec.ts';

const CAPABILITY = /^[a-z][a-z0-9._-]{0,62}$/;
const regionId = z.string().check(z.regex(REGION_ID, 'must be a region id such as us-east-1'));
const capability = z.string().check(z.regex(CAPABILITY, 'must be a lower-case capability name such as sql'));
const version = z
  .string()
  .check(z.regex(VERSION_PATTERN, 'must be a version major.minor.patch such as 1.2.0'));

/** `GET /v1/mcp/servers` query. */
const listServersQuerySchema = z.strictObject({
  region: z.optional(regionId),
  capability: z.optional(capability),
});

/** `GET /v1/mcp/discover` query: `capability` required. */
const discoverQuerySchema = z.strictObject({
  capability,
  region: z.optional(regionId),
  data_classification: z.optional(z.enum(DATA_CLASSIFICATIONS)),
  min_version: z.optional(version),
});

/** `PUT /v1/mcp/servers/{region}/{server}` body. */
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

const server: Readonly<Record<'region' | 'server', PathParameterSpec>> = {
  region: { pattern: REGION_ID, field: 'region', example: 'a region id such as us-east-1' },
  server: {
    pattern: SERVER_NAME_PATTERN,
    field: 'server',
    example: 'a lower-case server name such as postgres',
  },
};

/** Each route's request (lib/app/routes.ts). */
export const MCP_REQUESTS = {
  'GET /v1/mcp/servers': { query: listServersQuerySchema },
  'PUT /v1/mcp/servers/{region}/{server}': {
    path: server,
    body: { schema: registrationSchema, what: 'registration' },
  },
  'DELETE /v1/mcp/servers/{region}/{server}': { path: server },
  'GET /v1/mcp/discover': { query: discoverQuerySchema },
} as const;
