/**
 * `cortex mcp servers` and `cortex mcp discover` against regions of the local runtime served over
 * HTTP, `topology/default.json` as shipped: the CLI's answers equal the API's, before and after a
 * regional failover's MCP step, and a refusal prints every server passed over with its reasons.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failOverMcpServers } from '../../lib/app/mcp/registry.ts';
import { type LocalRuntime, startLocalRuntime } from '../../lib/runtime/local.ts';
import { loadTopologyFile } from '../../lib/topology/load.ts';
import { cli } from '../support/cli.ts';
import { type ServedRegion, serveRegion } from '../support/served-region.ts';

const US = 'us-east-1';
const AP = 'ap-south-1';
let dataDir: string;
let runtime: LocalRuntime;
const served = new Map<string, ServedRegion>();
const endpoint = (region: string) => served.get(region)?.endpoint as string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cortex-mcp-cli-'));
  runtime = await startLocalRuntime({
    topology: loadTopologyFile(),
    dataDir,
    fresh: true,
    inMemory: true,
    replicationLagMs: 10,
  });
  for (const region of [US, AP]) served.set(region, await serveRegion(runtime, region));
});

afterAll(async () => {
  for (const s of served.values()) await s.close();
  await runtime.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function api(region: string, path: string): Promise<{ status: number; body: { servers: unknown[] } }> {
  const response = await fetch(`${endpoint(region)}${path}`);
  return { status: response.status, body: (await response.json()) as { servers: unknown[] } };
}

describe('cortex mcp', () => {
  it('servers: one line per server the API lists, the JSON equal to the API', async () => {
    const c = cli();
    expect(await c.run('mcp', 'servers', '--endpoint', endpoint(US))).toBe(0);
    const text = c.out.join('\n');
    expect(text).toMatch(
      /^REGION\s+SERVER\s+SCOPE\s+VERSION\s+FAILOVER\s+LIVE\s+PROBES\s+CAPABILITIES\s+NOTE$/m,
    );
    const answer = await api(US, '/v1/mcp/servers');
    for (const s of answer.body.servers as { region: string; server: string }[]) {
      expect(text).toMatch(new RegExp(`^${s.region}\\s+${s.server}\\s`, 'm'));
    }
    expect(text).toMatch(
      /^eu-west-1\s+postgres\s+regional\s+1\.0\.0\s+none\s+serving\s+-\s+postgres,sql,database\s+data stays in EU$/m,
    );
    const json = cli();
    expect(await json.run('mcp', 'servers', '--json', '--endpoint', endpoint(US))).toBe(0);
    expect(JSON.parse(json.out.join('\n'))).toEqual((await api(US, '/v1/mcp/servers')).body);
  });

  it('discover: the server the API names, before and after the failover of its region', async () => {
    const before = cli();
    expect(await before.run('mcp', 'discover', 'workflows', '--endpoint', endpoint(US))).toBe(0);
    expect(before.out[0]).toMatch(
      /^n8n in us-east-1 at n8n-us-east-1\.cortex\.internal \(version 1\.0\.0\) for workflows from us-east-1: own region, \d+ ms$/,
    );
    await failOverMcpServers(
      {
        ...runtime.region(US).deps,
        mcp: runtime.region(US).deps.mcp as NonNullable<ReturnType<typeof runtime.region>['deps']['mcp']>,
      },
      US,
      ['eu-west-1', AP],
    );
    const after = cli();
    expect(await after.run('mcp', 'discover', 'workflows', '--endpoint', endpoint(US))).toBe(0);
    expect(after.out[0]).toMatch(
      /^n8n in ap-south-1 at n8n-ap-south-1\.cortex\.internal .* failover of us-east-1, 200 ms$/,
    );
    expect(after.out).toContain(
      '  passed over n8n in us-east-1: n8n is unavailable: us-east-1 failed over to ap-south-1',
    );
    const json = cli();
    expect(await json.run('mcp', 'discover', 'workflows', '--json', '--endpoint', endpoint(US))).toBe(0);
    expect(JSON.parse(json.out.join('\n'))).toEqual(
      (await api(US, '/v1/mcp/discover?capability=workflows')).body,
    );
  });

  it('discover: a refusal names every server passed over, exit 1', async () => {
    const c = cli();
    expect(
      await c.run('mcp', 'discover', 'sql', '--region', US, '--endpoint', endpoint(US)),
      c.out.join('\n'),
    ).toBe(1);
    const err = c.err.join('\n');
    expect(err).toMatch(
      /HTTP 422 NO_ELIGIBLE_REGION: postgres of us-east-1 cannot serve \(postgres is unavailable: us-east-1 failed over\) and does not fail over \(failover: none\)/,
    );
    expect(err).toMatch(/us-east-1: postgres is unavailable: us-east-1 failed over/);
    const usage = cli();
    expect(await usage.run('mcp', 'discover', '--endpoint', endpoint(US))).toBe(2);
    expect(usage.err[0]).toMatch(/say which capability/);
  });
});
