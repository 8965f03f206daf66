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
/** The slow region answers only when a test lets it: a probe that waits for it never returns. */
let slowAnswer: Promise<void> = Promise.resolve();
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
    void slowAnswer.then(() => res.end('{}'));
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

  // A probe must return at its deadline, not when a stalled region finally answers: the quorum
  // counts the timeout as down. The region holds its answer until the probe has returned, so a probe
  // that waited for it would never return (the test times out) however busy the machine; its
  // latency is at least the deadline, and how late past it a loaded machine returns is not asserted.
  it('gives up at the timeout without waiting for the answer', async () => {
    let answer = () => {};
    slowAnswer = new Promise<void>((resolve) => {
      answer = resolve;
    });
    try {
      const o = await probe().probe('us-east-1', 'us-west-2', '/health', 100);
      expect(o).toMatchObject({ ok: false, error: 'timeout' });
      expect(o.status).toBeUndefined();
      expect(o.latency_ms).toBeGreaterThanOrEqual(90);
    } finally {
      answer();
    }
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

  // Invariant: a fenced region adopting the newer record a peer holds of it takes its role too (a
  // promotion elsewhere took the primary role from it); a peer that reports no role reports none.
  it('keeps each peer status with its role when the peer reports one', () => {
    const peers = [
      { region: 'us-east-1', status: 'fenced', role: 'active', epoch: 3, updated_at: 'x' },
      { region: 'ap-south-1', status: 'healthy', epoch: 2 },
      { region: 'eu-west-1', status: 'healthy', role: 7, epoch: 1 },
    ];
    expect(parseCoordinationStatus(JSON.stringify({ peers }))?.reported_peers).toEqual([
      { region: 'us-east-1', status: 'fenced', role: 'active', epoch: 3 },
      { region: 'ap-south-1', status: 'healthy', epoch: 2 },
      { region: 'eu-west-1', status: 'healthy', epoch: 1 },
    ]);
  });
});

