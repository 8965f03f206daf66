/**
 * `kill -9` of the local control plane (a real child process, `cortex local`) while a replication
 * link is paused, then a restart on the same data directory. Invariant: every acknowledged write
 * reaches every replica, and a write acknowledged after the restart is not dropped as superseded by
 * one made before it (at --speed the restarted simulated clock runs behind the stamps already given).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { call, post } from '../support/plane.ts';
import { freePorts } from '../support/ports.ts';

const SPEED = 20;
const ROOT = new URL('../..', import.meta.url).pathname;
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'];

let dir: string | undefined;
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function startPlane(dataDir: string, port: number, dns: number, fresh: boolean): Promise<ChildProcess> {
  const args = ['bin/cortex.ts', 'local', '--data-dir', dataDir, '--port', String(port)];
  args.push('--dns-port', String(dns), '--speed', String(SPEED), ...(fresh ? ['--fresh'] : []));
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  await vi.waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`cortex local exited ${child.exitCode}: ${output}`);
      expect((await fetch(`http://127.0.0.1:${port}/api/v1/ping`)).status).toBe(200);
    },
    { timeout: 30_000, interval: 100 },
  );
  return child;
}

/** Region i of the topology answers on 127.0.1.(i+1). */
const endpoint = (port: number, region: string) => `http://127.0.1.${REGIONS.indexOf(region) + 1}:${port}`;

async function put(url: string, body: unknown) {
  const response = await fetch(url, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

describe('kill -9 with a paused replication link', () => {
  it('delivers every acknowledged write after the restart; a complete after it is not superseded', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-kill9-replication-'));
    const dataDir = join(dir, 'data');
    const [port, dns] = (await freePorts(2)) as [number, number];
    const gateway = `http://127.0.0.1:${port}`;
    const us = endpoint(port, 'us-east-1');
    const first = await startPlane(dataDir, port, dns, true);
    await vi.waitFor(
      async () => {
        const { body } = await call(`${us}/v1/regions`);
        const states = (body?.regions ?? []).map((r: { health?: { state: string } }) => r.health?.state);
        expect(states).toEqual(['healthy', 'healthy', 'healthy']);
      },
      { timeout: 30_000, interval: 100 },
    );

    const pause = await post(`${gateway}/v1/sim/replication/pause`, { from: 'us-east-1', to: 'ap-south-1' });
    expect(pause.status).toBe(200);
    const documents = Array.from({ length: 12 }, (_, i) => `kill9-doc-${i}`);
    // Written at once: each key is its own item, and every one must be acknowledged.
    const written = await Promise.all(
      documents.map((key, i) => put(`${us}/v1/documents/${key}`, { content: { n: i, by: 'kill9' } })),
    );
    expect(written.map((w) => w.status)).toEqual(documents.map(() => 200));
    const routed = await post(`${us}/v1/route`, { task_id: 'kill9-task', source: { region: 'us-east-1' } });
    expect(routed.status, JSON.stringify(routed.body)).toBe(200);
    const handoff = routed.body.handoff as { handoff_id: string; target_region: string };
    const layout = await call(`${gateway}/v1/sim`);
    const link = layout.body.replication.links.find(
      (l: { from: string; to: string }) => l.from === 'us-east-1' && l.to === 'ap-south-1',
    );
    expect(link.queued).toBeGreaterThanOrEqual(documents.length);

    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    await startPlane(dataDir, port, dns, false);
    expect(
      (await post(`${gateway}/v1/sim/replication/resume`, { from: 'us-east-1', to: 'ap-south-1' })).status,
    ).toBe(200);

    // After the restart, the target region's workers take the handoff and finish it.
    const target = endpoint(port, handoff.target_region);
    const accepted = await post(`${target}/v1/handoffs/${handoff.handoff_id}/accept`, { worker: 'w-1' });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    const completed = await post(`${target}/v1/handoffs/${handoff.handoff_id}/complete`, {});
    expect(completed.status, JSON.stringify(completed.body)).toBe(200);

    await vi.waitFor(
      async () => {
        // Every replica's copy of every write, read at once.
        const reads = REGIONS.flatMap((region) => [
          ...documents.map(async (key, i) => {
            const { status, body } = await call(`${endpoint(port, region)}/v1/documents/${key}`);
            expect(status, `${key} in ${region}`).toBe(200);
            expect(JSON.stringify(body), `${key} in ${region}`).toContain(`{"n":${i},"by":"kill9"}`);
          }),
          (async () => {
            const { body } = await call(`${endpoint(port, region)}/v1/handoffs/${handoff.handoff_id}`);
            expect(body?.status, `the handoff in ${region}`).toBe('completed');
          })(),
        ]);
        // Every read settled before the next attempt; the first failure names what is missing.
        for (const read of await Promise.allSettled(reads)) if (read.status === 'rejected') throw read.reason;
      },
      { timeout: 30_000, interval: 200 },
    );
  }, 120_000);
});
