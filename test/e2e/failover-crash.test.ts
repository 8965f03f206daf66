/**
 * A crash in the middle of a failover, on the shipped default topology: the workflow's execution
 * dies with the process while the record says `running`; a new process on the same data directory
 * must end it (completed, or rolled back) with one primary, and an abort must always end it.
 *
 * The crash is the loss of every execution the process ran (what `kill -9` does to the ASL
 * interpreter) with the stores kept as they were written: the record is the durable progress.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FailoverRecord } from '../../lib/core/failover/types.ts';
import { isServing } from '../../lib/core/state/records.ts';
import { type LocalControlPlane, startLocalControlPlane } from '../../lib/local/control-plane.ts';
import { post, untilAllHealthy } from '../support/plane.ts';

const SPEED = 20;
const REAL_INTERVAL_MS = 30_000 / SPEED;

let dir: string | undefined;
const planes: LocalControlPlane[] = [];

afterEach(async () => {
  for (const p of planes.splice(0)) await p.stop().catch(() => undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function startOn(dataDir: string, topologyPath: string, fresh: boolean): Promise<LocalControlPlane> {
  const plane = await startLocalControlPlane({
    port: 0,
    dataDir,
    fresh,
    topologyPath,
    speed: SPEED,
    log: () => {},
  });
  planes.push(plane);
  return plane;
}

const waitFor = <T>(check: () => Promise<T> | T, timeoutMs: number) =>
  vi.waitFor(check, { timeout: timeoutMs, interval: 20 });

async function crashMidFailover(
  options: { abortAfterCrash?: boolean } = {},
): Promise<{ topologyPath: string; dataDir: string; id: string }> {
  dir = await mkdtemp(join(tmpdir(), 'cortex-crash-'));
  const topologyPath = join(dir, 'topology.json');
  await writeFile(
    topologyPath,
    await readFile(new URL('../../topology/default.json', import.meta.url), 'utf8'),
  );
  const dataDir = join(dir, 'data');
  const first = await startOn(dataDir, topologyPath, true);
  await untilAllHealthy(first, 10 * REAL_INTERVAL_MS);
  first.network.inject({ region: 'us-east-1', kind: 'down' });
  const state = first.runtime.region('eu-west-1').deps.state;
  // Crash once the workflow has recorded a step and before it ends.
  const running = await waitFor(async () => {
    const [record] = await state.listFailovers('us-east-1');
    expect(record?.status).toBe('running');
    expect(record?.steps.length).toBeGreaterThan(0);
    return record as FailoverRecord;
  }, 20 * REAL_INTERVAL_MS);
  await first.runtime.workflow.close();
  // A task the interpreter had already handed to the failover function finishes its write.
  await new Promise((r) => setTimeout(r, 500));
  const stranded = await state.getFailover(running.failover_id);
  expect(stranded?.status).toBe('running');
  if (options.abortAfterCrash) {
    // Nothing runs it any more: the abort is recorded, and only a resumed execution can act on it.
    const aborted = await post(
      `${first.regions['eu-west-1']?.url}/v1/failovers/${running.failover_id}/abort`,
      {
        reason: 'crash drill',
      },
    );
    expect(aborted.status).toBe(200);
  }
  await first.stop();
  planes.splice(planes.indexOf(first), 1);
  return { topologyPath, dataDir, id: running.failover_id };
}

describe('a crash in the middle of a failover', () => {
  // Invariant: a crash never strands a failover; the next process resumes it from its record.
  it('resumes after a restart and ends completed, with one primary', async () => {
    const { topologyPath, dataDir, id } = await crashMidFailover();
    const second = await startOn(dataDir, topologyPath, false);
    second.network.inject({ region: 'us-east-1', kind: 'down' });
    const state = second.runtime.region('eu-west-1').deps.state;
    const done = await waitFor(async () => {
      const record = await state.getFailover(id);
      expect(['completed', 'rolled_back']).toContain(record?.status);
      return record as FailoverRecord;
    }, 20 * REAL_INTERVAL_MS);
    expect(done.status).toBe('completed');
    const statuses = await state.listRegionStatuses();
    const primaries = statuses.filter((s) => s.role === 'primary' && isServing(s.status));
    expect(primaries.map((s) => s.region_id)).toEqual(['eu-west-1']);
    expect(statuses.find((s) => s.region_id === 'us-east-1')?.status).toBe('failed');
  });

  // Invariant: an abort always ends a failover, even one whose execution died.
  it('an abort asked while nothing ran it ends it after the restart', async () => {
    const { topologyPath, dataDir, id } = await crashMidFailover({ abortAfterCrash: true });
    const second = await startOn(dataDir, topologyPath, false);
    const state = second.runtime.region('eu-west-1').deps.state;
    const done = await waitFor(async () => {
      const record = await state.getFailover(id);
      expect(['rolled_back', 'cancelled']).toContain(record?.status);
      return record as FailoverRecord;
    }, 20 * REAL_INTERVAL_MS);
    expect(done.error?.name).toBe('OperatorAbort');
    // Rolled back: us-east-1's status is restored (a higher epoch), no second primary.
    const statuses = await state.listRegionStatuses();
    expect(statuses.filter((s) => s.role === 'primary' && isServing(s.status)).length).toBeLessThanOrEqual(1);
  });
});
