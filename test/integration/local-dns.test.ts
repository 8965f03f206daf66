import { createServer, type Server } from 'node:http';
import { TCPClient } from 'dns2';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { createSimClock } from '../../lib/local/clock.ts';
import { answerOrder, type LocalDns, resolve, SERVICE_NAME, startLocalDns } from '../../lib/local/dns.ts';
import { closeServer, listen } from '../../lib/local/listen.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';

/** The default topology with a 10 s x 3 health check. */
function topologyWith(pattern: 'active-active' | 'active-passive') {
  const raw = defaultTopologyJson();
  raw.failover_policies.health_check.interval_seconds = 10;
  raw.deployment.traffic_distribution.health_check_interval_seconds = 10;
  raw.failover_policies.health_check.timeout_seconds = 5;
  raw.deployment.pattern = pattern;
  if (pattern === 'active-passive') {
    for (const [id, region] of Object.entries(raw.deployment.regions) as [
      string,
      Record<string, unknown>,
    ][]) {
      region.role = id === 'us-east-1' ? 'active' : 'passive-warm';
      region.traffic_weight = id === 'us-east-1' ? 100 : 0;
    }
  }
  return validateTopology(raw);
}

const servers: Server[] = [];
let dns: LocalDns | undefined;

afterEach(async () => {
  await dns?.close();
  dns = undefined;
  await Promise.all(servers.splice(0).map((s) => closeServer(s)));
});

/** One fake region endpoint per region whose /health answers `health[region]`. */
async function fakeRegions(ids: readonly string[], health: Record<string, number>) {
  const endpoints: Record<string, { url: string; address: string }> = {};
  for (const [i, id] of ids.entries()) {
    const server = createServer((_req, res) => {
      res.statusCode = health[id] ?? 200;
      res.end('{}');
    });
    servers.push(server);
    const address = `127.0.1.${i + 1}`;
    const port = await listen(server, address, 0, id);
    endpoints[id] = { url: `http://${address}:${port}`, address };
  }
  return endpoints;
}

describe('the local DNS server', () => {
  it('answers the service name with the nearest healthy region and moves after failure_threshold failed checks', async () => {
    const topology = topologyWith('active-active');
    const ids = topology.regions.map((r) => r.region_id);
    const health: Record<string, number> = {};
    const endpoints = await fakeRegions(ids, health);
    // Speed 10: a check's 6 s budget is 600 real ms, which a loaded machine's loopback call stays
    // within; a check that times out still counts as failed, as on Route 53.
    const clock = createSimClock({ speed: 10 });
    // Every check us-east-1 gets, as the DNS server saw it (a timeout is a failure too), so the test
    // counts the checks a change took instead of timing it.
    const usChecks: { passed: boolean; at: number }[] = [];
    const checkingFetch: typeof fetch = async (input, init) => {
      const isUs = String(input).startsWith(endpoints['us-east-1']?.url ?? '-');
      try {
        const response = await fetch(input, init);
        if (isUs) usChecks.push({ passed: response.status >= 200 && response.status < 400, at: clock.now() });
        return response;
      } catch (error) {
        if (isUs) usChecks.push({ passed: false, at: clock.now() });
        throw error;
      }
    };
    /**
     * How many of us-east-1's checks in a row before the latest change of the answer passed (`true`)
     * or failed (`false`): a round's checks settle before it changes the answer, the next round's after.
     */
    const runBeforeChange = (passed: boolean) => {
      const changedAt = dns?.answerChanges().at(-1)?.at ?? 0;
      const before = usChecks.filter((c) => c.at <= changedAt);
      let n = 0;
      while (n < before.length && before[before.length - 1 - n]?.passed === passed) n++;
      return n;
    };
    dns = await startLocalDns({
      topology,
      endpoints,
      clientRegion: 'us-east-1',
      clock,
      port: 0,
      fetch: checkingFetch,
    });
    const server = { address: dns.address, port: dns.port };

    const a = await resolve(server, SERVICE_NAME, 'A');
    expect(a).toMatchObject({ rcode: 0, addresses: [endpoints['us-east-1']?.address] });
    expect((await resolve(server, 'API.Cortex.Local', 'TXT')).texts).toEqual(['us-east-1']);

    const failedAt = clock.now();
    health['us-east-1'] = 503;
    // The answer moves on the failure_threshold-th failed check in a row, not one before nor one
    // after: counted as the answer changes, not timed, since a busy machine's late timers stretch the
    // simulated seconds between checks, never their number. Three checks 10 s apart span at least
    // 20 s however late they ran.
    await vi.waitFor(() => expect(dns?.servingRegion()).toBe('eu-west-1'), { timeout: 30_000, interval: 5 });
    const flipped = dns.answerChanges().at(-1);
    expect(runBeforeChange(false)).toBe(3);
    expect(((flipped?.at ?? 0) - failedAt) / 1000).toBeGreaterThan(19);
    expect(await resolve(server, SERVICE_NAME, 'ANY')).toMatchObject({
      addresses: [endpoints['eu-west-1']?.address],
      texts: ['eu-west-1'],
    });

    // One threshold both ways (Route 53): three passing checks bring it back.
    health['us-east-1'] = 200;
    await vi.waitFor(() => expect(dns?.servingRegion()).toBe('us-east-1'), { timeout: 30_000, interval: 5 });
    expect(runBeforeChange(true)).toBe(3);
  });

  it('answers NXDOMAIN for other names, only the asked record type, and over TCP too', async () => {
    const topology = topologyWith('active-active');
    const endpoints = await fakeRegions(
      topology.regions.map((r) => r.region_id),
      {},
    );
    dns = await startLocalDns({
      topology,
      endpoints,
      clientRegion: 'us-east-1',
      clock: createSimClock({ speed: 1 }),
      port: 0,
    });
    const server = { address: dns.address, port: dns.port };
    expect((await resolve(server, 'www.cortex.local')).rcode).toBe(3);
    const txtOnly = await resolve(server, SERVICE_NAME, 'TXT');
    expect(txtOnly.addresses).toEqual([]);
    const overTcp = await TCPClient({ dns: server.address, port: server.port })(SERVICE_NAME, 'A');
    expect(overTcp.answers.map((a) => a.address)).toEqual([endpoints['us-east-1']?.address]);
  });

  it('orders answers by latency from the client region (active-active) or by failover priority (active-passive)', () => {
    const active = topologyWith('active-active');
    expect(answerOrder(active, 'ap-south-1')).toEqual(['ap-south-1', 'eu-west-1', 'us-east-1']);
    expect(answerOrder(active, 'us-east-1')).toEqual(['us-east-1', 'eu-west-1', 'ap-south-1']);
    const passive = topologyWith('active-passive');
    expect(answerOrder(passive, 'ap-south-1')).toEqual(['us-east-1', 'eu-west-1', 'ap-south-1']);
  });

  it('answers the first region by priority when none is healthy', async () => {
    const topology = topologyWith('active-passive');
    const ids = topology.regions.map((r) => r.region_id);
    const endpoints = await fakeRegions(ids, Object.fromEntries(ids.map((id) => [id, 503])));
    dns = await startLocalDns({
      topology,
      endpoints,
      clientRegion: 'us-east-1',
      clock: createSimClock({ speed: 500 }),
      port: 0,
    });
    await vi.waitFor(() => expect(dns?.checks().every((c) => !c.healthy)).toBe(true), {
      timeout: 3_000,
      interval: 5,
    });
    expect((await resolve({ address: dns.address, port: dns.port }, SERVICE_NAME, 'TXT')).texts).toEqual([
      'us-east-1',
    ]);
  });
});
