/**
 * The MCP servers' health verdicts (lib/core/mcp/health.ts) on `topology/default.json`'s health
 * policy. Invariants: one failed call never turns a verdict (failure_threshold in a row do), one
 * answered call never brings a server back (success_threshold in a row do); a server is down only
 * when a majority of the topology's regions hold a fresh unhealthy view; stale views count for nothing.
 */
import { describe, expect, it } from 'vitest';
import {
  applyMcpProbe,
  type McpHealthView,
  type McpObserverHealth,
  mcpProbeIntervalMs,
  mcpServerHealth,
  mcpViewMaxAgeMs,
} from '../../lib/core/mcp/health.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';

const topology = validateTopology(defaultTopologyJson());
const policy = topology.failover_policies.health_check;
const REGIONS = topology.regions.map((r) => r.region_id);
const NOW = Date.parse('2026-12-03T10:00:00Z');

function calls(outcomes: readonly boolean[]): McpHealthView | undefined {
  let view: McpHealthView | undefined;
  outcomes.forEach((ok, i) => {
    view = applyMcpProbe(
      view,
      {
        observer: 'eu-west-1',
        region: 'us-east-1',
        server: 'github',
        ok,
        ...(ok ? {} : { error: 'reset' }),
        latency_ms: 3,
        at: NOW + i * 30_000,
      },
      policy,
    );
  });
  return view;
}

function report(observer: string, healthy: boolean, at = NOW): McpObserverHealth {
  return {
    observer,
    at,
    views: [
      {
        region: 'us-east-1',
        server: 'github',
        healthy,
        consecutive_failures: healthy ? 0 : policy.failure_threshold,
        consecutive_successes: healthy ? 1 : 0,
        latency_ms: 3,
        ...(healthy ? {} : { last_error: 'reset' }),
        at,
      },
    ],
  };
}

describe('an observer verdict on an MCP server', () => {
  it('turns unhealthy only after failure_threshold failed calls in a row', () => {
    expect(policy.failure_threshold).toBe(3);
    expect(calls([false])?.healthy).toBe(true);
    expect(calls([false, false, true, false, false])?.healthy).toBe(true);
    expect(calls([false, false, false])).toMatchObject({ healthy: false, last_error: 'reset' });
  });

  it('turns healthy again only after success_threshold answered calls in a row', () => {
    expect(policy.success_threshold).toBe(2);
    expect(calls([false, false, false, true])?.healthy).toBe(false);
    expect(calls([false, false, false, true, false, true])?.healthy).toBe(false);
    expect(calls([false, false, false, true, true])).toMatchObject({
      healthy: true,
      consecutive_successes: 2,
    });
    expect(calls([false, false, false, true, true])?.last_error).toBeUndefined();
  });
});

describe('the regions together on an MCP server', () => {
  const maxAge = mcpViewMaxAgeMs(topology);

  it('is unhealthy when a majority of the regions hold a fresh unhealthy view, not one', () => {
    const one = mcpServerHealth(
      [report('us-east-1', true), report('eu-west-1', true), report('ap-south-1', false)],
      'us-east-1',
      'github',
      REGIONS,
      NOW,
      maxAge,
    );
    expect(one).toMatchObject({ state: 'healthy', quorum: 2 });
    expect(one.unhealthy_by).toEqual([{ observer: 'ap-south-1', error: 'reset' }]);
    const two = mcpServerHealth(
      [report('us-east-1', true), report('eu-west-1', false), report('ap-south-1', false)],
      'us-east-1',
      'github',
      REGIONS,
      NOW,
      maxAge,
    );
    expect(two.state).toBe('unhealthy');
  });

  it('counts only fresh views of topology regions; none fresh is unknown', () => {
    const stale = NOW - maxAge - 1;
    const health = mcpServerHealth(
      [report('eu-west-1', false, stale), report('ap-south-1', false), report('mars-1', false)],
      'us-east-1',
      'github',
      REGIONS,
      NOW,
      maxAge,
    );
    expect(health).toMatchObject({ state: 'healthy', observed_by: ['ap-south-1'] });
    expect(mcpServerHealth([], 'us-east-1', 'github', REGIONS, NOW, maxAge).state).toBe('unknown');
  });

  it("probes at each region's discovery interval, else the health check's", () => {
    expect(mcpProbeIntervalMs(topology, 'us-east-1')).toBe(30_000);
    expect(topology.regional_mcp_deployment['eu-west-1']?.discovery).toBeUndefined();
    expect(mcpProbeIntervalMs(topology, 'eu-west-1')).toBe(policy.interval_seconds * 1000);
    expect(maxAge).toBe((policy.failure_threshold + 1) * 30_000);
  });
});
