/**
 * The MCP API on the local runtime over its local stores, `topology/default.json` as shipped:
 * the registry seeded and replicated, discovery, registration and deregistration over HTTP, and
 * bad input refused naming the field with nothing written. The CLI's answers equal the API's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../lib/runtime/local.ts';
import { loadTopologyFile } from '../../lib/topology/load.ts';
import { ManualScheduler } from '../support/manual-time.ts';
import { callRegion } from '../support/regional-call.ts';

const US = 'us-east-1';
const EU = 'eu-west-1';

let runtime: LocalRuntime;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cortex-mcp-api-'));
  runtime = await startLocalRuntime({
    topology: loadTopologyFile(),
    dataDir,
    fresh: true,
    inMemory: true,
    scheduler: new ManualScheduler(),
  });
});

afterAll(async () => {
  await runtime.close();
  await rm(dataDir, { recursive: true, force: true });
});

function call(region: string, method: string, url: string, body?: unknown) {
  return callRegion(runtime.region(region).deps, method, url, body);
}

describe('the MCP API', () => {
  it('lists the seeded registry with live state, filtered by region and capability', async () => {
    const all = await call(US, 'GET', '/v1/mcp/servers');
    expect(all.status).toBe(200);
    expect(all.body.observer).toBe(US);
    expect(all.body.servers).toHaveLength(14);
    const sql = await call(US, 'GET', `/v1/mcp/servers?capability=sql&region=${EU}`);
    expect(
      sql.body.servers.map((s: { region: string; server: string }) => `${s.region}/${s.server}`),
    ).toEqual([`${EU}/postgres`]);
    expect(sql.body.servers[0]).toMatchObject({ data_residency: 'EU', live: { serving: true, reasons: [] } });
  });

  it('discovers a server for a capability, and says 404 or 422 with every reason when none may serve', async () => {
    const git = await call(EU, 'GET', '/v1/mcp/discover?capability=git');
    expect(git.status).toBe(200);
    expect(git.body).toMatchObject({
      asked_from: EU,
      basis: 'own region',
      server: { region: EU, server: 'github' },
    });
    const none = await call(EU, 'GET', '/v1/mcp/discover?capability=workflows');
    expect(none.status).toBe(404);
    expect(none.body.error.message).toBe(
      'eu-west-1 runs no server offering "workflows" (regional in us-east-1, ap-south-1)',
    );
    const newer = await call(EU, 'GET', '/v1/mcp/discover?capability=git&min_version=9.0.0');
    expect(newer.status).toBe(404);
  });

  it('registers a server in one region, every region reads it once replicated, and deregisters it', async () => {
    const put = await call(US, 'PUT', `/v1/mcp/servers/${EU}/n8n`, {
      scope: 'regional',
      endpoint: 'n8n-eu-west-1.cortex.internal',
      version: '2.0.0',
      failover: 'cross-region',
      data_residency: 'eu',
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ region: EU, server: 'n8n', source: 'api', data_residency: 'EU' });
    await runtime.replication.flush({ all: true });
    const found = await call(EU, 'GET', '/v1/mcp/discover?capability=workflows&min_version=2.0.0');
    expect(found.status).toBe(200);
    expect(found.body.server).toMatchObject({ region: EU, version: '2.0.0' });
    const gone = await call(EU, 'DELETE', `/v1/mcp/servers/${EU}/n8n`);
    expect(gone).toEqual({ status: 200, body: { region: EU, server: 'n8n', deregistered: true } });
    const again = await call(EU, 'DELETE', `/v1/mcp/servers/${EU}/n8n`);
    expect(again.status).toBe(404);
  });

  it('refuses bad input naming the field, and writes nothing', async () => {
    const before = (await call(US, 'GET', '/v1/mcp/servers')).body.servers.length;
    const cases: [string, string, unknown, RegExp][] = [
      [
        'PUT',
        `/v1/mcp/servers/${US}/Bad Name`,
        { scope: 'global', endpoint: 'x', version: '1.0.0' },
        /server/,
      ],
      ['PUT', '/v1/mcp/servers/nowhere/x', { scope: 'global', endpoint: 'x', version: '1.0.0' }, /region/],
      ['PUT', `/v1/mcp/servers/${US}/x`, { scope: 'galactic', endpoint: 'x', version: '1.0.0' }, /scope/],
      ['PUT', `/v1/mcp/servers/${US}/x`, { scope: 'global', endpoint: 'x', version: 'one' }, /version/],
      [
        'PUT',
        `/v1/mcp/servers/${US}/x`,
        { scope: 'global', endpoint: 'x', version: '1.0.0', extra: 1 },
        /extra/,
      ],
      [
        'PUT',
        `/v1/mcp/servers/${US}/x`,
        { scope: 'global', endpoint: 'x', version: '1.0.0', compliance_mode: 'mine' },
        /compliance_mode/,
      ],
      ['GET', '/v1/mcp/discover', undefined, /capability/],
      ['GET', '/v1/mcp/discover?capability=sql&data_classification=secret', undefined, /data_classification/],
      ['GET', '/v1/mcp/servers?limit=3', undefined, /limit/],
    ];
    for (const [method, url, body, field] of cases) {
      const answer = await call(US, method, url, body);
      expect(answer.status, `${method} ${url}`).toBe(400);
      expect(JSON.stringify(answer.body.error.details), `${method} ${url}`).toMatch(field);
    }
    const unknownRegion = await call(US, 'PUT', '/v1/mcp/servers/xx-west-9/x', {
      scope: 'global',
      endpoint: 'x',
      version: '1.0.0',
    });
    expect(unknownRegion.status).toBe(404);
    expect((await call(US, 'GET', '/v1/mcp/servers')).body.servers.length).toBe(before);
  });
});
