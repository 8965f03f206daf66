/**
 * The MCP servers' health probe: every region calls every registered server's own endpoint (in its
 * region) and records its verdicts in the registry, one record per observer region. It runs beside
 * the regions' probe round, at the observer region's `discovery.health_check_interval_seconds` (else
 * the health check's interval); listing and discovery read what a majority of the regions say
 * (lib/core/mcp/health.ts), so a server that stopped answering leaves discovery while its region
 * still serves, and comes back once it answers again.
 */
import { messageOf } from '../../core/errors.ts';
import {
  applyMcpProbe,
  type McpHealthView,
  type McpObserverHealth,
  type McpProbeObservation,
  mcpProbeIntervalMs,
} from '../../core/mcp/health.ts';
import type { McpServerRecord } from '../../core/mcp/registry.ts';
import type { McpProbePort } from '../../ports.ts';
import { type McpDeps, readMcpRegistry } from './registry.ts';

export type McpProbeDeps = McpDeps & { readonly mcpProbe: McpProbePort };

export interface McpProbeReport {
  readonly observer: string;
  /** ISO time of the round. */
  readonly at: string;
  /** False when the last probe of this observer is younger than its interval. */
  readonly probed: boolean;
  readonly views: readonly McpHealthView[];
  /** Servers whose verdict this round turned (`region/server`: healthy or unhealthy). */
  readonly turned: readonly { readonly server: string; readonly healthy: boolean }[];
  /** Servers whose endpoint the probe may not call (`region/server` and why): no verdict on them. */
  readonly unprobed: readonly { readonly server: string; readonly reason: string }[];
}

/**
 * Probes every registered server from this region when its interval is due (`force`: now), applies
 * the hysteresis to each verdict and writes this observer's record. `servers`: the registry as the
 * caller read it (read, and seeded when empty, here when absent).
 */
export async function probeMcpServers(
  deps: Omit<McpProbeDeps, 'state'>,
  options: { readonly force?: boolean; readonly servers?: readonly McpServerRecord[] } = {},
): Promise<McpProbeReport> {
  const { topology, regionId, clock } = deps;
  const policy = topology.failover_policies.health_check;
  const now = clock.now();
  const reports = await deps.mcp.listMcpHealth();
  const own = reports.find((r) => r.observer === regionId);
  // Half a probe round of slack: rounds that drift a little late still probe on every interval.
  const due =
    own === undefined ||
    now - own.at >= mcpProbeIntervalMs(topology, regionId) - (policy.interval_seconds * 1000) / 2;
  if (!options.force && !due) {
    return {
      observer: regionId,
      at: new Date(now).toISOString(),
      probed: false,
      views: own?.views ?? [],
      turned: [],
      unprobed: [],
    };
  }
  const servers = options.servers ?? (await readMcpRegistry(deps));
  const timeoutMs = policy.timeout_seconds * 1000;
  const observations = await Promise.all(servers.map((s) => callOnce(deps, s, timeoutMs)));
  const before = new Map((own?.views ?? []).map((v) => [`${v.region}/${v.server}`, v]));
  const turned: { server: string; healthy: boolean }[] = [];
  const unprobed: { server: string; reason: string }[] = [];
  const views = observations.flatMap((observation) => {
    const key = `${observation.region}/${observation.server}`;
    if (observation.unprobed !== undefined) {
      unprobed.push({ server: key, reason: observation.unprobed });
      return [];
    }
    const previous = before.get(key);
    const view = applyMcpProbe(previous, observation, policy);
    if ((previous?.healthy ?? true) !== view.healthy) turned.push({ server: key, healthy: view.healthy });
    return view;
  });
  const record: McpObserverHealth = { observer: regionId, at: now, views };
  await deps.mcp.putMcpHealth(record);
  if (turned.length > 0) {
    try {
      await deps.events?.publish([
        {
          type: 'mcp.health_changed',
          source_region: regionId,
          time: new Date(now).toISOString(),
          detail: { observer: regionId, turned },
        },
      ]);
    } catch {
      // Best effort (EventsPort contract): the verdicts are recorded either way.
    }
  }
  return { observer: regionId, at: new Date(now).toISOString(), probed: true, views, turned, unprobed };
}

async function callOnce(
  deps: Omit<McpProbeDeps, 'state'>,
  server: McpServerRecord,
  timeoutMs: number,
): Promise<McpProbeObservation> {
  try {
    return await deps.mcpProbe.probeMcp(deps.regionId, server, timeoutMs);
  } catch (error) {
    // The port promises never to throw; if an adapter does, that is still a failed call.
    return {
      observer: deps.regionId,
      region: server.region,
      server: server.server,
      ok: false,
      error: `probe error: ${messageOf(error)}`,
      latency_ms: 0,
      at: deps.clock.now(),
    };
  }
}
