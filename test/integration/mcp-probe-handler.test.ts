/**
 * The MCP health job's handler (functions/mcp-probe) through its middy chain, on
 * `topology/default.json` as shipped, over dynalite, with the AWS MCP probe (HttpMcpProbe behind the
 * mesh allow-list) calling a stand-in MCP server on loopback over real HTTP. The test's fetch does
 * what the mesh does for the function: it resolves the topology's private names to the stand-in
 * (and terminates nothing else). Invariants: rounds arrive as the minute driver's SQS messages;
 * one failed call moves nothing, `failure_threshold` (3) failed rounds turn a server unhealthy and
 * `success_threshold` (2) answered ones turn it back, each verdict written as this observer's
 * probe record, which the registry's listing reads; a round before the interval writes nothing;
 * endpoints the topology does not name and regions the mesh does not join are never called and
 * get no verdict.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMcpProbeHandler, type McpProbeInvocationReport } from '../../functions/mcp-probe/handler.ts';
import { DynamoMcpAdapter } from '../../lib/adapters/aws/dynamodb-mcp.ts';
import { DynamoStateAdapter } from '../../lib/adapters/aws/dynamodb-state.ts';
import { HttpMcpProbe, mcpEndpointAllowList, meshAllowList } from '../../lib/adapters/aws/mcp-probe.ts';
import type { McpProbeDeps } from '../../lib/app/mcp/probe.ts';
import { discoverMcp, listMcpServers } from '../../lib/app/mcp/registry.ts';
import { AWS_DEPLOYMENT_FACTS } from '../../lib/core/compliance/facts.ts';
import { planMesh } from '../../lib/core/network/mesh.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';
import { lambdaContext } from '../support/events.ts';

const shipped = validateTopology(defaultTopologyJson());
const START = Date.parse('2026-12-03T08:00:00Z');

/** The stand-in MCP servers: one loopback HTTP server answering `/<host>/health`; a host in `down` resets. */
let server: Server;
let base: URL;
const down = new Set<string>();
const called: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const host = String(request.url).split('/')[1] ?? '';
    called.push(host);
    if (down.has(host)) {
      request.socket.destroy();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"status":"ok"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

afterAll(async () => {
  await table?.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** The mesh's private DNS for the test: `https://<name>/health` reaches the stand-in as `/<name>/health`. */
const meshFetch = ((url: URL, init?: RequestInit) =>
  fetch(new URL(`/${url.hostname}${url.pathname}`, base), init)) as typeof fetch;

let table: TestTable | undefined;
let now = START;

async function jobIn(observer: string, topology: Topology = shipped) {
  const clock = { now: () => now };
  const deps: McpProbeDeps = {
    regionId: observer,
    topology,
    state: new DynamoStateAdapter({ client: table?.doc as TestTable['doc'], tableName: 'cortex-state' }),
    clock,
    deployment: AWS_DEPLOYMENT_FACTS,
    mcp: new DynamoMcpAdapter({ client: table?.doc as TestTable['doc'], tableName: 'cortex-state' }),
    mcpProbe: new HttpMcpProbe({
      allow: meshAllowList(mcpEndpointAllowList(topology), planMesh(topology), observer),
      clock,
      fetch: meshFetch,
    }),
  };
  const lines: string[] = [];
  const handler = createMcpProbeHandler(deps, { log: (line) => lines.push(line) });
  /** One round as the minute driver delivers it: an SQS message with the minute's payload. */
  const round = async (): Promise<McpProbeInvocationReport> => {
    const body = JSON.stringify({
      minute: { started_at: new Date(now).toISOString(), budget_ms: 55_000, cursor: { started: 0 } },
    });
    return handler(
      { Records: [{ eventSource: 'aws:sqs', body }] },
      { ...lambdaContext, getRemainingTimeInMillis: () => 15_000 },
    );
  };
  return { deps, round, lines };
}

beforeEach(async () => {
  await table?.close();
  table = await startTestTable();
  now = START;
  down.clear();
  called.length = 0;
});

describe('the MCP health job', () => {
  it('turns a server unhealthy after three failed rounds and healthy after two answered ones, as the local probe does', async () => {
    const { deps, round, lines } = await jobIn('us-east-1');
    const n8n = 'us-east-1/n8n';
    const verdict = async () => {
      const [record] = (await deps.mcp.listMcpHealth()).filter((r) => r.observer === 'us-east-1');
      return record?.views.find((v) => `${v.region}/${v.server}` === n8n);
    };
    const listed = async () =>
      (await listMcpServers(deps, { region: 'us-east-1' })).find((s) => s.server === 'n8n')?.live;

    const first = await round();
    expect(first.rounds[0]).toMatchObject({ observer: 'us-east-1', probed: true, unhealthy: [], turned: [] });
    expect(await verdict()).toMatchObject({ healthy: true, consecutive_successes: 1 });
    expect(first.minute).toMatchObject({ more: true, cursor: { started: 1 } });

    down.add('n8n-us-east-1.cortex.internal');
    for (const failures of [1, 2]) {
      now += 30_000;
      const report = await round();
      expect(report.rounds[0]?.turned).toEqual([]);
      expect(await verdict()).toMatchObject({ healthy: true, consecutive_failures: failures });
    }
    now += 30_000;
    const third = await round();
    expect(third.rounds[0]).toMatchObject({ turned: [{ server: n8n, healthy: false }], unhealthy: [n8n] });
    expect(await verdict()).toMatchObject({ healthy: false, consecutive_failures: 3, last_error: 'reset' });
    // One observer of three: the registry names it, and a majority is needed to take it out.
    expect(await listed()).toMatchObject({
      health: 'healthy',
      unhealthy_by: [{ observer: 'us-east-1', error: 'reset' }],
    });

    down.clear();
    now += 30_000;
    expect((await round()).rounds[0]?.turned).toEqual([]);
    expect(await verdict()).toMatchObject({ healthy: false, consecutive_successes: 1 });
    now += 30_000;
    expect((await round()).rounds[0]?.turned).toEqual([{ server: n8n, healthy: true }]);
    expect(await verdict()).toMatchObject({ healthy: true, consecutive_failures: 0 });
    // One structured line per invocation.
    expect(lines).toHaveLength(6);
    expect(JSON.parse(lines[2] as string)).toMatchObject({ level: 'info', message: 'MCP probe' });
  });

  it('takes a server out of the registry once a majority of the regions hold it unhealthy', async () => {
    const observers = await Promise.all(['us-east-1', 'eu-west-1'].map((r) => jobIn(r)));
    down.add('n8n-us-east-1.cortex.internal');
    for (let i = 0; i < 3; i++) {
      for (const observer of observers) await observer.round();
      now += 30_000;
    }
    const deps = observers[0]?.deps as McpProbeDeps;
    const n8n = (await listMcpServers(deps, { region: 'us-east-1' })).find((s) => s.server === 'n8n');
    expect(n8n?.live).toMatchObject({ health: 'unhealthy', serving: false });
    expect([...(n8n?.live.observed_by ?? [])].sort()).toEqual(['eu-west-1', 'us-east-1']);
  });

  it('says in a discovery answer what the probes say: unknown until a probe, then healthy', async () => {
    const { deps, round } = await jobIn('us-east-1');
    const n8n = { server: { region: 'us-east-1', server: 'n8n' } };
    // What AWS without the mesh answers for ever: nothing probes the servers there.
    expect(await discoverMcp(deps, { capability: 'workflows' })).toMatchObject({ ...n8n, health: 'unknown' });
    await round();
    expect(await discoverMcp(deps, { capability: 'workflows' })).toMatchObject({ ...n8n, health: 'healthy' });
  });

  it('writes nothing on a round before its interval', async () => {
    const { deps, round } = await jobIn('us-east-1');
    await round();
    const before = await deps.mcp.listMcpHealth();
    called.length = 0;
    now += 5_000;
    const early = await round();
    expect(early.rounds[0]).toMatchObject({ probed: false });
    expect(called).toEqual([]);
    expect(await deps.mcp.listMcpHealth()).toEqual(before);
  });

  it('calls only the endpoints the topology names, leaving the others unprobed, never down', async () => {
    const { round } = await jobIn('us-east-1');
    const report = await round();
    const unprobed = report.rounds[0]?.unprobed?.map((u) => u.server).sort();
    // filesystem and github name no endpoint in the topology: their registry address is generated.
    expect(unprobed).toEqual([
      'ap-south-1/filesystem',
      'ap-south-1/github',
      'eu-west-1/filesystem',
      'eu-west-1/github',
      'us-east-1/filesystem',
      'us-east-1/github',
    ]);
    expect(called.some((host) => host.startsWith('mcp-'))).toBe(false);
    expect(report.rounds[0]?.servers).toBe(8);
  });

  it('leaves the servers of a region the mesh does not join unprobed (its tunnel down)', async () => {
    const raw = defaultTopologyJson();
    for (const tunnel of raw.cross_region_networking.vpn_mesh.tunnels) {
      if (tunnel.tunnel_id === 'us-east-1-to-ap-south-1') tunnel.status = 'down';
    }
    const { round } = await jobIn('us-east-1', validateTopology(raw));
    const report = await round();
    const apSouth = report.rounds[0]?.unprobed?.filter((u) => u.server.startsWith('ap-south-1/'));
    expect(apSouth?.map((u) => u.server).sort()).toEqual([
      'ap-south-1/filesystem',
      'ap-south-1/github',
      'ap-south-1/kubernetes',
      'ap-south-1/n8n',
      'ap-south-1/postgres',
    ]);
    expect(apSouth?.find((u) => u.server === 'ap-south-1/n8n')?.reason).toBe(
      'ap-south-1 is not joined to us-east-1 by the network mesh (tunnel down)',
    );
    expect(called.some((host) => host.includes('ap-south-1'))).toBe(false);
  });

  it('refuses an input it cannot read, naming the field, and writes nothing', async () => {
    const { deps } = await jobIn('us-east-1');
    const handler = createMcpProbeHandler(deps, { log: () => {} });
    await expect(
      handler(
        { minute: { started_at: 'yesterday', budget_ms: 55_000, cursor: { started: 0 } } },
        lambdaContext,
      ),
    ).rejects.toMatchObject({ details: [expect.objectContaining({ field: 'minute.started_at' })] });
    expect(await deps.mcp.listMcpHealth()).toEqual([]);
  });
});
