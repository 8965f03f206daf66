/**
 * The local HTTP bridge against hostile clients, on real sockets and the real clock: slow-loris
 * connections are ended by the header and request timeouts, an oversized body is a 413 the client
 * reads (not a reset), and Node's own rejections carry the API's error body.
 */
import type { Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpBridge, DEFAULT_HEADERS_TIMEOUT_MS } from '../../lib/local/http.ts';
import { closeServer, listen } from '../../lib/local/listen.ts';

const HEADERS_TIMEOUT_MS = 400;
const REQUEST_TIMEOUT_MS = 800;

/**
 * A connection is ended by the timeouts the bridge was given: not before them (a client still inside
 * its deadline keeps its connection; a millisecond for Node's clock rounding), and well before the
 * bridge's own default (10 s), which would mean the options were not applied. How late past the
 * deadline a busy machine's connection check runs is not asserted beyond that: it grows with the
 * load, and a client that is never ended fails the test by its own timeout.
 */
function expectEndedByDeadline(afterMs: number, deadlineMs: number): void {
  expect(afterMs).toBeGreaterThanOrEqual(deadlineMs - 1);
  expect(afterMs).toBeLessThan(DEFAULT_HEADERS_TIMEOUT_MS);
}

const servers: Server[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) await closeServer(server, 100);
});

async function bridge(): Promise<{ port: number; calls: () => number }> {
  let calls = 0;
  const server = createHttpBridge(
    async (event) => {
      calls++;
      return { statusCode: 200, body: JSON.stringify({ bytes: event.body?.length ?? 0 }) };
    },
    { headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS },
  );
  servers.push(server);
  const port = await listen(server, '127.0.0.1', 0, 'the test bridge');
  return { port, calls: () => calls };
}

/** A raw connection; resolves with everything the server sent once it closes, and when. */
function rawClient(port: number): {
  socket: Socket;
  closed: Promise<{ text: string; afterMs: number }>;
} {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  const started = performance.now();
  let text = '';
  socket.on('data', (chunk) => {
    text += chunk.toString('utf8');
  });
  socket.on('error', () => undefined);
  const closed = new Promise<{ text: string; afterMs: number }>((resolve) =>
    socket.on('close', () => resolve({ text, afterMs: performance.now() - started })),
  );
  return { socket, closed };
}

function statusOf(raw: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
}

function errorBodyOf(raw: string): { error: { code: string; message: string; details: unknown[] } } {
  return JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
}

describe('the local HTTP bridge against hostile clients', () => {
  it('ends slow-loris connections that never finish their headers, with a 408 error body', async () => {
    const { port, calls } = await bridge();
    const clients = Array.from({ length: 20 }, () => rawClient(port));
    const drips = clients.map(({ socket }) => {
      socket.write('GET /v1/regions HTTP/1.1\r\nHost: x\r\n');
      // One header byte every 50 ms, forever.
      return setInterval(() => socket.writable && socket.write('X'), 50);
    });
    try {
      const ends = await Promise.all(clients.map((c) => c.closed));
      for (const end of ends) {
        expectEndedByDeadline(end.afterMs, HEADERS_TIMEOUT_MS);
        if (end.text !== '') {
          expect(statusOf(end.text)).toBe(408);
          expect(errorBodyOf(end.text).error).toMatchObject({
            code: 'REQUEST_TIMEOUT',
            details: [expect.anything()],
          });
        }
      }
      expect(ends.filter((e) => statusOf(e.text) === 408).length).toBeGreaterThan(0);
      expect(calls()).toBe(0);
    } finally {
      for (const drip of drips) clearInterval(drip);
    }
  });

  it('ends a connection that sends its body too slowly', async () => {
    const { port, calls } = await bridge();
    const client = rawClient(port);
    client.socket.write(
      'POST /v1/route HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{',
    );
    const drip = setInterval(() => client.socket.writable && client.socket.write(' '), 50);
    try {
      const end = await client.closed;
      expectEndedByDeadline(end.afterMs, REQUEST_TIMEOUT_MS);
      expect(calls()).toBe(0);
    } finally {
      clearInterval(drip);
    }
  });

  it('an idle connection that sends nothing is closed', async () => {
    const { port } = await bridge();
    const end = await rawClient(port).closed;
    expectEndedByDeadline(end.afterMs, HEADERS_TIMEOUT_MS);
  });

  it('a 10 MB PUT is a 413 with the error body, read by the client instead of a reset', async () => {
    const { port, calls } = await bridge();
    const response = await fetch(`http://127.0.0.1:${port}/v1/documents/doc-1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: `{"value":"${'x'.repeat(10 * 1024 * 1024)}"}`,
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({
      error: { code: 'PAYLOAD_TOO_LARGE', message: expect.any(String), details: [{ field: '(body)' }] },
    });
    expect(calls()).toBe(0);
  });

  it('a chunked body that crosses the limit is a 413 as it crosses it', async () => {
    const { port, calls } = await bridge();
    const client = rawClient(port);
    client.socket.write('PUT /v1/documents/doc-1 HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\n\r\n');
    const chunk = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 8; i++) client.socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    client.socket.end('0\r\n\r\n');
    const end = await client.closed;
    expect(statusOf(end.text)).toBe(413);
    expect(errorBodyOf(end.text).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(calls()).toBe(0);
  });

  it('Expect: 100-continue with a too large Content-Length is refused before the body is sent', async () => {
    const { port } = await bridge();
    const client = rawClient(port);
    client.socket.write(
      'PUT /v1/documents/doc-1 HTTP/1.1\r\nHost: x\r\nexpect: 100-continue\r\ncontent-length: 5000000\r\n\r\n',
    );
    const first = await new Promise<string>((resolve) =>
      client.socket.once('data', (c) => resolve(String(c))),
    );
    expect(statusOf(first)).toBe(413);
  });

  it("answers Node's own rejections with the error body: headers too large (431), bad framing (400)", async () => {
    const { port, calls } = await bridge();
    const huge = rawClient(port);
    huge.socket.write(`GET /v1/regions HTTP/1.1\r\nHost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
    const bigEnd = await huge.closed;
    expect(statusOf(bigEnd.text)).toBe(431);
    expect(errorBodyOf(bigEnd.text).error).toMatchObject({
      code: 'HEADERS_TOO_LARGE',
      details: [expect.anything()],
    });

    for (const request of [
      'POST /v1/route HTTP/1.1\r\nHost: x\r\ncontent-length: abc\r\n\r\n',
      'POST /v1/route HTTP/1.1\r\nHost: x\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
      'NOT A REQUEST\r\n\r\n',
    ]) {
      const client = rawClient(port);
      client.socket.write(request);
      const end = await client.closed;
      expect(statusOf(end.text), request).toBe(400);
      expect(errorBodyOf(end.text).error).toMatchObject({
        code: 'BAD_REQUEST',
        details: [expect.anything()],
      });
    }
    expect(calls()).toBe(0);
  });
});
