/**
 * The cross-region mesh planned from `topology/default.json`: blocks, tunnels, paths between every
 * pair, WireGuard configurations and the traffic classes. Invariants: every pair of regions is
 * joined once; no block is routed to two peers; a region behind a down tunnel is still reached
 * through a third region; overlapping or public blocks are refused naming both sides.
 */
import { describe, expect, it } from 'vitest';
import { keyAges } from '../../lib/core/network/keys.ts';
import { planMesh } from '../../lib/core/network/mesh.ts';
import { classifyTraffic } from '../../lib/core/network/qos.ts';
import { parseWireGuardIni, renderWireGuard } from '../../lib/core/network/wireguard.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'];
const PUBLIC_KEYS = Object.fromEntries(
  REGIONS.map((r, i) => [r, Buffer.alloc(32, i + 1).toString('base64')]),
);
const keysOf = (region: string) => ({
  private_key: Buffer.alloc(32, 10 + REGIONS.indexOf(region)).toString('base64'),
  public_keys: PUBLIC_KEYS,
});

// biome-ignore lint/suspicious/noExplicitAny: the raw JSON, edited freely
function topology(edit: (raw: any) => void = () => {}): Topology {
  const raw = defaultTopologyJson();
  edit(raw);
  return validateTopology(raw);
}

/** The validated default with its tunnels replaced: shapes the validator refuses, for the planner's own checks. */
function withTunnels(
  edit: (tunnels: Topology['cross_region_networking']['vpn_mesh']['tunnels']) => unknown[],
): Topology {
  const base = topology();
  const net = base.cross_region_networking;
  return {
    ...base,
    cross_region_networking: { ...net, vpn_mesh: { ...net.vpn_mesh, tunnels: edit(net.vpn_mesh.tunnels) } },
  } as Topology;
}

describe('the mesh plan', () => {
  it('joins every pair of the default topology once, directly, with private blocks and tunnel addresses', () => {
    const plan = planMesh(topology());
    expect(plan.issues).toEqual([]);
    expect(plan.regions.map((r) => [r.region, r.cidrs, r.address])).toEqual([
      ['us-east-1', ['10.1.0.0/16'], '10.1.0.1/16'],
      ['eu-west-1', ['10.2.0.0/16'], '10.2.0.1/16'],
      ['ap-south-1', ['10.3.0.0/16'], '10.3.0.1/16'],
    ]);
    expect(plan.links).toHaveLength(3);
    expect(plan.routes).toHaveLength(6);
    for (const route of plan.routes) {
      expect(route.paths[0]).toMatchObject({ via: 'direct', priority: 100 });
      expect(route.paths.at(-1)).toEqual({ via: 'internet', priority: 10 });
    }
    // The third region is the backup path, at the indirect priority with the two legs' latency.
    const euToAp = plan.routes.find((r) => r.from === 'eu-west-1' && r.to === 'ap-south-1');
    expect(euToAp?.paths[1]).toEqual({ via: 'us-east-1', priority: 50, latency_ms: 80 + 200 });
  });

  it('routes around a down tunnel through the third region', () => {
    const plan = planMesh(
      topology((raw) => {
        raw.cross_region_networking.vpn_mesh.tunnels[2].status = 'down';
      }),
    );
    const euToAp = plan.routes.find((r) => r.from === 'eu-west-1' && r.to === 'ap-south-1');
    expect(euToAp?.paths.map((p) => p.via)).toEqual(['us-east-1', 'internet']);
  });

  it('names both sides of overlapping blocks, in the validator and in the plan', () => {
    // biome-ignore lint/suspicious/noExplicitAny: the raw JSON, edited freely
    const overlapping = (raw: any) => {
      raw.cross_region_networking.vpn_mesh.tunnels[0].destination.allowed_ips = ['10.1.128.0/17'];
    };
    expect(() => topology(overlapping)).toThrow(
      /10\.1\.128\.0\/17 of eu-west-1 overlaps 10\.1\.0\.0\/16 of us-east-1/,
    );
    const plan = planMesh(
      withTunnels((tunnels) =>
        tunnels.map((t, i) =>
          i === 0 ? { ...t, destination: { ...t.destination, allowed_ips: ['10.1.128.0/17'] } } : t,
        ),
      ),
    );
    expect(plan.issues.map((i) => i.message)).toContain(
      '10.1.128.0/17 of eu-west-1 overlaps 10.1.0.0/16 of us-east-1',
    );
  });

  it('refuses a public block, a missing pair and a pair joined twice', () => {
    const publicBlock = planMesh(
      withTunnels((tunnels) =>
        tunnels.map((t, i) =>
          i === 1 ? { ...t, destination: { ...t.destination, allowed_ips: ['8.8.8.0/24'] } } : t,
        ),
      ),
    );
    expect(publicBlock.issues.map((i) => i.message)).toContainEqual(
      expect.stringMatching(/8\.8\.8\.0\/24 of ap-south-1 is outside the private ranges/),
    );
    const missing = planMesh(withTunnels((tunnels) => tunnels.slice(0, 2)));
    expect(missing.issues.map((i) => i.message)).toEqual([
      'no tunnel between eu-west-1 and ap-south-1; the mesh joins every pair of regions',
    ]);
    const doubled = planMesh(withTunnels((tunnels) => [...tunnels, { ...tunnels[0], tunnel_id: 'again' }]));
    expect(doubled.issues.map((i) => i.message)).toEqual([
      'us-east-1-to-eu-west-1 and again all join us-east-1 and eu-west-1; one tunnel per pair',
    ]);
  });
});

