/**
 * The MCP servers' own health on the local control plane, `topology/default.json` (fast policy):
 * every region probes every server's endpoint on its region's simulated endpoint, and discovery
 * leaves a server a majority of the regions hold unhealthy, even while its region serves. Invariants:
 * one failed round moves nothing (failure_threshold rounds in a row do); a server comes back only
 * after success_threshold answered rounds; a fault on one server leaves its region's other servers
 * and the region itself serving; the probe round runs the MCP probe beside the regions' probes.
 */
import { describe, expect, it, vi } from 'vitest';
import { probeMcpServers } from '../../lib/app/mcp/probe.ts';
import { runProbeRound } from '../../lib/app/probe-round.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { cli } from '../support/cli.ts';
import { call, post, usePlane, withFastPolicy } from '../support/plane.ts';

const US = 'us-east-1';
const EU = 'eu-west-1';
const REGIONS = [US, 'eu-west-1', 'ap-south-1'];
/**
 * How long to wait for writes to replicate to another region, in real time: they take tens of
 * milliseconds; the deadline only turns a write that never arrives into a failure, on a busy machine too.
 */
const REPLICATED_MS = 20_000;

const plane = usePlane('cortex-mcp-health-', 1);

/**
 * One probe of every server from every region (the job beside the probe round, forced due), then
 * waits until `readFrom`'s replica holds every region's views of it.
 */
async function probeRoundEverywhere(readFrom = US): Promise<void> {
  const running = plane.running();
  const written = new Map<string, number>();
  for (const region of REGIONS) {
    const deps = running.runtime.region(region).deps;
    if (!deps.mcp || !deps.mcpProbe) throw new Error(`${region} has no MCP registry or probe`);
    const report = await probeMcpServers(
      { ...deps, mcp: deps.mcp, mcpProbe: deps.mcpProbe },
      { force: true },
    );
    written.set(region, Date.parse(report.at));
  }
  const registry = running.runtime.region(readFrom).deps.mcp;
  await vi.waitFor(
    async () => {
      const held = (await registry?.listMcpHealth()) ?? [];
      for (const region of REGIONS)
        expect(Math.floor(held.find((h) => h.observer === region)?.at ?? 0)).toBe(written.get(region));
    },
    { timeout: REPLICATED_MS, interval: 20 },
  );
}

/** Discovery of `capability` from us-east-1 once every region's latest views replicated there. */
async function discoverFromUs(capability: string, expectedRegion: string) {
  const running = plane.running();
  let answer: Awaited<ReturnType<typeof call>> | undefined;
  await vi.waitFor(
    async () => {
      answer = await call(`${running.regions[US]?.url}/v1/mcp/discover?capability=${capability}`);
      expect(answer.status).toBe(200);
      expect(answer.body.server.region).toBe(expectedRegion);
    },
    { timeout: REPLICATED_MS, interval: 50 },
  );
  return answer?.body;
}

