import type { Server } from 'node:http';
import { request } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiHandler, createHttpBridge } from '../../lib/local/http.ts';
import { closeServer, listen } from '../../lib/local/listen.ts';

let server: Server | undefined;

async function serve(handler: ApiHandler, log?: (line: string) => void): Promise<string> {
  server = createHttpBridge(handler, log ? { log } : {});
  const port = await listen(server, '127.0.0.1', 0, 'the test bridge');
  return `http://127.0.0.1:${port}`;
}

/** A handler that records the events it receives and answers with `result`. */
function recorder(result: APIGatewayProxyStructuredResultV2 = { statusCode: 204 }) {
  const events: APIGatewayProxyEventV2[] = [];
  const handler: ApiHandler = async (event) => {
    events.push(event);
    return result;
  };
  return { events, handler };
}

afterEach(async () => {
  if (server) await closeServer(server);
  server = undefined;
});

describe('the local HTTP bridge (API Gateway HTTP API stand-in)', () => {
  it('turns a request into a payload 2.0 event', async () => {
    const { events, handler } = recorder();
    const base = await serve(handler);
    const sentAt = Date.now();
    await fetch(`${base}/v1/regions/eu-west-1?verbose=1&tag=a&tag=b`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'cortex-test', 'X-Trace': 't-1' },
      body: '{"a":1}',
    });
    const answeredAt = Date.now();

    const [event] = events;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/v1/regions/eu-west-1',
      rawQueryString: 'verbose=1&tag=a&tag=b',
      queryStringParameters: { verbose: '1', tag: 'a,b' },
      headers: { 'content-type': 'application/json', 'user-agent': 'cortex-test', 'x-trace': 't-1' },
      body: '{"a":1}',
      isBase64Encoded: false,
      requestContext: {
        http: {
          method: 'POST',
          path: '/v1/regions/eu-west-1',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'cortex-test',
        },
        stage: '$default',
      },
    });
    expect(event?.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    // The request's arrival time, as API Gateway stamps it: between sending and the answer, however
    // long a busy machine took in between.
    expect(event?.requestContext.timeEpoch).toBeGreaterThanOrEqual(sentAt);
    expect(event?.requestContext.timeEpoch).toBeLessThanOrEqual(answeredAt);
    expect(event?.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
  });

  it('gives no body and no query parameters to a plain GET', async () => {
    const { events, handler } = recorder();
    const base = await serve(handler);
    await fetch(`${base}/health`);

    expect(events[0]?.body).toBeUndefined();
    expect(events[0]?.queryStringParameters).toBeUndefined();
    expect(events[0]?.rawQueryString).toBe('');
  });

  it('writes the status, headers and body of the structured result', async () => {
    const { handler } = recorder({
      statusCode: 201,
      headers: { 'content-type': 'application/json', 'x-region': 'us-east-1' },
      body: '{"ok":true}',
    });
    const base = await serve(handler);
    const response = await fetch(`${base}/anything`);

    expect(response.status).toBe(201);
    expect(response.headers.get('x-region')).toBe('us-east-1');
    expect(await response.json()).toEqual({ ok: true });
  });

  it('answers 413 itself for a body declared larger than the limit, without calling the handler', async () => {
    const { events, handler } = recorder({ statusCode: 200, body: 'fine' });
    const base = await serve(handler);
    const response = await fetch(`${base}/v1/route`, { method: 'POST', body: 'x'.repeat(1024 * 1024) });

    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({
      error: { code: 'PAYLOAD_TOO_LARGE', details: [{ field: '(body)' }], limit_bytes: 64 * 1024 },
    });
    expect(events).toHaveLength(0);
  });

  it('answers 413 for a streamed oversized body without waiting for its end', async () => {
    const { events, handler } = recorder({ statusCode: 200, body: 'fine' });
    const base = await serve(handler);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${base}/v1/route`, {
        method: 'POST',
        headers: { 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      // 70 KiB now, and the body never ends.
      req.write('x'.repeat(70 * 1024));
    });

    expect(status).toBe(413);
    expect(events).toHaveLength(0);
  });

  it('answers a plain 500 when the handler throws, and keeps serving', async () => {
    const lines: string[] = [];
    let calls = 0;
    const base = await serve(
      async () => {
        calls++;
        if (calls === 1) throw new Error('secret internals');
        return { statusCode: 200, body: 'fine' };
      },
      (line) => lines.push(line),
    );

    const failed = await fetch(`${base}/boom`);
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({
      error: { code: 'INTERNAL', message: 'internal error', details: [] },
    });
    expect(lines.join('\n')).toContain('secret internals');

    const next = await fetch(`${base}/boom`);
    expect(next.status).toBe(200);
  });

  it('refuses to listen on anything but a 127.x address', async () => {
    const { handler } = recorder();
    await expect(listen(createHttpBridge(handler), '0.0.0.0', 0, 'a bridge')).rejects.toThrow(/127\.x/);
  });
});
