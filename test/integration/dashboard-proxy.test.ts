/**
 * `cortex dashboard` (lib/cli/dashboard.ts) against stand-in regional APIs on loopback, no network:
 * it signs every forwarded call with SigV4 as API Gateway checks it (the server recomputes the
 * signature with the SDK's signer for the known credential), keeps the credentials out of what the
 * browser receives, moves to the next region when one dies and says so in headers, passes only reads
 * unless --allow-actions, never forwards the local plane's fault API, answers only its own host and
 * origin, and binds loopback only.
 */
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { REGION_HEADER } from '../../lib/app/routes.ts';
import {
  type DashboardProxy,
  startDashboardProxy,
  UPSTREAM_FAILED_HEADER,
  UPSTREAM_HEADER,
} from '../../lib/cli/dashboard.ts';
import { closeServer, listen } from '../../lib/local/listen.ts';
import { cli } from '../support/cli.ts';
import { deadEndpoint, type FakeEndpoint, fakeEndpoint, resettingEndpoint } from '../support/fake-api.ts';

const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session-token-example',
};

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

async function proxy(options: Parameters<typeof startDashboardProxy>[0]): Promise<DashboardProxy> {
  const p = await startDashboardProxy({ port: 0, ...options });
  open.push({ close: () => p.stop() });
  return p;
}

async function fake(...args: Parameters<typeof fakeEndpoint>): Promise<FakeEndpoint> {
  const f = await fakeEndpoint(...args);
  open.push(f);
  return f;
}

const regionsAnswer = (region: string) => (method: string, path: string) =>
  method === 'GET' && path.startsWith('/v1/regions')
    ? { status: 200, body: { observer: region } }
    : undefined;

/** `x-amz-date` (20261203T101500Z) as a Date. */
function amzDate(value: string): Date {
  return new Date(
    `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}T${value.slice(9, 11)}:${value.slice(11, 13)}:${value.slice(13, 15)}Z`,
  );
}

/**
 * What API Gateway does with an IAM-authorized request: recompute the signature from the request as
 * it arrived (the headers it says it signed, the query, the body) with the caller's secret.
 */
async function verify(req: IncomingMessage, body: string, secret: string, region: string): Promise<boolean> {
  const authorization = String(req.headers.authorization ?? '');
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
  const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) headers[name] = String(req.headers[name] ?? '');
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const verifier = new SignatureV4({
    service: 'execute-api',
    region,
    credentials: { ...CREDENTIALS, secretAccessKey: secret },
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: false,
  });
  const again = await verifier.sign(
    {
      method: req.method ?? 'GET',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query,
      headers,
      ...(body === '' ? {} : { body }),
    },
    { signingDate: amzDate(String(req.headers['x-amz-date'])) },
  );
  return again.headers.authorization === authorization;
}

/** A regional API that checks every request's signature and answers whether it held. */
async function signatureCheckingApi(): Promise<{
  url: string;
  seen: { path: string; valid: boolean; wrongKey: boolean; token: unknown }[];
}> {
  const seen: { path: string; valid: boolean; wrongKey: boolean; token: unknown }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', async () => {
      const valid = await verify(req, body, CREDENTIALS.secretAccessKey, 'eu-west-1');
      const wrongKey = await verify(req, body, 'another-secret', 'eu-west-1');
      seen.push({ path: req.url ?? '', valid, wrongKey, token: req.headers['x-amz-security-token'] });
      res.writeHead(valid ? 200 : 403, { 'content-type': 'application/json', [REGION_HEADER]: 'eu-west-1' });
      res.end(
        JSON.stringify(
          valid ? { regions: [] } : { message: 'The request signature we calculated does not match' },
        ),
      );
    });
  });
  const port = await listen(server, '127.0.0.1', 0, 'a signature-checking API');
  open.push({ close: () => closeServer(server) });
  return { url: `http://127.0.0.1:${port}`, seen };
}

/** A raw request with the given Host and headers (fetch sets Host itself). */
function raw(
  url: string,
  path: string,
  headers: Record<string, string>,
  method = 'GET',
): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString('utf8');
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The API error body's `error`. */
async function errorOf(response: Response): Promise<{ code: string; details: unknown }> {
  return ((await response.json()) as { error: { code: string; details: unknown } }).error;
}

const failedOf = (response: Response) =>
  JSON.parse(decodeURIComponent(response.headers.get(UPSTREAM_FAILED_HEADER) ?? '[]')) as {
    name: string;
    why: string;
  }[];

