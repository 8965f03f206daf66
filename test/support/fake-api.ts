/**
 * Stand-in endpoints for CLI tests: one that answers with canned JSON and records what it was asked,
 * one that resets every connection (a region that is down), and a port nobody listens on.
 */
import { createServer, type Server } from 'node:http';
import { REGION_HEADER } from '../../lib/app/routes.ts';
import { closeServer, listen } from '../../lib/local/listen.ts';

export interface FakeAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface FakeEndpoint {
  readonly url: string;
  /** `METHOD path` of every request, in order. */
  readonly calls: string[];
  close(): Promise<void>;
}

/** Answers `answer(method, path)` (default 404), naming `region` in the region header when given. */
export async function fakeEndpoint(
  answer: (method: string, path: string) => FakeAnswer | undefined,
  region?: string,
): Promise<FakeEndpoint> {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    calls.push(`${method} ${path}`);
    req.resume();
    req.on('end', () => {
      const reply = answer(method, path) ?? {
        status: 404,
        body: { error: { code: 'NOT_FOUND', message: `no route for ${method} ${path}` } },
      };
      res.writeHead(reply.status, {
        'content-type': 'application/json',
        ...(region ? { [REGION_HEADER]: region } : {}),
      });
      res.end(JSON.stringify(reply.body));
    });
  });
  return served(server, calls);
}

/** Resets every connection before answering, as a region endpoint does while it is down. */
export async function resettingEndpoint(): Promise<FakeEndpoint> {
  const calls: string[] = [];
  const server = createServer((req) => {
    calls.push(`${req.method} ${req.url}`);
    req.socket.resetAndDestroy();
  });
  return served(server, calls);
}

/**
 * The local gateway while the region it hands the API to is down: every API request is reset, its
 * own `GET /v1/sim` answers with each region's endpoint.
 */
export async function gatewayOfDownRegion(regions: Readonly<Record<string, string>>): Promise<FakeEndpoint> {
  const calls: string[] = [];
  const layout = JSON.stringify({
    regions: Object.fromEntries(Object.entries(regions).map(([id, url]) => [id, { url }])),
  });
  const server = createServer((req, res) => {
    calls.push(`${req.method} ${req.url}`);
    if (req.url !== '/v1/sim') {
      req.socket.resetAndDestroy();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(layout);
  });
  return served(server, calls);
}

/** A loopback URL where nothing listens (connection refused). */
export async function deadEndpoint(): Promise<string> {
  const server = createServer();
  const port = await listen(server, '127.0.0.1', 0, 'a dead endpoint');
  await closeServer(server);
  return `http://127.0.0.1:${port}`;
}

async function served(server: Server, calls: string[]): Promise<FakeEndpoint> {
  const port = await listen(server, '127.0.0.1', 0, 'a fake endpoint');
  return { url: `http://127.0.0.1:${port}`, calls, close: () => closeServer(server) };
}
