import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { McpServerRecord } from '../../lib/core/mcp/registry.ts';
import type { McpProbePort } from '../../lib/ports.ts';

/** How the stand-in MCP server answers its health route. */
export type McpServerMode = 'ok' | 'unavailable' | 'reset' | 'hang';

/**
 * A stand-in MCP server on loopback (real HTTP): every health route it is asked answers as `mode`
 * says. Its requests are recorded by path.
 */
export class StandInMcpServer {
  mode: McpServerMode = 'ok';
  readonly requests: string[] = [];
  #server: Server | undefined;

  async start(): Promise<URL> {
    this.#server = createServer((request, response) => {
      this.requests.push(String(request.url));
      if (this.mode === 'reset') {
        request.socket.destroy();
        return;
      }
      // A hung server answers nothing; the socket goes when the server closes.
      if (this.mode === 'hang') return;
      response.writeHead(this.mode === 'ok' ? 200 : 503, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ status: this.mode }));
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    return new URL(`http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`);
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve());
  }
}

export interface McpProbeFixture {
  /** The adapter under test, every call reaching `server`. */
  readonly probe: McpProbePort;
  /** A server of the shipped topology the adapter may call (its region's own, named endpoint). */
  readonly record: Pick<McpServerRecord, 'region' | 'server' | 'endpoint'>;
  /** The time observations are stamped with. */
  now(): number;
}

/**
 * The McpProbePort contract, run against every adapter (test/contract/*-mcp-probe.test.ts):
 * an answer is `ok`; a refusal (5xx), a reset and a call past its timeout are failed observations
 * that say why, never a throw; every observation names its observer, server and region and is
 * stamped at the call's start; the call reaches the server's health route once.
 */
export function mcpProbeContract(
  name: string,
  makeFixture: (server: StandInMcpServer, base: URL) => Promise<McpProbeFixture>,
): void {
  describe(`McpProbePort contract: ${name}`, () => {
    const server = new StandInMcpServer();
    let fixture: McpProbeFixture;

    beforeAll(async () => {
      fixture = await makeFixture(server, await server.start());
    });
    afterAll(() => server.close());
    beforeEach(() => {
      server.mode = 'ok';
      server.requests.length = 0;
    });

    it('an answering server is ok, observed by the caller, stamped at the call', async () => {
      const at = fixture.now();
      const seen = await fixture.probe.probeMcp('eu-west-1', fixture.record, 2_000);
      expect(seen).toMatchObject({
        observer: 'eu-west-1',
        region: fixture.record.region,
        server: fixture.record.server,
        ok: true,
        at,
      });
      expect(seen.error).toBeUndefined();
      expect(seen.unprobed).toBeUndefined();
      expect(seen.latency_ms).toBeGreaterThanOrEqual(0);
      expect(server.requests).toHaveLength(1);
      expect(server.requests[0]).toMatch(/\/health$/);
    });

    it('a server that answers 503 is a failed call naming the status', async () => {
      server.mode = 'unavailable';
      const seen = await fixture.probe.probeMcp('eu-west-1', fixture.record, 2_000);
      expect(seen).toMatchObject({ ok: false, error: 'http 503' });
    });

    it('a reset connection is a failed call, not a throw', async () => {
      server.mode = 'reset';
      const seen = await fixture.probe.probeMcp('eu-west-1', fixture.record, 2_000);
      expect(seen).toMatchObject({ ok: false, error: 'reset' });
    });

    it('a server that never answers is a timeout once the call runs out of time', async () => {
      server.mode = 'hang';
      const seen = await fixture.probe.probeMcp('eu-west-1', fixture.record, 200);
      expect(seen).toMatchObject({ ok: false, error: 'timeout' });
    });
  });
}