describe('WireGuard configurations', () => {
  it('parse as WireGuard INI, one interface and each other region exactly once as a peer', () => {
    const plan = planMesh(topology());
    for (const region of REGIONS) {
      const sections = parseWireGuardIni(renderWireGuard(plan, region, keysOf(region)));
      const [iface, ...peers] = sections;
      expect(iface?.name).toBe('Interface');
      expect(iface?.values).toMatchObject({
        ListenPort: '51820',
        Address: plan.regions.find((r) => r.region === region)?.address,
      });
      expect(peers.map((p) => p.name)).toEqual(['Peer', 'Peer']);
      const others = REGIONS.filter((r) => r !== region);
      expect(peers.map((p) => p.values.PublicKey).sort()).toEqual(others.map((r) => PUBLIC_KEYS[r]).sort());
      for (const peer of peers) {
        expect(peer.values.Endpoint).toMatch(/^vpn-[a-z0-9-]+\.cortex\.internal:51820$/);
        expect(peer.values.PersistentKeepalive).toBe('25');
      }
    }
  });

  it('gives the blocks behind a down tunnel to the peer traffic passes through, each block to one peer', () => {
    const plan = planMesh(
      topology((raw) => {
        raw.cross_region_networking.vpn_mesh.tunnels[2].status = 'down';
      }),
    );
    const eu = parseWireGuardIni(renderWireGuard(plan, 'eu-west-1', keysOf('eu-west-1'))).slice(1);
    expect(eu.map((p) => [p.values.PublicKey, p.values.AllowedIPs])).toEqual([
      [PUBLIC_KEYS['us-east-1'], '10.1.0.0/16, 10.3.0.0/16'],
    ]);
    const us = parseWireGuardIni(renderWireGuard(plan, 'us-east-1', keysOf('us-east-1'))).slice(1);
    const blocks = us.flatMap((p) => (p.values.AllowedIPs ?? '').split(', '));
    expect(blocks.sort()).toEqual(['10.2.0.0/16', '10.3.0.0/16']);
  });

  it('rejects INI with a key written twice or a line that is neither section nor key', () => {
    expect(() => parseWireGuardIni('[Interface]\nAddress = a\nAddress = b\n')).toThrow(
      /line 3: Address written twice/,
    );
    expect(() => parseWireGuardIni('Address = a\n')).toThrow(/line 1/);
    expect(() => parseWireGuardIni('[Interface]\nnot a pair\n')).toThrow(/line 2/);
  });
});

describe('key age and traffic classes', () => {
  const DAY = 86_400_000;
  it('says ok, due in the last tenth of the period, expired after it, missing without a key', () => {
    const now = Date.parse('2026-12-03T00:00:00Z');
    const at = (daysAgo: number) => ({
      public_key: 'k',
      created_at: new Date(now - daysAgo * DAY).toISOString(),
    });
    const ages = keyAges(['a', 'b', 'c', 'd'], { a: at(10), b: at(85), c: at(90) }, 90, now);
    expect(ages.map((a) => [a.region, a.state, a.age_days])).toEqual([
      ['a', 'ok', 10],
      ['b', 'due', 85],
      ['c', 'expired', 90],
      ['d', 'missing', 0],
    ]);
    expect(ages[0]?.rotate_by).toBe(new Date(now + 80 * DAY).toISOString());
  });

  it('puts a path in the highest-priority class whose pattern matches', () => {
    const classes = topology().cross_region_networking.qos.traffic_classes;
    expect(classifyTraffic('failover/fo-1', classes)?.name).toBe('critical');
    expect(classifyTraffic('coordination/leases/a', classes)?.name).toBe('critical');
    expect(classifyTraffic('replication/cortex-state', classes)?.name).toBe('data_sync');
    expect(classifyTraffic('tasks/t-1', classes)?.name).toBe('standard');
    expect(
      classifyTraffic(
        'x',
        classes.filter((c) => c.name !== 'standard'),
      ),
    ).toBeUndefined();
  });
});
