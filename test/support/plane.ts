/** The local control plane as the end-to-end tests drive it: started per test, called over HTTP. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, vi } from 'vitest';
import {
  type LocalControlPlane,
  type LocalControlPlaneOptions,
  startLocalControlPlane,
} from '../../lib/local/control-plane.ts';

// biome-ignore lint/suspicious/noExplicitAny: raw topology JSON, edited freely by the tests.
type RawTopology = any;

/** An answer's status and parsed JSON body. */
// biome-ignore lint/suspicious/noExplicitAny: answers are JSON checked by shape with expect()
export async function call(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

export function post(url: string, body: unknown) {
  return call(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export { withFastPolicy } from '../fixtures/topologies.ts';

export interface PlaneUnderTest {
  /** Writes `raw` as the topology file and starts a plane on ephemeral ports, stopped after the test. */
  start(raw: RawTopology, options?: Partial<LocalControlPlaneOptions>): Promise<LocalControlPlane>;
  running(): LocalControlPlane;
}

/** A fresh plane per test of the calling file, in its own temporary data directory. */
export function usePlane(prefix: string, speed: number): PlaneUnderTest {
  let plane: LocalControlPlane | undefined;
  let dataDir: string | undefined;
  afterEach(async () => {
    await plane?.stop();
    plane = undefined;
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  });
  return {
    async start(raw, options = {}) {
      dataDir = await mkdtemp(join(tmpdir(), prefix));
      const topologyPath = join(dataDir, 'topology.json');
      await writeFile(topologyPath, JSON.stringify(raw));
      plane = await startLocalControlPlane({
        port: 0,
        dataDir: join(dataDir, 'data'),
        fresh: true,
        topologyPath,
        speed,
        log: () => {},
        ...options,
      });
      return plane;
    },
    running() {
      if (!plane) throw new Error('the control plane is not running');
      return plane;
    },
  };
}

/**
 * One plane for the whole calling file or describe block (by default the default topology, real
 * speed, replication lag 20 ms), started before its tests and stopped after: for tests that read
 * the plane and do not break it, or that break it in one way they all watch. `raw` is written as
 * its topology file; `options` override the start options.
 */
export function useSharedPlane(
  prefix: string,
  raw?: RawTopology,
  options: Partial<LocalControlPlaneOptions> = {},
): {
  plane(): LocalControlPlane;
  endpoint(): string;
  /** A temporary directory of this file's, for files its tests write. */
  dataDir(): string;
} {
  let plane: LocalControlPlane | undefined;
  let dataDir: string | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), prefix));
    let topology: { topologyPath: string; dataDir: string } | undefined;
    if (raw !== undefined) {
      // The plane's own data beside the topology file, so that a fresh start leaves the file alone.
      topology = { topologyPath: join(dataDir, 'topology.json'), dataDir: join(dataDir, 'data') };
      await writeFile(topology.topologyPath, JSON.stringify(raw));
    }
    plane = await startLocalControlPlane({
      port: 0,
      dataDir,
      fresh: true,
      replicationLagMs: 20,
      log: () => {},
      ...topology,
      ...options,
    });
  });
  afterAll(async () => {
    await plane?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  const running = () => {
    if (!plane) throw new Error('the control plane is not running');
    return plane;
  };
  return {
    plane: running,
    endpoint: () => running().gatewayUrl,
    dataDir: () => {
      if (!dataDir) throw new Error('the control plane is not running');
      return dataDir;
    },
  };
}

/** Waits until every observer sees every region of `plane` healthy. */
export async function untilAllHealthy(plane: LocalControlPlane, timeoutMs: number): Promise<void> {
  const regions = Object.keys(plane.regions);
  // Every other region and every witness.
  const observers = regions.length - 1 + plane.runtime.witnesses.length;
  await vi.waitFor(
    async () => {
      for (const region of regions) {
        const views = await plane.runtime.region(region).deps.state.listTargetHealth();
        expect(views.filter((v) => v.target === region && v.verdict === 'healthy').length).toBe(observers);
      }
    },
    { timeout: timeoutMs, interval: 20 },
  );
}