describe('signing', () => {
  it('signs each forwarded call with SigV4 for execute-api as the regional API verifies it, and the browser never sees the credentials', async () => {
    const api = await signatureCheckingApi();
    const p = await proxy({
      upstreams: [{ name: 'eu-west-1', url: api.url }],
      signing: 'always',
      signingRegion: 'eu-west-1',
      credentials: async () => CREDENTIALS,
    });
    const answer = await fetch(`${p.url}/v1/regions?view=all&limit=8`);
    expect(answer.status).toBe(200);
    expect(api.seen).toEqual([
      { path: '/v1/regions?view=all&limit=8', valid: true, wrongKey: false, token: CREDENTIALS.sessionToken },
    ]);
    const toBrowser = [...answer.headers].map(([k, v]) => `${k}: ${v}`).join('\n') + (await answer.text());
    for (const secret of Object.values(CREDENTIALS)) expect(toBrowser).not.toContain(secret);
    expect(toBrowser).not.toMatch(/authorization|x-amz-/i);
    expect(answer.headers.get(REGION_HEADER)).toBe('eu-west-1');
  });

  it('signs the body of a failover action it passes on (--allow-actions)', async () => {
    const api = await signatureCheckingApi();
    const p = await proxy({
      upstreams: [{ name: 'eu-west-1', url: api.url }],
      signing: 'always',
      signingRegion: 'eu-west-1',
      credentials: async () => CREDENTIALS,
      allowActions: true,
    });
    const answer = await fetch(`${p.url}/v1/failovers/f-1/approve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: p.url },
      body: JSON.stringify({ by: 'dashboard' }),
    });
    expect(answer.status).toBe(200);
    expect(api.seen[0]).toMatchObject({ path: '/v1/failovers/f-1/approve', valid: true });
  });

  it('says it has no credentials instead of sending unsigned calls', async () => {
    const api = await signatureCheckingApi();
    const p = await proxy({
      upstreams: [{ name: 'eu-west-1', url: api.url }],
      signing: 'always',
      credentials: async () => {
        throw new Error('Could not load credentials from any providers');
      },
    });
    const answer = await fetch(`${p.url}/v1/regions`);
    expect(answer.status).toBe(500);
    expect((await errorOf(answer)).code).toBe('NO_CREDENTIALS');
    expect(api.seen).toEqual([]);
  });
});

describe('moving between regional endpoints', () => {
  it('asks the next endpoint when the first dies, says which answered and why it moved, and stays there', async () => {
    const first = await fake(regionsAnswer('us-east-1'), 'us-east-1');
    const second = await fake(regionsAnswer('eu-west-1'), 'eu-west-1');
    const p = await proxy({
      upstreams: [
        { name: 'us-east-1', url: first.url },
        { name: 'eu-west-1', url: second.url },
      ],
    });
    const before = await fetch(`${p.url}/v1/regions`);
    expect(before.headers.get(UPSTREAM_HEADER)).toBe('us-east-1');
    expect(failedOf(before)).toEqual([]);

    await first.close();
    const after = await fetch(`${p.url}/v1/regions`);
    expect(after.status).toBe(200);
    expect(await after.json()).toEqual({ observer: 'eu-west-1' });
    expect(after.headers.get(UPSTREAM_HEADER)).toBe('eu-west-1');
    expect(after.headers.get(REGION_HEADER)).toBe('eu-west-1');
    expect(failedOf(after)).toEqual([{ name: 'us-east-1', why: 'connection refused' }]);

    // The next call goes straight to the endpoint that answered.
    const next = await fetch(`${p.url}/v1/regions`);
    expect(failedOf(next)).toEqual([]);
    expect(second.calls).toEqual(['GET /v1/regions', 'GET /v1/regions']);
  });

  it('moves on from a reset connection and from a region that says it did not act; answers 502 naming each when none answers', async () => {
    const reset = await resettingEndpoint();
    open.push(reset);
    const notServing = await fake(
      () => ({ status: 503, body: { error: { code: 'REGION_NOT_SERVING', message: 'fenced' } } }),
      'us-east-1',
    );
    const dead = await deadEndpoint();
    const p = await proxy({
      upstreams: [
        { name: 'us-east-1', url: notServing.url },
        { name: 'eu-west-1', url: reset.url },
        { name: 'ap-south-1', url: dead },
      ],
    });
    const answer = await fetch(`${p.url}/v1/latency`);
    // No region acted: the refusal of the one that said so, with every failure named.
    expect(answer.status).toBe(503);
    expect(failedOf(answer)).toEqual([
      { name: 'us-east-1', why: 'answered 503 REGION_NOT_SERVING' },
      { name: 'eu-west-1', why: 'connection reset' },
      { name: 'ap-south-1', why: 'connection refused' },
    ]);

    const q = await proxy({
      upstreams: [
        { name: 'eu-west-1', url: reset.url },
        { name: 'ap-south-1', url: dead },
      ],
    });
    const none = await fetch(`${q.url}/v1/latency`);
    expect(none.status).toBe(502);
    const error = await errorOf(none);
    expect(error.code).toBe('NO_REGION_ANSWERS');
    expect(error.details).toEqual([
      { field: 'eu-west-1', reason: 'connection reset' },
      { field: 'ap-south-1', reason: 'connection refused' },
    ]);
  });

  it('passes a region’s own 4xx answer on as it is, without asking another region', async () => {
    const first = await fake(
      () => ({ status: 404, body: { error: { code: 'NOT_FOUND', message: 'no failover f-9' } } }),
      'us-east-1',
    );
    const second = await fake(regionsAnswer('eu-west-1'), 'eu-west-1');
    const p = await proxy({
      upstreams: [
        { name: 'us-east-1', url: first.url },
        { name: 'eu-west-1', url: second.url },
      ],
    });
    const answer = await fetch(`${p.url}/v1/failovers/f-9`);
    expect(answer.status).toBe(404);
    expect(second.calls).toEqual([]);
  });
});

describe('one rule with the CLI', () => {
  const error = (status: number, code: string) => ({ status, body: { error: { code, message: code } } });
  const gateway = (status: number, message: string) => ({ status, body: { message } });
  // A region that answers a client error read the request: it is alive, and its answer stands.
  const CASES = [
    { what: 'an injected fault (500 INJECTED_FAULT)', answer: error(500, 'INJECTED_FAULT'), movesOn: true },
    {
      what: 'a region not serving (503 REGION_NOT_SERVING)',
      answer: error(503, 'REGION_NOT_SERVING'),
      movesOn: true,
    },
    { what: 'no quorum (503 STATE_UNAVAILABLE)', answer: error(503, 'STATE_UNAVAILABLE'), movesOn: true },
    {
      what: "a failover's coordinator out of reach (503 COORDINATOR_UNREACHABLE)",
      answer: error(503, 'COORDINATOR_UNREACHABLE'),
      movesOn: true,
    },
    { what: "the gateway's own 502 (no code)", answer: gateway(502, 'Internal Server Error'), movesOn: true },
    { what: 'an error of its own (500 INTERNAL)', answer: error(500, 'INTERNAL'), movesOn: false },
    { what: 'a validation error (400)', answer: error(400, 'VALIDATION_FAILED'), movesOn: false },
    { what: 'a refused signature (403, no code)', answer: gateway(403, 'Forbidden'), movesOn: false },
    { what: 'not found (404)', answer: error(404, 'NOT_FOUND'), movesOn: false },
    { what: 'throttling (429, no code)', answer: gateway(429, 'Too Many Requests'), movesOn: false },
  ];

  it.each(CASES)(
    '$what: the proxy and the CLI ask the next region alike (moves on: $movesOn)',
    async ({ answer, movesOn }) => {
      const first = await fake(() => answer, 'us-east-1');
      const second = await fake(
        () => ({ status: 200, body: { observer: 'eu-west-1', regions: [] } }),
        'eu-west-1',
      );
      const p = await proxy({
        upstreams: [
          { name: 'us-east-1', url: first.url },
          { name: 'eu-west-1', url: second.url },
        ],
      });
      const viaProxy = await fetch(`${p.url}/v1/regions`);
      expect(viaProxy.status).toBe(movesOn ? 200 : answer.status);
      expect(viaProxy.headers.get(UPSTREAM_HEADER)).toBe(movesOn ? 'eu-west-1' : 'us-east-1');
      expect(second.calls).toEqual(movesOn ? ['GET /v1/regions'] : []);

      const c = cli();
      expect(await c.run('regions', '--endpoint', `${first.url},${second.url}`)).toBe(movesOn ? 0 : 1);
      expect(first.calls).toEqual(['GET /v1/regions', 'GET /v1/regions']);
      expect(second.calls).toEqual(movesOn ? ['GET /v1/regions', 'GET /v1/regions'] : []);
    },
  );
});

describe('what it passes on', () => {
  it('is read-only by default: failover actions need --allow-actions; other writes and the local fault API never pass', async () => {
    const api = await fake(() => ({ status: 202, body: { failover_id: 'f-1' } }), 'us-east-1');
    const readOnly = await proxy({ upstreams: [{ name: 'us-east-1', url: api.url }] });
    const post = (url: string, path: string) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: url },
        body: JSON.stringify({ failed_region: 'us-east-1', reason: 'drill' }),
      });
    const refused = await post(readOnly.url, '/v1/failovers');
    expect(refused.status).toBe(403);
    expect(await errorOf(refused)).toMatchObject({ code: 'READ_ONLY' });
    expect(api.calls).toEqual([]);

    const acting = await proxy({ upstreams: [{ name: 'us-east-1', url: api.url }], allowActions: true });
    expect((await post(acting.url, '/v1/failovers')).status).toBe(202);
    expect((await post(acting.url, '/v1/failovers/f-1/abort')).status).toBe(202);
    expect((await post(acting.url, '/v1/route')).status).toBe(405);
    expect((await post(acting.url, '/v1/sim/faults')).status).toBe(404);
    const sim = await fetch(`${acting.url}/v1/sim`);
    expect(sim.status).toBe(404);
    expect((await errorOf(sim)).code).toBe('NOT_LOCAL');
    expect((await fetch(`${acting.url}/v1/events?since=0`)).status).toBe(404);
    expect(api.calls).toEqual(['POST /v1/failovers', 'POST /v1/failovers/f-1/abort']);
  });

  it('serves the page with a policy that lets it call its own origin only, and tells it the endpoints and whether it may act', async () => {
    const api = await fake(regionsAnswer('us-east-1'), 'us-east-1');
    const p = await proxy({ upstreams: [{ name: 'us-east-1', url: api.url }], timeoutMs: 4_000 });
    const page = await fetch(`${p.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self';");
    expect(page.headers.get('access-control-allow-origin')).toBeNull();
    const endpoints = await (await fetch(`${p.url}/dashboard/endpoints.json`)).json();
    expect(endpoints).toEqual({
      gateway: '',
      regions: {},
      proxy: { upstreams: [{ name: 'us-east-1', url: api.url }], actions: false, timeout_ms: 6_000 },
    });
  });

  it('answers only requests addressed to its own host and from its own origin (DNS rebinding, cross-site requests)', async () => {
    const api = await fake(regionsAnswer('us-east-1'), 'us-east-1');
    const p = await proxy({ upstreams: [{ name: 'us-east-1', url: api.url }], allowActions: true });
    const host = new URL(p.url).host;
    expect((await raw(p.url, '/v1/regions', { host })).status).toBe(200);
    expect(
      (await raw(p.url, '/v1/regions', { host: `attacker.example:${new URL(p.url).port}` })).status,
    ).toBe(421);
    expect((await raw(p.url, '/', { host: 'attacker.example' })).status).toBe(421);
    expect((await raw(p.url, '/v1/regions', { host, origin: 'https://attacker.example' })).status).toBe(403);
    expect(
      (await raw(p.url, '/v1/failovers', { host, origin: 'http://127.0.0.1:4600' }, 'POST')).status,
    ).toBe(403);
    expect(api.calls).toEqual(['GET /v1/regions']);
  });
});

describe('the command', () => {
  it('cortex dashboard --endpoint serves the page, naming each endpoint by the region its ping answers as, until it is stopped', async () => {
    const us = await fake(
      (method, path) =>
        path === '/api/v1/ping'
          ? { status: 200, body: { region: 'us-east-1' } }
          : regionsAnswer('us-east-1')(method, path),
      'us-east-1',
    );
    const c = cli();
    const running = c.run('dashboard', '--endpoint', us.url, '--port', '0');
    await vi.waitFor(() => expect(c.out[0]).toMatch(/^cortex dashboard: open http:\/\/127\.0\.0\.1:\d+\/$/));
    const url = (c.out[0] ?? '').replace(/^cortex dashboard: open /, '').replace(/\/$/, '');
    expect(c.out[1]).toContain(`us-east-1 (${us.url})`);
    expect(c.out[2]).toContain('read-only');
    const endpoints = (await (await fetch(`${url}/dashboard/endpoints.json`)).json()) as {
      proxy: { upstreams: unknown };
    };
    expect(endpoints.proxy.upstreams).toEqual([{ name: 'us-east-1', url: us.url }]);
    expect((await fetch(`${url}/v1/regions`)).status).toBe(200);
    process.emit('SIGTERM');
    expect(await running).toBe(0);
    await expect(fetch(`${url}/v1/regions`)).rejects.toThrow();
  });
});

describe('binding', () => {
  it('refuses to listen anywhere but a 127.x address', async () => {
    for (const host of ['0.0.0.0', '192.168.1.10', '::', 'localhost']) {
      await expect(
        startDashboardProxy({ upstreams: [{ name: 'x', url: 'http://127.0.0.1:1' }], host, port: 0 }),
      ).rejects.toThrow(/not a loopback address/);
    }
    const c = cli();
    expect(await c.run('dashboard', '--host', '0.0.0.0', '--endpoint', 'https://example.com')).toBe(2);
    expect(c.err[0]).toMatch(/--host 0\.0\.0\.0 is not a loopback address/);
  });
});
