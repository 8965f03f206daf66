/**
 * The local McpProbePort: an observer region calls a simulated MCP server's health route on its
 * region's local endpoint (lib/local/mcp-endpoints.ts), in simulated time. As the local region probe
 * (probe.ts): a pair a partition separates, or a down observer, answers `unreachable` at once with
 * the timeout as its latency; every other call is a real HTTP GET, so the region's faults and the
 * server's own (`mcp_down`: reset) are observed as they happen. The timeout is the simulated one
 * scaled to real time; latency reads in simulated ms.
 */
import type { McpProbeObservation } from '../../core/mcp/health.ts';
import type { McpServerRecord } from '../../core/mcp/registry.ts';
import type { Clock, McpProbePort } from '../../ports.ts';
import type { ProbeNetwork } from './probe.ts';

interface LocalMcpProbeOptions {
  /** Base URL of each region's local endpoint, read on each call (they bind after the deps are built). */
  readonly endpoints: () => Readonly<Record<string, string>>;
  /** The path a server's health route answers on (lib/local/mcp-endpoints.ts). */
  readonly healthPath: (server: string) => string;
  readonly network: ProbeNetwork;
  /** Simulated time; `speed` simulated ms pass per real ms. */
  readonly clock: Clock & { readonly speed: number };
  readonly fetch?: typeof fetch;
}

export class LocalMcpProbe implements McpProbePort {
  readonly #options: LocalMcpProbeOptions;

  constructor(options: LocalMcpProbeOptions) {
    this.#options = options;
  }

  async probeMcp(
    observer: string,
    server: Pick<McpServerRecord, 'region' | 'server' | 'endpoint'>,
    timeoutMs: number,
  ): Promise<McpProbeObservation> {
    const { clock, network } = this.#options;
    const at = clock.now();
    const base = { observer, region: server.region, server: server.server, at };
    if (network.isDown(observer) || network.partitioned(observer, server.region)) {
      return { ...base, ok: false, error: 'unreachable', latency_ms: timeoutMs };
    }
    const regionUrl = this.#options.endpoints()[server.region];
    if (regionUrl === undefined) return { ...base, ok: false, error: 'no endpoint known', latency_ms: 0 };
    const url = new URL(this.#options.healthPath(server.server), regionUrl);
    const signal = AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs / clock.speed)));
    const elapsed = () => Math.max(0, Math.round(clock.now() - at));
    try {
      const response = await (this.#options.fetch ?? fetch)(url, {
        method: 'GET',
        signal,
        redirect: 'manual',
      });
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok)
        return { ...base, ok: false, error: `http ${response.status}`, latency_ms: elapsed() };
      return { ...base, ok: true, latency_ms: elapsed() };
    } catch (error) {
      const reason = signal.aborted ? 'timeout' : failureOf(error);
      return { ...base, ok: false, error: reason, latency_ms: elapsed() };
    }
  }
}

function failureOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  if (cause?.code === 'ECONNRESET' || cause?.code === 'UND_ERR_SOCKET') return 'reset';
  if (cause?.code === 'ECONNREFUSED') return 'refused';
  return error instanceof Error ? error.message : String(error);
}
