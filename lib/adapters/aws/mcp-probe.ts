/**
 * The MCP servers' probe over HTTPS: `GET <endpoint>/health` of one server, with a hard deadline.
 * It calls only endpoints the topology names for that very server in that very region (its
 * `endpoint`, `endpoints.*` or `clusters.*`), over https, without credentials in the URL: an
 * endpoint registered through the API, or a registry record someone rewrote, is never called, so
 * a write to the registry cannot turn the probe into a request forger inside the network or against
 * the instance metadata service. The region probe's allow-list (probe-allow-list.ts) follows the
 * same rule. An endpoint it may not call is reported `unprobed` (no verdict), never as down.
 *
 * On AWS it runs in the MCP health job inside a region's network mesh VPC (functions/mcp-probe),
 * where the topology's private names resolve and the other regions' blocks are routed through the
 * Transit Gateway; `meshAllowList` leaves out the regions the mesh does not join to the observer.
 */
import type { McpProbeObservation } from '../../core/mcp/health.ts';
import type { McpServerRecord } from '../../core/mcp/registry.ts';
import type { MeshPlan } from '../../core/network/mesh.ts';
import type { Topology } from '../../core/topology/types.ts';
import type { Clock, McpProbePort } from '../../ports.ts';
import { networkFailureOf } from './http-probe.ts';

/** The URL to call for a server, or why it may not be called. */
type McpEndpointAllowList = (
  server: Pick<McpServerRecord, 'region' | 'server' | 'endpoint'>,
) => { readonly url: URL } | { readonly refused: string };

/** Every endpoint the topology names, by `region/server`. */
function namedEndpoints(topology: Topology): Map<string, Set<string>> {
  const named = new Map<string, Set<string>>();
  for (const [region, deployment] of Object.entries(topology.regional_mcp_deployment)) {
    for (const [server, config] of Object.entries(deployment.mcp_servers)) {
      const all = [
        ...(config.endpoint === undefined ? [] : [config.endpoint]),
        ...Object.values(config.endpoints ?? {}),
        ...Object.values(config.clusters ?? {}),
      ];
      named.set(`${region}/${server}`, new Set(all));
    }
  }
  return named;
}

/** The health route of an endpoint given as a host name or an https base URL. */
function healthUrl(endpoint: string): URL | string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return `${endpoint} is not a host name or URL`;
  }
  if (url.protocol !== 'https:') return `${url.origin} is not https`;
  if (url.username !== '' || url.password !== '') return 'a URL with credentials';
  if (url.search !== '' || url.hash !== '') return 'a URL with a query or fragment';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/health`;
  return url;
}

export function mcpEndpointAllowList(topology: Topology): McpEndpointAllowList {
  const named = namedEndpoints(topology);
  return (server) => {
    const own = named.get(`${server.region}/${server.server}`);
    if (!own?.has(server.endpoint)) {
      return {
        refused: `${server.endpoint} is not an endpoint the topology names for ${server.server} of ${server.region}`,
      };
    }
    const url = healthUrl(server.endpoint);
    if (typeof url === 'string') return { refused: url };
    // Named exactly by the topology: an address literal that is not public is allowed because it is
    // named (the operator put it there), as in the region probe's rule.
    return { url };
  };
}

/**
 * `allow`, for a probe inside `observer`'s mesh VPC: a server of another region is called only when
 * the plan peers the two regions (their link is not `down`: a down tunnel is not peered on AWS, so
 * nothing routes there). A server it cannot reach is left unprobed, never read as down.
 */
export function meshAllowList(
  allow: McpEndpointAllowList,
  plan: Pick<MeshPlan, 'links'>,
  observer: string,
): McpEndpointAllowList {
  const peered = new Set([observer]);
  for (const link of plan.links) {
    if (link.status === 'down' || !link.regions.includes(observer)) continue;
    for (const region of link.regions) peered.add(region);
  }
  return (server) =>
    peered.has(server.region)
      ? allow(server)
      : { refused: `${server.region} is not joined to ${observer} by the network mesh (tunnel down)` };
}

/** The TCP ports the topology's named MCP endpoints answer on (443 unless a URL names another). */
export function mcpEndpointPorts(topology: Topology): number[] {
  const ports = new Set<number>();
  for (const endpoints of namedEndpoints(topology).values()) {
    for (const endpoint of endpoints) {
      const url = healthUrl(endpoint);
      if (typeof url !== 'string') ports.add(url.port === '' ? 443 : Number(url.port));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

interface HttpMcpProbeOptions {
  readonly allow: McpEndpointAllowList;
  /** Stamps each observation (`at`). */
  readonly clock: Clock;
  /** Monotonic ms for latency; default `performance.now`. */
  readonly monotonic?: () => number;
  readonly fetch?: typeof fetch;
}

export class HttpMcpProbe implements McpProbePort {
  readonly #options: HttpMcpProbeOptions;

  constructor(options: HttpMcpProbeOptions) {
    this.#options = options;
  }

  async probeMcp(
    observer: string,
    server: Pick<McpServerRecord, 'region' | 'server' | 'endpoint'>,
    timeoutMs: number,
  ): Promise<McpProbeObservation> {
    const at = this.#options.clock.now();
    const base = { observer, region: server.region, server: server.server, at };
    const allowed = this.#options.allow(server);
    if ('refused' in allowed) return { ...base, ok: false, unprobed: allowed.refused, latency_ms: 0 };
    const monotonic = this.#options.monotonic ?? (() => performance.now());
    const started = monotonic();
    const elapsed = () => Math.max(0, Math.round((monotonic() - started) * 10) / 10);
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const response = await (this.#options.fetch ?? fetch)(allowed.url, {
        method: 'GET',
        headers: { accept: 'application/json' },
        signal,
        // A redirect could lead anywhere: it is an answer, not a hop to follow.
        redirect: 'manual',
      });
      await response.body?.cancel().catch(() => undefined);
      if (!response.ok)
        return { ...base, ok: false, error: `http ${response.status}`, latency_ms: elapsed() };
      return { ...base, ok: true, latency_ms: elapsed() };
    } catch (error) {
      return { ...base, ok: false, error: networkFailureOf(error, signal), latency_ms: elapsed() };
    }
  }
}
