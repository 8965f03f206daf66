/**
 * The MCP registry, discovery and MCP failover on `topology/default.json` as shipped. Invariants:
 * a global capability is served from the nearest serving region; a regional server serves only in
 * its region unless its failover rule and the residency and compliance rules allow the move; every
 * server looked at and not taken carries its reasons; a failback undoes an MCP failover.
 */
import { describe, expect, it } from 'vitest';
import { heldFrameworks } from '../../lib/core/compliance/rules.ts';
import { type DiscoveryContext, discoverMcpServer } from '../../lib/core/mcp/discovery.ts';
import { planMcpFailback, planMcpFailover } from '../../lib/core/mcp/failover.ts';
import { compareVersions, type McpServerRecord, seedRecords } from '../../lib/core/mcp/registry.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';

const NOW = Date.parse('2026-12-03T08:00:00Z');

// biome-ignore lint/suspicious/noExplicitAny: the raw JSON, edited freely
function topology(edit: (raw: any) => void = () => {}): Topology {
  const raw = defaultTopologyJson();
  edit(raw);
  return validateTopology(raw);
}

function context(
  t: Topology,
  servers: readonly McpServerRecord[],
  down: readonly string[] = [],
): DiscoveryContext {
  return {
    topology: t,
    servers,
    regionReasons: (region) => (down.includes(region) ? [`${region} is not serving`] : []),
    latencyMs: (from, to) => t.latency.matrix[from]?.[to] ?? Number.POSITIVE_INFINITY,
    frameworks: (region) => heldFrameworks(t, region),
  };
}

describe('the registry seeded from the topology', () => {
  it('holds every enabled server of every region with its scope, capabilities, endpoint and rules', () => {
    const servers = seedRecords(topology(), NOW);
    expect(servers.map((s) => `${s.region}/${s.server}`)).toEqual([
      'us-east-1/filesystem',
      'us-east-1/github',
      'us-east-1/postgres',
      'us-east-1/kubernetes',
      'us-east-1/n8n',
      'eu-west-1/filesystem',
      'eu-west-1/github',
      'eu-west-1/postgres',
      'eu-west-1/kubernetes',
      'ap-south-1/filesystem',
      'ap-south-1/github',
      'ap-south-1/postgres',
      'ap-south-1/kubernetes',
      'ap-south-1/n8n',
    ]);
    const euPostgres = servers.find((s) => s.region === 'eu-west-1' && s.server === 'postgres');
    expect(euPostgres).toMatchObject({
      scope: 'regional',
      capabilities: ['postgres', 'sql', 'database'],
      endpoint: 'db-eu-west-1.cortex.internal',
      data_residency: 'EU',
      failover: 'none',
      status: 'available',
      version: '1.0.0',
    });
    expect(servers.find((s) => s.region === 'us-east-1' && s.server === 'n8n')).toMatchObject({
      failover: 'cross-region',
      endpoint: 'n8n-us-east-1.cortex.internal',
    });
    expect(servers.find((s) => s.server === 'github')).toMatchObject({
      scope: 'global',
      failover: 'any-region',
    });
    expect(servers.find((s) => s.region === 'eu-west-1' && s.server === 'filesystem')?.compliance_mode).toBe(
      'gdpr',
    );
  });

  it('compares versions part by part', () => {
    expect(compareVersions('1.10.0', '1.9.9')).toBe(1);
    expect(compareVersions('2.0.0', '2.0.0')).toBe(0);
    expect(compareVersions('0.9.1', '1.0.0')).toBe(-1);
  });
});

