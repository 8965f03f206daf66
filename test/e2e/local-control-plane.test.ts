import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  formatBanner,
  type LocalControlPlane,
  startLocalControlPlane,
} from '../../lib/local/control-plane.ts';
import { loadTopologyFile } from '../../lib/topology/load.ts';
import { call } from '../support/plane.ts';

const LAG_MS = 50;
const topology = loadTopologyFile();
const regionIds = topology.regions.map((r) => r.region_id);
const primary = (topology.regions.find((r) => r.tier === 'primary') ?? topology.regions[0])?.region_id ?? '';

/** Handles that would keep a process alive: listening servers, sockets, timers. */
function liveHandles(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((kind) => kind === 'TCPServerWrap' || kind === 'TCPSocketWrap' || kind === 'Timeout')
    .sort();
}

function route(plane: LocalControlPlane, body: unknown) {
  return call(`${plane.gatewayUrl}/v1/route`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const TASK = { task_id: 'task-e2e-1', priority: 'high', source: { region: primary } };

let dataDir: string;
let plane: LocalControlPlane | undefined;
let handlesBefore: string[];

function started(): LocalControlPlane {
  if (!plane) throw new Error('the control plane is not running');
  return plane;
}

beforeAll(async () => {
  handlesBefore = liveHandles();
  dataDir = await mkdtemp(join(tmpdir(), 'cortex-local-'));
  plane = await startLocalControlPlane({
    port: 0,
    dataDir,
    fresh: true,
    replicationLagMs: LAG_MS,
    log: () => {},
  });
});

afterAll(async () => {
  await plane?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('the local control plane', () => {
  it('describes where everything is at GET /v1/sim', async () => {
    const cp = started();
    const { status, body } = await call(`${cp.gatewayUrl}/v1/sim`);

    expect(status).toBe(200);
    expect(Object.keys(body.regions)).toEqual(regionIds);
    regionIds.forEach((id, i) => {
      const address = `127.0.1.${i + 1}`;
      expect(body.regions[id]).toMatchObject({
        address,
        url: expect.stringMatching(`^http://${address}:\\d+$`),
      });
      expect(body.regions[id].url).toBe(cp.regions[id]?.url);
    });
    expect(body.gateway).toEqual({ url: cp.gatewayUrl, region: primary });
    expect(cp.gatewayUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(body.data_dir).toBe(dataDir);
    expect(body.replication.lag_ms).toBe(LAG_MS);
    expect(body.replication.links).toHaveLength(regionIds.length * (regionIds.length - 1));
  });

  it('prints a short banner with the URLs and what to try', () => {
    const cp = started();
    const banner = formatBanner(cp);
    expect(banner).toContain(cp.gatewayUrl);
    for (const region of Object.values(cp.regions)) expect(banner).toContain(region.url);
    expect(banner).toContain(`curl -s -X POST ${cp.gatewayUrl}/v1/route`);
    expect(banner).toContain('npx cortex regions');
    expect(banner.split('\n').length).toBeLessThan(20);
  });

  it('answers GET /health and GET /api/v1/ping on every region endpoint', async () => {
    for (const id of regionIds) {
      const url = started().regions[id]?.url ?? '';
      const health = await call(`${url}/health`);
      expect(health.status, `${id} /health`).toBe(200);
      expect(health.body).toMatchObject({ region: id });
      const ping = await call(`${url}/api/v1/ping`);
      expect(ping.status, `${id} /api/v1/ping`).toBe(200);
      expect(ping.body).toMatchObject({ region: id });
    }
  });

  it('routes a task through the gateway and replicates the handoff to the other regions', async () => {
    const cp = started();
    const { status, body } = await route(cp, TASK);

    expect(status).toBe(200);
    expect(regionIds).toContain(body.region);
    expect(body.handoff).toMatchObject({
      source_region: primary,
      target_region: body.region,
      status: 'pending',
    });
    const handoffId: string = body.handoff.handoff_id;

    const elsewhere = regionIds.filter((id) => id !== primary);
    await vi.waitFor(
      async () => {
        for (const id of elsewhere) {
          const handoff = await cp.runtime.region(id).deps.state.getHandoff(handoffId);
          expect(handoff, `handoff in ${id}`).toMatchObject({
            handoff_id: handoffId,
            target_region: body.region,
          });
        }
      },
      // Replication takes milliseconds; a busy machine can make it seconds.
      { timeout: 20_000, interval: 20 },
    );
  });

  it('keeps handoffs across a restart on the same data dir', async () => {
    const first = await route(started(), TASK);
    expect(first.status).toBe(200);

    await started().stop();
    plane = undefined;
    plane = await startLocalControlPlane({ port: 0, dataDir, replicationLagMs: LAG_MS, log: () => {} });

    const again = await route(started(), TASK);
    expect(again.status).toBe(200);
    expect(again.body.region).toBe(first.body.region);
    expect(again.body.handoff).toEqual(first.body.handoff);
    const other = regionIds.find((id) => id !== primary) ?? primary;
    expect(
      await started().runtime.region(other).deps.state.getHandoff(first.body.handoff.handoff_id),
    ).toBeDefined();
  });

  it('answers 413 to a body over 64 KiB without reading all of it', async () => {
    const { status, body } = await route(started(), `{"task_id":"${'x'.repeat(70 * 1024)}"}`);
    expect(status).toBe(413);
    expect(body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers 404 to an unknown path on the gateway and on a region endpoint', async () => {
    const cp = started();
    const gateway = await call(`${cp.gatewayUrl}/v1/nowhere`);
    expect(gateway.status).toBe(404);
    expect(gateway.body.error.code).toBe('NOT_FOUND');
    const region = await call(`${cp.regions[primary]?.url}/v1/sim`);
    expect(region.status).toBe(404);
  });

  it('fails clearly when the gateway port is taken and releases what it had started', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const otherDir = await mkdtemp(join(tmpdir(), 'cortex-local-busy-'));
    try {
      await expect(
        startLocalControlPlane({ port, dataDir: otherDir, fresh: true, log: () => {} }),
      ).rejects.toThrow(`cannot bind the gateway on 127.0.0.1:${port}: the port is already in use`);
      // The data dir's lock and the region endpoints were released: the same dir starts again.
      const retry = await startLocalControlPlane({ port: 0, dataDir: otherDir, log: () => {} });
      await retry.stop();
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('refuses a second control plane on a data dir in use', async () => {
    await expect(startLocalControlPlane({ port: 0, dataDir, log: () => {} })).rejects.toThrow(/in use/);
    const sim = await call(`${started().gatewayUrl}/v1/sim`);
    expect(sim.status).toBe(200);
  });

  it('leaves no servers, sockets or timers behind when stopped', async () => {
    await started().stop();
    plane = undefined;
    await vi.waitFor(() => expect(liveHandles()).toEqual(handlesBefore), { timeout: 10_000, interval: 20 });
  });
});
