/**
 * Live health of each MCP server, from every region's probes of the server's own endpoint. Like the
 * regions' health (lib/core/health), one failed call decides nothing: each observer turns its calls
 * into a verdict with the health policy's asymmetric hysteresis (`failure_threshold` failed rounds in
 * a row to call a server unhealthy, `success_threshold` answered rounds to call it healthy again),
 * and a server is down only when a majority of the topology's regions hold a fresh unhealthy verdict
 * of it. A partitioned observer alone never takes a server out of discovery. Pure: observations and
 * `now` are inputs.
 */
import { type Hysteresis, upAfterRound } from '../health/evaluate.ts';
import type { Topology } from '../topology/types.ts';

/** One call of one server's endpoint by one observer region. */
export interface McpProbeObservation {
  readonly observer: string;
  readonly region: string;
  readonly server: string;
  readonly ok: boolean;
  /** Why the call failed (`timeout`, `reset`, `http 503`). */
  readonly error?: string;
  /** Set when the endpoint was not called (the probe may not call it): no verdict either way. */
  readonly unprobed?: string;
  readonly latency_ms: number;
  readonly at: number;
}

/** An observer's running verdict on one server. */
export interface McpHealthView {
  readonly region: string;
  readonly server: string;
  readonly healthy: boolean;
  readonly consecutive_failures: number;
  readonly consecutive_successes: number;
  readonly latency_ms: number;
  readonly last_error?: string;
  /** Epoch ms of the call this view last took in. */
  readonly at: number;
}

/** Everything one observer region thinks of every server: one record per observer, written by it alone. */
export interface McpObserverHealth {
  readonly observer: string;
  /** Epoch ms of the observer's last probe of the servers. */
  readonly at: number;
  readonly views: readonly McpHealthView[];
}

/**
 * The view after one more call. A server never seen starts healthy (a registry entry is trusted until
 * probes say otherwise); it turns unhealthy after `failure_threshold` failed calls in a row and
 * healthy again after `success_threshold` answered ones.
 */
export function applyMcpProbe(
  previous: McpHealthView | undefined,
  observation: McpProbeObservation,
  policy: Hysteresis,
): McpHealthView {
  const wasHealthy = previous?.healthy ?? true;
  const failures = observation.ok ? 0 : (previous?.consecutive_failures ?? 0) + 1;
  const successes = observation.ok ? (previous?.consecutive_successes ?? 0) + 1 : 0;
  const healthy = upAfterRound(wasHealthy, failures, successes, policy);
  return {
    region: observation.region,
    server: observation.server,
    healthy,
    consecutive_failures: failures,
    consecutive_successes: successes,
    latency_ms: observation.latency_ms,
    ...(observation.ok || observation.error === undefined ? {} : { last_error: observation.error }),
    at: observation.at,
  };
}

export interface McpServerHealth {
  /** `unknown`: no observer holds a fresh view (not probed yet, or every prober is gone). */
  readonly state: 'healthy' | 'unhealthy' | 'unknown';
  /** Observers whose fresh view is unhealthy, with their last error. */
  readonly unhealthy_by: readonly { readonly observer: string; readonly error?: string }[];
  /** Observers with a fresh view. */
  readonly observed_by: readonly string[];
  /** How many unhealthy views take the server out: a majority of the topology's regions. */
  readonly quorum: number;
}

/**
 * What the observers together say of `region`'s `server`: unhealthy when a majority of the
 * `observers` (the topology's regions) hold a fresh unhealthy view of it. Views older than
 * `maxAgeMs` count for nothing (their observer stopped probing).
 */
export function mcpServerHealth(
  reports: readonly McpObserverHealth[],
  region: string,
  server: string,
  observers: readonly string[],
  now: number,
  maxAgeMs: number,
): McpServerHealth {
  const counted = new Set(observers);
  const quorum = Math.floor(observers.length / 2) + 1;
  const observed: string[] = [];
  const unhealthy: { observer: string; error?: string }[] = [];
  for (const report of reports) {
    if (!counted.has(report.observer)) continue;
    const view = report.views.find((v) => v.region === region && v.server === server);
    if (!view || now - view.at > maxAgeMs) continue;
    observed.push(report.observer);
    if (!view.healthy) {
      unhealthy.push({
        observer: report.observer,
        ...(view.last_error === undefined ? {} : { error: view.last_error }),
      });
    }
  }
  const state = observed.length === 0 ? 'unknown' : unhealthy.length >= quorum ? 'unhealthy' : 'healthy';
  return { state, unhealthy_by: unhealthy, observed_by: observed, quorum };
}

/** Why a server that failed its probes cannot serve, in one line. */
export function mcpHealthReason(server: string, region: string, health: McpServerHealth): string {
  const errors = [...new Set(health.unhealthy_by.flatMap((u) => (u.error ? [u.error] : [])))];
  return `${server} of ${region} fails its health probes from ${health.unhealthy_by.length} of ${
    health.observed_by.length
  } observers (${health.unhealthy_by.map((u) => u.observer).join(', ')}${
    errors.length > 0 ? `: ${errors.join(', ')}` : ''
  })`;
}

/** How often an observer region probes the MCP servers, ms. */
export function mcpProbeIntervalMs(topology: Topology, observer: string): number {
  const own = topology.regional_mcp_deployment[observer]?.discovery?.health_check_interval_seconds;
  return (own ?? topology.failover_policies.health_check.interval_seconds) * 1000;
}

/** How long a view counts: the failure threshold's rounds and one more, of the slowest observer. */
export function mcpViewMaxAgeMs(topology: Topology): number {
  const slowest = Math.max(...topology.regions.map((r) => mcpProbeIntervalMs(topology, r.region_id)));
  return (topology.failover_policies.health_check.failure_threshold + 1) * slowest;
}
