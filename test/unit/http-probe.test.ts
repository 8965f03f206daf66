import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpProbe, parseCoordinationStatus } from '../../lib/adapters/aws/http-probe.ts';

const NOW = Date.parse('2026-11-26T12:00:00Z');
const CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret-test', sessionToken: 'token-test' };

interface Seen {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
}

const STATUS_BODY = {
  region: 'eu-west-1',
  role: 'active',
  status: 'degraded',
  serving: true,
  epoch: 4,
  available_capacity: 0.35,
  heartbeat: { seq: 17, at: NOW - 1_000 },
  peers: [],
};

/** One loopback server per behaviour, addressed as a region of its own. */
function server(handle: (req: IncomingMessage, res: import('node:http').ServerResponse) => void) {
  const s = createServer(handle);
  return new Promise<{ server: Server; url: string }>((resolve) =>
    s.listen(0, '127.0.0.1', () =>
      resolve({ server: s, url: `http://127.0.0.1:${(s.address() as AddressInfo).port}` }),
    ),
  );
}

const seen: Seen[] = [];
const servers: Server[] = [];
const urls: Record<string, string> = {};

beforeAll(async () => {
  const ok = await server((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.url === '/coordination/status' ? STATUS_BODY : { ok: true }));
  });
  const unavailable = await server((_req, res) => {
    res.statusCode = 503;
    res.end('{"status":"fenced"}');
  });
  const slow = await server((_req, res) => {
    setTimeout(() => res.end('{}'), 1_000).unref();
  });
  const garbage = await server((_req, res) => res.end('<html>not json</html>'));
  const closed = await server(() => {});
  await new Promise<void>((resolve) => closed.server.close(() => resolve()));
  servers.push(ok.server, unavailable.server, slow.server, garbage.server);
  Object.assign(urls, {
    'eu-west-1': ok.url,
    'ap-south-1': unavailable.url,
    'us-west-2': slow.url,
    'sa-east-1': garbage.url,
    'ca-central-1': closed.url,
  });
});

afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

const probe = () =>
  new HttpProbe({
    baseUrls: urls,
    clock: { now: () => NOW },
    credentials: async () => CREDENTIALS,
  });

describe('HttpProbe', () => {
  it('answers ok with latency and time for a 2xx', async () => {
    const o = await probe().probe('us-east-1', 'eu-west-1', '/api/v1/ping', 2_000);
    expect(o).toMatchObject({
      observer: 'us-east-1',
      target: 'eu-west-1',
      endpoint: '/api/v1/ping',
      ok: true,
      status: 200,
      at: NOW,
    });
    expect(o.latency_ms).toBeGreaterThanOrEqual(0);
    expect(o.latency_ms).toBeLessThan(2_000);
    expect(o.error).toBeUndefined();
  });

  it('reads status, available capacity and heartbeat from /coordination/status', async () => {
    const o = await probe().probe('us-east-1', 'eu-west-1', '/coordination/status', 2_000);
    expect(o).toMatchObject({
      ok: true,
      reported_status: 'degraded',
      available_capacity: 0.35,
      reported_heartbeat: { seq: 17, at: NOW - 1_000 },
    });
  });

  it('maps a 503 to a failed observation with the status', async () => {
    const o = await probe().probe('us-east-1', 'ap-south-1', '/health', 2_000);
    expect(o).toMatchObject({ ok: false, status: 503, error: 'http 503' });
  });

  it('gives up at the timeout', async () => {
    const o = await probe().probe('us-east-1', 'us-west-2', '/health', 100);
    expect(o).toMatchObject({ ok: false, error: 'timeout' });
    expect(o.status).toBeUndefined();
    expect(o.latency_ms).toBeGreaterThanOrEqual(90);
    expect(o.latency_ms).toBeLessThan(900);
  });

  it('reports a refused connection', async () => {
    const o = await probe().probe('us-east-1', 'ca-central-1', '/health', 2_000);
    expect(o).toMatchObject({ ok: false, error: 'refused' });
  });

  it('fails a coordination status that is not the JSON document', async () => {
    const o = await probe().probe('us-east-1', 'sa-east-1', '/coordination/status', 2_000);
    expect(o).toMatchObject({ ok: false, status: 200, error: 'malformed coordination status' });
  });

  it('fails a target it has no URL for without calling anything', async () => {
    const o = await probe().probe('us-east-1', 'me-south-1', '/health', 2_000);
    expect(o).toMatchObject({ ok: false, error: 'no endpoint known', latency_ms: 0 });
  });

  it('signs /coordination/status with SigV4 for execute-api in the target region, and not /health', async () => {
    seen.length = 0;
    await probe().probe('us-east-1', 'eu-west-1', '/coordination/status', 2_000);
    await probe().probe('us-east-1', 'eu-west-1', '/health', 2_000);
    const signed = seen.find((s) => s.path === '/coordination/status');
    const open = seen.find((s) => s.path === '/health');
    expect(open?.headers.authorization).toBeUndefined();
    const authorization = String(signed?.headers.authorization);
    expect(authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
    expect(signed?.headers['x-amz-security-token']).toBe('token-test');

    // The server side recomputes the signature from what arrived (Host included): it matches.
    const amzDate = String(signed?.headers['x-amz-date']);
    const date = new Date(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
    );
    const url = new URL(urls['eu-west-1'] ?? '');
    const verifier = new SignatureV4({
      service: 'execute-api',
      region: 'eu-west-1',
      credentials: CREDENTIALS,
      sha256: Hash.bind(null, 'sha256'),
    });
    const again = await verifier.sign(
      {
        method: 'GET',
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path: '/coordination/status',
        query: {},
        headers: { host: String(signed?.headers.host), accept: 'application/json' },
      },
      { signingDate: date },
    );
    expect(again.headers.authorization).toBe(authorization);
  });
});

describe('parseCoordinationStatus', () => {
  it('keeps only well-formed fields', () => {
    expect(
      parseCoordinationStatus(
        JSON.stringify({ status: 'sideways', available_capacity: 1.5, heartbeat: { seq: -1, at: 'x' } }),
      ),
    ).toEqual({});
    expect(parseCoordinationStatus('[]')).toBeUndefined();
    expect(parseCoordinationStatus('nope')).toBeUndefined();
  });
});