describe('HttpProbe.probeEndpoints: one request per round (the bundle)', () => {
  const ROUND = ['/health', '/api/v1/ping', '/coordination/status'];
  /** A probe whose fetch answers `answer(url)` after `roundTripMs` of its monotonic clock. */
  const bundleProbe = (answer: (url: URL) => Response, roundTripMs = 120) => {
    let now = 0;
    const requests: URL[] = [];
    const signed: boolean[] = [];
    const fake: typeof fetch = async (input, init) => {
      const url = new URL(String(input));
      requests.push(url);
      signed.push('authorization' in ((init?.headers ?? {}) as Record<string, string>));
      now += roundTripMs;
      return answer(url);
    };
    const probe = new HttpProbe({
      baseUrls: { 'eu-west-1': 'https://abc.execute-api.eu-west-1.amazonaws.com' },
      clock: { now: () => NOW },
      monotonic: () => now,
      credentials: async () => CREDENTIALS,
      fetch: fake,
    });
    return { probe, requests, signed };
  };
  const jsonResponse = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

  // Invariant: the three paths cost one request, and each part becomes the observation its own
  // request would have made: its status, its reason, its latency (network plus its own time there).
  it('asks once for the round and keeps each part its own status, reason and latency', async () => {
    const { probe, requests, signed } = bundleProbe(() =>
      jsonResponse(200, {
        ms: 30,
        parts: [
          { path: '/health', status: 200, ms: 10 },
          { path: '/api/v1/ping', status: 500, ms: 1 },
          { path: '/coordination/status', status: 200, ms: 30, body: STATUS_BODY },
        ],
      }),
    );
    const round = await probe.probeEndpoints('us-east-1', 'eu-west-1', ROUND, 10_000);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.pathname).toBe('/coordination/probe');
    expect(requests[0]?.searchParams.get('paths')).toBe(ROUND.join(','));
    expect(requests[0]?.searchParams.get('timeout_ms')).toBe('10000');
    // It carries the status document, so it is IAM-signed like /coordination/status.
    expect(signed).toEqual([true]);
    expect(round).toEqual([
      {
        observer: 'us-east-1',
        target: 'eu-west-1',
        endpoint: '/health',
        at: NOW,
        ok: true,
        status: 200,
        latency_ms: 100,
      },
      {
        observer: 'us-east-1',
        target: 'eu-west-1',
        endpoint: '/api/v1/ping',
        at: NOW,
        ok: false,
        status: 500,
        error: 'http 500',
        latency_ms: 91,
      },
      {
        observer: 'us-east-1',
        target: 'eu-west-1',
        endpoint: '/coordination/status',
        at: NOW,
        ok: true,
        status: 200,
        latency_ms: 120,
        reported_status: 'degraded',
        available_capacity: 0.35,
        reported_heartbeat: { seq: 17, at: NOW - 1_000 },
        reported_peers: [],
      },
    ]);
  });

  // Invariant: a part that had not answered by the deadline is that part's timeout (no status, so
  // no proof of reach from it), and a part whose own request would have come back after the timeout is too.
  it('makes a part without an answer, or answering past the timeout, a timeout of that part alone', async () => {
    const { probe } = bundleProbe(
      () =>
        jsonResponse(200, {
          ms: 900,
          parts: [
            { path: '/health', status: 200, ms: 5 },
            { path: '/api/v1/ping', status: 200, ms: 950 },
            { path: '/coordination/status', ms: 900 },
          ],
        }),
      950,
    );
    const round = await probe.probeEndpoints('us-east-1', 'eu-west-1', ROUND, 1_000);
    expect(round[0]).toMatchObject({ ok: true, status: 200, latency_ms: 55 });
    expect(round[1]).toMatchObject({ ok: false, error: 'timeout', latency_ms: 1_000 });
    expect(round[1]?.status).toBeUndefined();
    expect(round[2]).toMatchObject({ ok: false, error: 'timeout', latency_ms: 1_000 });
    expect(round[2]?.status).toBeUndefined();
  });

  // Invariant: when the request as a whole fails, every path fails as its own request would have:
  // an answer (a gateway error, a malformed body) still carries its status, a lost request none.
  it('fails every path of a request that failed as a whole, keeping the status it answered', async () => {
    const gateway = await bundleProbe(() =>
      jsonResponse(502, { message: 'Internal Server Error' }),
    ).probe.probeEndpoints('us-east-1', 'eu-west-1', ROUND, 2_000);
    for (const o of gateway) expect(o).toMatchObject({ ok: false, status: 502, error: 'http 502' });
    const garbled = await bundleProbe(() =>
      jsonResponse(200, { parts: [{ path: '/health' }] }),
    ).probe.probeEndpoints('us-east-1', 'eu-west-1', ROUND, 2_000);
    for (const o of garbled)
      expect(o).toMatchObject({ ok: false, status: 200, error: 'malformed probe answer' });
    const lost = await bundleProbe(() => {
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    }).probe.probeEndpoints('us-east-1', 'eu-west-1', ROUND, 2_000);
    expect(lost.map((o) => o.endpoint)).toEqual(ROUND);
    for (const o of lost) {
      expect(o).toMatchObject({ ok: false, error: 'refused' });
      expect(o.status).toBeUndefined();
    }
  });

  // Invariant: a peer whose API has no bundle route yet (deployed before it) is probed path by path,
  // so a rolling deployment never makes a healthy region look failed.
  it('asks path by path when the target has no bundle route (404), and a path outside the bundle on its own', async () => {
    const { probe, requests } = bundleProbe((url) =>
      url.pathname === '/coordination/probe'
        ? jsonResponse(404, { message: 'Not Found' })
        : jsonResponse(200, url.pathname === '/coordination/status' ? STATUS_BODY : { ok: true }),
    );
    const round = await probe.probeEndpoints('us-east-1', 'eu-west-1', [...ROUND, '/custom'], 2_000);
    expect(round.map((o) => [o.endpoint, o.ok, o.status])).toEqual([
      ['/health', true, 200],
      ['/api/v1/ping', true, 200],
      ['/coordination/status', true, 200],
      ['/custom', true, 200],
    ]);
    expect(round[2]).toMatchObject({ reported_status: 'degraded' });
    expect(requests.map((u) => u.pathname).sort()).toEqual(
      ['/api/v1/ping', '/coordination/probe', '/coordination/status', '/custom', '/health'].sort(),
    );
  });
});