describe('discovery', () => {
  const t = topology();
  const servers = seedRecords(t, NOW);

  it('serves a global capability from the asking region, and from the nearest serving one when it is down', () => {
    const here = discoverMcpServer({ capability: 'git', region: 'eu-west-1' }, context(t, servers));
    expect(here).toMatchObject({
      found: true,
      basis: 'own region',
      server: { region: 'eu-west-1', server: 'github' },
    });
    const away = discoverMcpServer(
      { capability: 'git', region: 'eu-west-1' },
      context(t, servers, ['eu-west-1']),
    );
    expect(away).toMatchObject({
      found: true,
      basis: 'nearest serving region',
      server: { region: 'us-east-1' },
    });
    expect(away.considered).toContainEqual({
      region: 'eu-west-1',
      server: 'github',
      reasons: ['eu-west-1 is not serving'],
    });
  });

  it('serves a regional capability in its own region; refuses to move one whose rule is none, saying why', () => {
    expect(discoverMcpServer({ capability: 'sql', region: 'ap-south-1' }, context(t, servers))).toMatchObject(
      {
        found: true,
        basis: 'own region',
        server: { region: 'ap-south-1', server: 'postgres' },
      },
    );
    const down = discoverMcpServer(
      { capability: 'sql', region: 'us-east-1' },
      context(t, servers, ['us-east-1']),
    );
    expect(down).toMatchObject({ found: false, status: 422 });
    expect(down.found === false && down.reason).toBe(
      'postgres of us-east-1 cannot serve (us-east-1 is not serving) and does not fail over (failover: none)',
    );
  });

  it('moves a cross-region server to the region that runs the same kind', () => {
    const moved = discoverMcpServer(
      { capability: 'workflows', region: 'us-east-1' },
      context(t, servers, ['us-east-1']),
    );
    expect(moved).toMatchObject({
      found: true,
      basis: 'failover of us-east-1',
      server: { region: 'ap-south-1', server: 'n8n' },
    });
  });

  it('refuses a move that residency forbids, naming the residency and the region', () => {
    const strict = topology((raw) => {
      raw.regional_mcp_deployment['eu-west-1'].mcp_servers.postgres.failover = 'any-region';
    });
    const answer = discoverMcpServer(
      { capability: 'sql', region: 'eu-west-1' },
      context(strict, seedRecords(strict, NOW), ['eu-west-1']),
    );
    expect(answer).toMatchObject({ found: false, status: 422 });
    expect(answer.considered).toContainEqual({
      region: 'us-east-1',
      server: 'postgres',
      reasons: ['postgres of eu-west-1 keeps its data in EU; us-east-1 is in US'],
    });
    expect(answer.considered).toContainEqual({
      region: 'ap-south-1',
      server: 'postgres',
      reasons: ['postgres of eu-west-1 keeps its data in EU; ap-south-1 is in IN'],
    });
  });

  it('answers 404 for a capability nobody offers, at that version, or in a region without it', () => {
    expect(
      discoverMcpServer({ capability: 'email', region: 'us-east-1' }, context(t, servers)),
    ).toMatchObject({
      found: false,
      status: 404,
    });
    const version = discoverMcpServer(
      { capability: 'git', region: 'us-east-1', min_version: '2.0.0' },
      context(t, servers),
    );
    expect(version).toMatchObject({ found: false, status: 404 });
    expect(version.considered).toHaveLength(3);
    const none = discoverMcpServer({ capability: 'workflows', region: 'eu-west-1' }, context(t, servers));
    expect(none.found === false && none.reason).toBe(
      'eu-west-1 runs no server offering "workflows" (regional in us-east-1, ap-south-1)',
    );
  });

  it('honours a data rule the caller supplies (compliance of the data asked for)', () => {
    const ctx = {
      ...context(t, servers),
      dataRule: (region: string) => (region === 'eu-west-1' ? ['pii may not go there'] : []),
    };
    expect(discoverMcpServer({ capability: 'git', region: 'eu-west-1' }, ctx)).toMatchObject({
      found: true,
      server: { region: 'us-east-1' },
    });
  });
});

describe('MCP failover and failback', () => {
  const t = topology();
  const servers = seedRecords(t, NOW);
  const ctx = context(t, servers);

  it("marks the failed region's servers unavailable and has a permitted counterpart stand in", () => {
    const plan = planMcpFailover('us-east-1', ['eu-west-1', 'ap-south-1'], servers, ctx, NOW + 1);
    expect(plan.moves).toEqual([
      { server: 'filesystem', from: 'us-east-1', reasons: ['failover: none'] },
      { server: 'github', from: 'us-east-1', reasons: ['global: discovery serves it from another region'] },
      { server: 'postgres', from: 'us-east-1', reasons: ['failover: none'] },
      { server: 'kubernetes', from: 'us-east-1', reasons: ['failover: none'] },
      { server: 'n8n', from: 'us-east-1', to: 'ap-south-1', reasons: [] },
    ]);
    const after = servers.map(
      (s) => plan.writes.find((w) => w.region === s.region && w.server === s.server) ?? s,
    );
    expect(after.filter((s) => s.region === 'us-east-1').every((s) => s.status === 'unavailable')).toBe(true);
    expect(after.find((s) => s.region === 'us-east-1' && s.server === 'n8n')).toMatchObject({
      failed_over_to: 'ap-south-1',
    });
    expect(after.find((s) => s.region === 'ap-south-1' && s.server === 'n8n')?.serving_for).toEqual([
      'us-east-1',
    ]);
    // Discovery follows it, even with us-east-1 back to serving but its server still failed over.
    expect(discoverMcpServer({ capability: 'n8n', region: 'us-east-1' }, context(t, after))).toMatchObject({
      found: true,
      server: { region: 'ap-south-1' },
      basis: 'failover of us-east-1',
    });

    const back = planMcpFailback('us-east-1', after, NOW + 2);
    const restored = after.map((s) => back.find((w) => w.region === s.region && w.server === s.server) ?? s);
    expect(restored.every((s) => s.status === 'available')).toBe(true);
    expect(
      restored.some(
        (s) => s.serving_for !== undefined || s.failed_over_to !== undefined || s.reason !== undefined,
      ),
    ).toBe(false);
  });

  it('names the rule that keeps a server from moving to each target', () => {
    const strict = topology((raw) => {
      raw.regional_mcp_deployment['eu-west-1'].mcp_servers.postgres.failover = 'cross-region';
    });
    const seeded = seedRecords(strict, NOW);
    const plan = planMcpFailover(
      'eu-west-1',
      ['us-east-1', 'ap-south-1'],
      seeded,
      context(strict, seeded),
      NOW,
    );
    expect(plan.moves.find((m) => m.server === 'postgres')).toEqual({
      server: 'postgres',
      from: 'eu-west-1',
      reasons: [
        'postgres of eu-west-1 keeps its data in EU; us-east-1 is in US',
        'postgres of eu-west-1 keeps its data in EU; ap-south-1 is in IN',
      ],
    });
  });
});
