/**
 * `kill -9` of the local control plane (a real child process, `cortex local`) while a failover
 * waits for an operator's approval, then a restart on the same data directory without `--fresh`.
 * Invariant: a crash never strands a failover. The restarted plane resumes it from its record (it
 * asks for the approval again with a new token); approving completes it with one primary; an abort
 * after a crash ends it too.
 *
 * The topology is the shipped one with `require_manual_approval: true`, so the failover is
 * reliably in flight when the process is killed. The plane is killed once: the two tests restart
 * from the same crash, each from its own byte-for-byte copy of the data directory as the kill left
 * it, so neither sees what the other's restart wrote.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { isServing } from '../../lib/core/state/records.ts';
import { call, post, withFastPolicy } from '../support/plane.ts';
import { freePorts } from '../support/ports.ts';

/**
 * Simulated ms per real ms. The child plane's probes time out at 10 simulated seconds and its p99
 * threshold is 5: 2 s and 1 s of real time here. A plane starved of CPU longer than that by a busy
 * machine sees healthy regions fail (at 20, a quarter of a second was enough).
 */
const SPEED = 5;
/**
 * How long a wait on the child may take, in real time: a start, a detection, an approval reaching
 * it. Each takes seconds; a busy machine stretches them, and the deadline only names what never came.
 */
const PATIENCE_MS = 90_000;
const TEST_TIMEOUT_MS = 4 * PATIENCE_MS;
/** The crash: a start, every region seen healthy, a detection and the kill. */
const CRASH_TIMEOUT_MS = 4 * PATIENCE_MS;
const ROOT = new URL('../..', import.meta.url).pathname;

let dir: string | undefined;
const children: ChildProcess[] = [];
const outputs = new Map<ChildProcess, () => string>();

async function stopChildren(): Promise<void> {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }
}

afterEach(stopChildren);

afterAll(async () => {
  await stopChildren();
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/** The gateway's port (regions share its number on 127.0.1.x) and the DNS server's. */
async function ports(): Promise<{ port: number; dns: number }> {
  const [port, dns] = (await freePorts(2)) as [number, number];
  return { port, dns };
}

async function startPlane(
  dataDir: string,
  topology: string,
  p: { port: number; dns: number },
  fresh: boolean,
): Promise<ChildProcess> {
  const args = [
    'bin/cortex.ts',
    'local',
    '--data-dir',
    dataDir,
    '--topology',
    topology,
    '--port',
    String(p.port),
    '--dns-port',
    String(p.dns),
    '--speed',
    String(SPEED),
    ...(fresh ? ['--fresh'] : []),
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  outputs.set(child, () => output);
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  await vi.waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`cortex local exited ${child.exitCode}: ${output}`);
      const ping = await fetch(`http://127.0.0.1:${p.port}/api/v1/ping`);
      expect(ping.status).toBe(200);
    },
    { timeout: PATIENCE_MS, interval: 100 },
  );
  return child;
}

const eu = (p: { port: number }) => `http://127.0.1.2:${p.port}`;

async function failoverOf(p: { port: number }) {
  const answer = await call(`${eu(p)}/v1/failovers?failed_region=us-east-1`);
  return answer.body?.failovers?.[0] as
    | { failover_id: string; status: string; coordinator: string; error?: { name: string } }
    | undefined;
}

interface Crash {
  /** One copy of the data directory per test, each as the kill left it. */
  readonly dataDirs: readonly [string, string];
  readonly topology: string;
  readonly p: { port: number; dns: number };
  readonly id: string;
}

