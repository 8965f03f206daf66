/**
 * Erasure on the local runtime: one dynalite per region with global-table-like replication, the
 * regional API dispatcher, and a partition that cuts a region off (its replica unreachable, its
 * replication links paused) until the test heals it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrivacySweeperHandler } from '../../functions/privacy-sweeper/handler.ts';
import type { PrivacyDeps } from '../../lib/app/privacy/deps.ts';
import type { Handoff } from '../../lib/core/state/records.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { createRegionalApi } from '../../lib/local/regional-api.ts';
import { type LocalRuntime, startLocalRuntime } from '../../lib/runtime/local.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { httpEvent, lambdaContext } from '../support/events.ts';

const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';
const REGIONS = [US, EU, AP];

let dataDir: string;
let runtime: LocalRuntime;
const cutOff = new Set<string>();

function handoff(taskId: string, subjectId: string, hold?: { basis: string; reason: string }): Handoff {
  return {
    handoff_id: `cross-region-${taskId}`,
    task_id: taskId,
    source_region: EU,
    target_region: EU,
    routing_score: 80,
    status: 'pending',
    created_at: '2026-11-26T12:00:00Z',
    task: { task_id: taskId, subject_id: subjectId, ...(hold ? { legal_hold: hold } : {}) },
    request_hash: 'seeded',
    decision: { candidates: [], excluded: [] },
  };
}

function partition(region: string, cut: boolean): void {
  for (const other of REGIONS.filter((r) => r !== region)) {
    for (const [from, to] of [
      [region, other],
      [other, region],
    ] as const) {
      if (cut) runtime.replication.pause(from, to);
      else runtime.replication.resume(from, to);
    }
  }
  if (cut) cutOff.add(region);
  else cutOff.delete(region);
}

async function held(region: string, h: Handoff): Promise<boolean> {
  return (await runtime.region(region).deps.state.getHandoff(h.handoff_id)) !== undefined;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cortex-privacy-'));
  runtime = await startLocalRuntime({
    topology: validateTopology(defaultTopologyJson()),
    dataDir,
    fresh: true,
    inMemory: true,
    replicationLagMs: 20,
    network: { blocked: (from, to) => cutOff.has(from) || cutOff.has(to) },
  });
});
afterAll(async () => {
  await runtime?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('erasure on replicated state', () => {
  it('erases everywhere but the record under legal obligation; a partitioned replica is finished after it heals', async () => {
    const plain = handoff('r1', 'rita');
    const onHold = handoff('r2', 'rita', { basis: 'legal_obligation', reason: 'court order 2026-17' });
    await runtime.region(EU).deps.state.createHandoff(plain);
    await runtime.region(EU).deps.state.createHandoff(onHold);
    await runtime.replication.flush({ all: true });
    for (const region of REGIONS) expect(await held(region, plain)).toBe(true);

    partition(AP, true);
    const api = createRegionalApi(runtime.region(EU).deps);
    const answer = await api(
      httpEvent({
        method: 'POST',
        path: '/v1/privacy/requests',
        body: { type: 'erasure', subject_id: 'rita', jurisdiction: 'european_union' },
      }),
    );
    expect(answer.statusCode).toBe(202);
    const created = JSON.parse(answer.body ?? '{}');
    expect(created.status).toBe('partially_completed');
    expect(created.regions[AP]).toMatchObject({
      outcome: 'unreachable',
      error: 'ReplicaUnreachableError: eu-west-1 cannot reach the replica in ap-south-1',
    });
    expect(created.regions[EU].records).toEqual([
      { record_id: plain.handoff_id, kind: 'handoff', action: 'erased' },
      {
        record_id: onHold.handoff_id,
        kind: 'handoff',
        action: 'kept',
        exception: 'legal_obligation',
        reason: 'court order 2026-17',
      },
    ]);
    await runtime.replication.flush({ all: true });
    expect(await held(US, plain)).toBe(false);
    // Cut off: its copy is still there.
    expect(await held(AP, plain)).toBe(true);

    partition(AP, false);
    await runtime.replication.flush({ all: true });
    // The delete replicated (a tombstone outranks the older copy) before the sweeper came back.
    expect(await held(AP, plain)).toBe(false);
    const deps = runtime.region(EU).deps as PrivacyDeps;
    const report = await createPrivacySweeperHandler(deps, { log: () => undefined })({}, lambdaContext);
    expect(report.processed).toEqual({ [created.request_id]: 'completed' });

    const done = await api(
      httpEvent({
        method: 'GET',
        path: `/v1/privacy/requests/${created.request_id}`,
        routePath: '/v1/privacy/requests/{id}',
      }),
    );
    const record = JSON.parse(done.body ?? '{}');
    expect(done.statusCode).toBe(200);
    expect(record.status).toBe('completed');
    expect(record.regions[AP]).toMatchObject({
      outcome: 'searched',
      attempts: 2,
      found: [onHold.handoff_id],
      records: [{ record_id: onHold.handoff_id, action: 'kept', exception: 'legal_obligation' }],
    });
    for (const region of REGIONS) {
      expect(await held(region, plain)).toBe(false);
      expect(await held(region, onHold)).toBe(true);
    }
    // The request and its proof replicate like every other record.
    await runtime.replication.flush({ all: true });
    const seenFromUs = await runtime.region(US).deps.privacy?.(US).getRequest(created.request_id);
    expect(seenFromUs?.status).toBe('completed');
  });
});
