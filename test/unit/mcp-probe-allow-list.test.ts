/**
 * The AWS MCP probe (lib/adapters/aws/mcp-probe.ts) on `topology/default.json`. Invariants: it calls
 * only an endpoint the topology names for that very server in that very region, over https, never
 * one registered through the API or rewritten in the registry (no verdict on those: `unprobed`,
 * never down); redirects are answers, not hops; each failure is an observation, never a throw.
 */
import { describe, expect, it } from 'vitest';
import {
  HttpMcpProbe,
  mcpEndpointAllowList,
  mcpEndpointPorts,
  meshAllowList,
} from '../../lib/adapters/aws/mcp-probe.ts';
import { planMesh } from '../../lib/core/network/mesh.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';

const topology = validateTopology(defaultTopologyJson());
const allow = mcpEndpointAllowList(topology);
const clock = { now: () => 1_000 };

describe('the MCP probe allow-list', () => {
  it("allows each server's own named endpoints, as https health routes", () => {
    expect(allow({ region: 'us-east-1', server: 'n8n', endpoint: 'n8n-us-east-1.cortex.internal' })).toEqual({
      url: new URL('https://n8n-us-east-1.cortex.internal/health'),
    });
    expect(
      allow({ region: 'eu-west-1', server: 'postgres', endpoint: 'db-eu-west-1-replica.cortex.internal' }),
    ).toEqual({ url: new URL('https://db-eu-west-1-replica.cortex.internal/health') });
    expect(
      allow({ region: 'ap-south-1', server: 'kubernetes', endpoint: 'k8s-ap-south-1-prod.cortex.internal' }),
    ).toEqual({ url: new URL('https://k8s-ap-south-1-prod.cortex.internal/health') });
  });

  it('refuses an endpoint the topology does not name for that server in that region', () => {
    const refusals = [
      { region: 'us-east-1', server: 'n8n', endpoint: '169.254.169.254' },
      { region: 'us-east-1', server: 'n8n', endpoint: 'https://10.0.0.5' },
      { region: 'us-east-1', server: 'n8n', endpoint: 'n8n-ap-south-1.cortex.internal' },
      { region: 'us-east-1', server: 'postgres', endpoint: 'n8n-us-east-1.cortex.internal' },
      { region: 'us-east-1', server: 'custom', endpoint: 'mcp.example.com' },
      { region: 'mars-1', server: 'n8n', endpoint: 'n8n-us-east-1.cortex.internal' },
    ];
    for (const server of refusals) {
      expect(allow(server)).toEqual({
        refused: `${server.endpoint} is not an endpoint the topology names for ${server.server} of ${server.region}`,
      });
    }
  });

  it('refuses a named endpoint that is not https or carries credentials', () => {
    const raw = defaultTopologyJson();
    raw.regional_mcp_deployment['us-east-1'].mcp_servers.n8n.endpoint =
      'http://n8n-us-east-1.cortex.internal';
    raw.regional_mcp_deployment['eu-west-1'].mcp_servers.postgres.endpoints.primary =
      'https://u:p@db.cortex.internal';
    const edited = mcpEndpointAllowList(validateTopology(raw));
    expect(
      edited({ region: 'us-east-1', server: 'n8n', endpoint: 'http://n8n-us-east-1.cortex.internal' }),
    ).toEqual({
      refused: 'http://n8n-us-east-1.cortex.internal is not https',
    });
    expect(
      edited({ region: 'eu-west-1', server: 'postgres', endpoint: 'https://u:p@db.cortex.internal' }),
    ).toEqual({
      refused: 'a URL with credentials',
    });
  });
});

