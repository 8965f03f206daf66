/**
 * The Lambda root's probe finds the API URLs not known at synth in each region's SSM parameter
 * (`CORTEX_ENDPOINT_PARAMETER`), with the SSM client's module loaded on the first lookup, and checks
 * each found URL against the allow-list before any request. A stand-in SSM endpoint on loopback
 * answers GetParameter as the service does (AWS JSON 1.1).
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { closeServer, listen } from '../../lib/local/listen.ts';
import { parseNeeds } from '../../lib/runtime/env.ts';
import { probePort, type Region } from '../../lib/runtime/lambda.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';

const topology = validateTopology(defaultTopologyJson());

let server: Server;
/** The parameter names asked for, in order. */
const asked: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      const name = String((JSON.parse(body) as { Name?: unknown }).Name);
      asked.push(`${req.headers['x-amz-target']} ${name}`);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      // Not https: the allow-list must refuse it before anything is requested.
      res.end(JSON.stringify({ Parameter: { Name: name, Type: 'String', Value: 'http://127.0.0.1:9' } }));
    });
  });
  const port = await listen(server, '127.0.0.1', 0, 'a stand-in SSM endpoint');
  vi.stubEnv('AWS_ENDPOINT_URL_SSM', `http://127.0.0.1:${port}`);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
  vi.stubEnv('AWS_REGION', 'us-east-1');
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await closeServer(server);
});

function regionWith(env: Record<string, string>): Region {
  return {
    env: parseNeeds(['region', 'endpoints'], {
      CORTEX_REGION_ID: 'us-east-1',
      CORTEX_TABLE_NAME: 'cortex-state',
      CORTEX_REGION_ENDPOINTS: JSON.stringify({ 'us-east-1': 'http://127.0.0.1:9' }),
      ...env,
    }),
    topology,
  } as unknown as Region;
}

describe('endpoint lookup in SSM (Lambda root)', () => {
  it("asks each unknown region's parameter once, and refuses a found URL the allow-list does not admit", async () => {
    asked.length = 0;
    const probe = probePort(regionWith({ CORTEX_ENDPOINT_PARAMETER: '/cortex/api-url/{region}' }));
    const seen = await probe?.probe('us-east-1', 'eu-west-1', '/health', 500);
    expect(seen?.ok).toBe(false);
    expect(seen?.error).toBe('refused: http://127.0.0.1:9 is not https');
    expect([...asked].sort()).toEqual([
      'AmazonSSM.GetParameter /cortex/api-url/ap-south-1',
      'AmazonSSM.GetParameter /cortex/api-url/eu-west-1',
    ]);
    // Found once, kept for the container: the next round asks SSM nothing.
    await probe?.probe('us-east-1', 'ap-south-1', '/health', 500);
    expect(asked).toHaveLength(2);
  });

  it('asks SSM nothing when the deployment names no parameter', async () => {
    asked.length = 0;
    const probe = probePort(regionWith({}));
    const seen = await probe?.probe('us-east-1', 'eu-west-1', '/health', 500);
    expect(seen?.ok).toBe(false);
    expect(asked).toEqual([]);
  });
});
