/**
 * The simulated regions' MCP servers: each region's local endpoint answers `GET /mcp/<server>/health`
 * for its servers, as an MCP server's own health route would, so the MCP health probe makes real
 * calls locally. The region's own faults come first (a `down` region resets, a `slow` one answers
 * late); an `mcp_down` fault naming the server resets the call while the region answers everything
 * else.
 */
import type { IncomingMessage } from 'node:http';
import { json, MethodNotAllowedError, toHttpError } from '../../functions/shared/http.ts';
import type { SimNetwork } from './faults.ts';
import type { RequestInterception } from './http.ts';

const HEALTH_PATH = /^\/mcp\/([a-z][a-z0-9_-]{0,62})\/health$/;

/** The path the local MCP probe calls for `server` on its region's endpoint. */
export function mcpHealthPath(server: string): string {
  return `/mcp/${encodeURIComponent(server)}/health`;
}

/** The answer of `region`'s simulated MCP server to `req`, or undefined when `req` is not for one. */
export function mcpEndpointAnswer(
  network: SimNetwork,
  region: string,
  req: IncomingMessage,
): RequestInterception {
  const url = req.url ?? '/';
  const mark = url.indexOf('?');
  const match = HEALTH_PATH.exec(mark === -1 ? url : url.slice(0, mark));
  if (!match) return undefined;
  const server = match[1] as string;
  if (req.method !== 'GET') {
    return toHttpError(new MethodNotAllowedError(`${req.method} is not allowed on ${url}`));
  }
  if (network.isMcpServerDown(region, server)) return 'reset';
  return json(200, { server, region, status: 'ok' });
}