describe('the HTTP MCP probe', () => {
  const n8n = { region: 'us-east-1', server: 'n8n', endpoint: 'n8n-us-east-1.cortex.internal' };

  it('calls the allowed health route once, without following redirects', async () => {
    const calls: { url: string; redirect?: RequestInit['redirect'] }[] = [];
    const probe = new HttpMcpProbe({
      allow,
      clock,
      fetch: (async (url: URL, init?: RequestInit) => {
        calls.push({ url: String(url), ...(init?.redirect ? { redirect: init.redirect } : {}) });
        return new Response('{}', { status: 200 });
      }) as typeof fetch,
    });
    expect(await probe.probeMcp('eu-west-1', n8n, 1_000)).toMatchObject({
      observer: 'eu-west-1',
      region: 'us-east-1',
      server: 'n8n',
      ok: true,
      at: 1_000,
    });
    expect(calls).toEqual([{ url: 'https://n8n-us-east-1.cortex.internal/health', redirect: 'manual' }]);
    const redirected = new HttpMcpProbe({
      allow,
      clock,
      fetch: (async () =>
        new Response(null, {
          status: 302,
          headers: { location: 'http://169.254.169.254/' },
        })) as unknown as typeof fetch,
    });
    expect(await redirected.probeMcp('eu-west-1', n8n, 1_000)).toMatchObject({
      ok: false,
      error: 'http 302',
    });
  });

  it('never calls a refused endpoint and reports it unprobed, not down', async () => {
    let called = false;
    const probe = new HttpMcpProbe({
      allow,
      clock,
      fetch: (async () => {
        called = true;
        return new Response('{}');
      }) as unknown as typeof fetch,
    });
    const seen = await probe.probeMcp('eu-west-1', { ...n8n, endpoint: '169.254.169.254' }, 1_000);
    expect(called).toBe(false);
    expect(seen.unprobed).toMatch(/169\.254\.169\.254 is not an endpoint the topology names/);
    expect(seen.error).toBeUndefined();
  });

  it('turns a network failure and a timeout into observations', async () => {
    const refused = new HttpMcpProbe({
      allow,
      clock,
      fetch: (async () => {
        throw new TypeError('fetch failed', { cause: { code: 'ENOTFOUND' } });
      }) as unknown as typeof fetch,
    });
    expect(await refused.probeMcp('eu-west-1', n8n, 1_000)).toMatchObject({ ok: false, error: 'dns' });
    const hanging = new HttpMcpProbe({
      allow,
      clock,
      fetch: ((_url: URL, init?: RequestInit) =>
        new Promise((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
        })) as typeof fetch,
    });
    expect(await hanging.probeMcp('eu-west-1', n8n, 5)).toMatchObject({ ok: false, error: 'timeout' });
  });
});

describe("the mesh allow-list (the MCP health job inside a region's mesh VPC)", () => {
  const n8n = { region: 'ap-south-1', server: 'n8n', endpoint: 'n8n-ap-south-1.cortex.internal' };

  it('lets through the named endpoints of every region the shipped mesh joins to the observer', () => {
    const inMesh = meshAllowList(allow, planMesh(topology), 'us-east-1');
    expect(inMesh(n8n)).toEqual({ url: new URL('https://n8n-ap-south-1.cortex.internal/health') });
    expect(inMesh({ ...n8n, endpoint: '169.254.169.254' })).toEqual(
      allow({ ...n8n, endpoint: '169.254.169.254' }),
    );
  });

  it('refuses a region behind a down tunnel (not peered on AWS: no route), naming why', () => {
    const raw = defaultTopologyJson();
    for (const tunnel of raw.cross_region_networking.vpn_mesh.tunnels) {
      if (tunnel.tunnel_id === 'us-east-1-to-ap-south-1') tunnel.status = 'down';
    }
    const plan = planMesh(validateTopology(raw));
    expect(meshAllowList(allow, plan, 'us-east-1')(n8n)).toEqual({
      refused: 'ap-south-1 is not joined to us-east-1 by the network mesh (tunnel down)',
    });
    // eu-west-1 still peers with both; its own region is always reachable.
    expect(meshAllowList(allow, plan, 'eu-west-1')(n8n)).toHaveProperty('url');
    expect(meshAllowList(allow, plan, 'ap-south-1')(n8n)).toHaveProperty('url');
  });
});

describe('the MCP ports (the mesh security group opens these)', () => {
  it('are 443 for the shipped topology, plus any port a named URL gives', () => {
    expect(mcpEndpointPorts(topology)).toEqual([443]);
    const raw = defaultTopologyJson();
    raw.regional_mcp_deployment['us-east-1'].mcp_servers.n8n.endpoint =
      'https://n8n-us-east-1.cortex.internal:8443';
    expect(mcpEndpointPorts(validateTopology(raw))).toEqual([443, 8443]);
  });
});