async function killMidFailover(): Promise<Crash> {
  dir = await mkdtemp(join(tmpdir(), 'cortex-kill9-'));
  const raw = JSON.parse(await readFile(join(ROOT, 'topology/default.json'), 'utf8'));
  raw.failover_policies.automatic_failover.require_manual_approval = true;
  // The fast policy (probes every 10 s): this test is about the process, not the detection timing.
  withFastPolicy(raw);
  raw.failover_policies.automatic_failover.decision_timeout_seconds = 3600;
  // After the restart eu-west-1's replica may hold no write of us-east-1 (in some runs it does, in
  // some not): the resumed failover then waits out sync_critical_state's max wait, a fifth of the execution phase (60 s of
  // the spec's 300 s, 12 real seconds at SPEED), and records the data-loss window as unknown. A
  // 100 s phase keeps that path and its outcome with a 20 s wait (4 real seconds); no step here comes
  // near the budget.
  const execution = raw.failover_policies.failover_sequence.find(
    (s: { step: string }) => s.step === 'execution',
  );
  execution.timeout_seconds = 100;
  const topology = join(dir, 'topology.json');
  await writeFile(topology, JSON.stringify(raw));
  const dataDir = join(dir, 'data');
  const p = await ports();
  const first = await startPlane(dataDir, topology, p, true);
  // Every observer must see every region before the fault.
  await vi.waitFor(
    async () => {
      const { body } = await call(`${eu(p)}/v1/regions`);
      const states = (body?.regions ?? []).map((r: { health?: { state: string } }) => r.health?.state);
      expect(states).toEqual(['healthy', 'healthy', 'healthy']);
    },
    { timeout: PATIENCE_MS, interval: 100 },
  );
  expect(
    (await post(`http://127.0.0.1:${p.port}/v1/sim/faults`, { region: 'us-east-1', kind: 'down' })).status,
  ).toBe(201);
  const waiting = await vi.waitFor(
    async () => {
      const record = await failoverOf(p);
      expect(record?.status).toBe('awaiting_approval');
      return record as { failover_id: string };
    },
    { timeout: PATIENCE_MS, interval: 50 },
  );
  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  const copy = join(dir, 'data-copy');
  await cp(dataDir, copy, { recursive: true });
  return { dataDirs: [dataDir, copy], topology, p, id: waiting.failover_id };
}

describe('kill -9 in the middle of a failover', () => {
  let crash: Crash | undefined;
  beforeAll(async () => {
    crash = await killMidFailover();
  }, CRASH_TIMEOUT_MS);
  const crashed = (): Crash => {
    if (!crash) throw new Error('the plane was not killed mid-failover');
    return crash;
  };

  it(
    'the restarted plane resumes it; approving completes it with one primary',
    async () => {
      const { dataDirs, topology, p, id } = crashed();
      await startPlane(dataDirs[0], topology, p, false);
      // us-east-1 is still dead (faults live in memory: inject it again).
      expect(
        (await post(`http://127.0.0.1:${p.port}/v1/sim/faults`, { region: 'us-east-1', kind: 'down' }))
          .status,
      ).toBe(201);
      // Resumed: it waits for the approval again (a new token), so approving reaches a live execution.
      const approved = await vi.waitFor(
        async () => {
          const answer = await post(`${eu(p)}/v1/failovers/${id}/approve`, { by: 'oncall' });
          expect(answer.status).toBe(200);
          return answer;
        },
        { timeout: PATIENCE_MS, interval: 100 },
      );
      expect(approved.status).toBe(200);
      await vi.waitFor(
        async () => {
          const record = await failoverOf(p);
          expect(record?.status, JSON.stringify(record)).toBe('completed');
        },
        { timeout: PATIENCE_MS, interval: 100 },
      );
      const regions = (await call(`${eu(p)}/v1/regions`)).body.regions as {
        region_id: string;
        status: 'healthy' | 'failed';
        role: string;
      }[];
      expect(
        regions.filter((r) => r.role === 'primary' && isServing(r.status)).map((r) => r.region_id),
      ).toEqual(['eu-west-1']);
      expect(regions.find((r) => r.region_id === 'us-east-1')?.status).toBe('failed');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'an abort after the crash ends it (cancelled), and the region stays as it was',
    async () => {
      const { dataDirs, topology, p, id } = crashed();
      const second = await startPlane(dataDirs[1], topology, p, false);
      const aborted = await post(`${eu(p)}/v1/failovers/${id}/abort`, { reason: 'drill' });
      expect(aborted.status, outputs.get(second)?.()).toBe(200);
      expect(aborted.body).toMatchObject({ failover_id: id, abort_requested: true });
      await vi.waitFor(
        async () => expect(['cancelled', 'rolled_back']).toContain((await failoverOf(p))?.status),
        { timeout: PATIENCE_MS, interval: 100 },
      );
    },
    TEST_TIMEOUT_MS,
  );
});