describe('MCP server health probes', () => {
  it('discovery moves off a server that stops answering and back once it answers again, by quorum and hysteresis', async () => {
    const running = await plane.start(withFastPolicy(defaultTopologyJson()), { probeRounds: false });
    const policy = running.runtime.topology.failover_policies.health_check;
    await probeRoundEverywhere();
    expect((await discoverFromUs('git', US)).basis).toBe('own region');

    const fault = cli();
    expect(
      await fault.run('fault', US, 'mcp_down', '--servers', 'github', '--endpoint', running.gatewayUrl),
    ).toBe(0);
    expect(fault.out.join('\n')).toContain('fault injected: us-east-1 mcp_down (servers github)');
    const faults = await call(`${running.gatewayUrl}/v1/sim/faults`);
    expect(faults.body.faults).toMatchObject([{ region: US, kind: 'mcp_down', servers: ['github'] }]);

    // One failed call from every region is not a verdict.
    await probeRoundEverywhere();
    const afterOne = await call(`${running.regions[US]?.url}/v1/mcp/servers?region=${US}&capability=git`);
    expect(afterOne.body.servers[0].live).toMatchObject({ serving: true, health: 'healthy' });
    for (let round = 1; round < policy.failure_threshold; round++) await probeRoundEverywhere();
    expect(policy.failure_threshold).toBeGreaterThan(1);
    expect(policy.success_threshold).toBeGreaterThan(1);

    const moved = await discoverFromUs('git', EU);
    expect(moved.basis).toBe('nearest serving region');
    const passedOver = moved.considered.find((c: { region: string }) => c.region === US);
    expect(passedOver.reasons.join()).toMatch(
      /github of us-east-1 fails its health probes from [23] of 3 observers \(.*us-east-1.*: reset/,
    );
    const listed = await call(`${running.regions[US]?.url}/v1/mcp/servers?region=${US}`);
    const byServer = new Map(listed.body.servers.map((s: { server: string }) => [s.server, s]));
    expect(byServer.get('github')).toMatchObject({ live: { serving: false, health: 'unhealthy' } });
    const printed = cli();
    expect(
      await printed.run('mcp', 'servers', '--region', US, '--endpoint', running.regions[US]?.url ?? ''),
    ).toBe(0);
    expect(printed.out.join('\n')).toMatch(
      /^us-east-1\s+github\s+global\s+\S+\s+any-region\s+down\s+unhealthy \([23]\/3 failing\)/m,
    );
    expect(printed.out.join('\n')).toMatch(
      /^us-east-1\s+n8n\s+regional\s+\S+\s+cross-region\s+serving\s+healthy \(0\/3 failing\)/m,
    );
    // Only the server is down: its region and its other servers serve.
    expect(byServer.get('n8n')).toMatchObject({ live: { serving: true, health: 'healthy' } });
    expect((await call(`${running.regions[US]?.url}/health`)).status).toBe(200);

    await call(`${running.gatewayUrl}/v1/sim/faults?region=${US}`, { method: 'DELETE' });
    // One answered round is not enough to come back (success_threshold).
    for (let round = 1; round < policy.success_threshold; round++) await probeRoundEverywhere();
    const still = await call(`${running.regions[US]?.url}/v1/mcp/discover?capability=git`);
    expect(still.body.server.region).toBe(EU);
    await probeRoundEverywhere();
    expect((await discoverFromUs('git', US)).basis).toBe('own region');
  });

  it('one observer that cannot reach a server does not take it out of discovery', async () => {
    const running = await plane.start(withFastPolicy(defaultTopologyJson()), { probeRounds: false });
    const policy = running.runtime.topology.failover_policies.health_check;
    await post(`${running.gatewayUrl}/v1/sim/faults`, {
      region: 'ap-south-1',
      kind: 'partition',
      peers: [US],
    });
    for (let round = 0; round < policy.failure_threshold + 1; round++) await probeRoundEverywhere(EU);
    const seen = await vi.waitFor(
      async () => {
        const listed = await call(`${running.regions[EU]?.url}/v1/mcp/servers?region=${US}&capability=git`);
        expect(listed.body.servers[0].live.unhealthy_by).toEqual([
          { observer: 'ap-south-1', error: 'unreachable' },
        ]);
        return listed.body.servers[0].live;
      },
      { timeout: REPLICATED_MS, interval: 50 },
    );
    expect(seen).toMatchObject({ serving: true, health: 'healthy' });
  });

  it('the probe round probes the MCP servers beside the regions and records its views', async () => {
    const running = await plane.start(withFastPolicy(defaultTopologyJson()), { probeRounds: false });
    const report = await runProbeRound(running.runtime.region(US).deps);
    expect(report.mcp).toMatchObject({ observer: US, probed: true });
    const probed = report.mcp && 'views' in report.mcp ? report.mcp.views : [];
    expect(probed).toHaveLength(14);
    expect(probed.every((v) => v.healthy && v.consecutive_successes === 1)).toBe(true);
    // Not due again within its interval: the next round leaves the servers alone.
    const again = await runProbeRound(running.runtime.region(US).deps);
    expect(again.mcp).toMatchObject({ probed: false });
  });
});
