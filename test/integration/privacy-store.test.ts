/**
 * The privacy adapter on dynalite: conditional writes and their conflicts, the export partition, and
 * the subject search and erasure over the handoffs the router writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoPrivacyAdapter } from '../../lib/adapters/aws/dynamodb-privacy.ts';
import { DynamoStateAdapter } from '../../lib/adapters/aws/dynamodb-state.ts';
import { ConflictError } from '../../lib/core/errors.ts';
import type { PrivacyRequestRecord } from '../../lib/core/privacy/types.ts';
import type { Handoff } from '../../lib/core/state/records.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';

let table: TestTable;
let privacy: DynamoPrivacyAdapter;
let state: DynamoStateAdapter;

function request(id: string, overrides: Partial<PrivacyRequestRecord> = {}): PrivacyRequestRecord {
  return {
    request_id: id,
    type: 'access',
    subject_id: 'user-1',
    jurisdiction: 'european_union',
    received_in: 'eu-west-1',
    status: 'received',
    created_at: '2026-11-26T12:00:00Z',
    due_at: '2026-12-26T12:00:00Z',
    right: { max_response_days: 30, exceptions: [], policy_regions: ['eu-west-1'] },
    regions: {},
    updated_at: '2026-11-26T12:00:00Z',
    version: 1,
    ...overrides,
  };
}

function handoff(taskId: string, task: Record<string, unknown>, target = 'eu-west-1'): Handoff {
  return {
    handoff_id: `cross-region-${taskId}`,
    task_id: taskId,
    source_region: 'eu-west-1',
    target_region: target,
    routing_score: 80,
    status: 'pending',
    created_at: '2026-11-26T12:00:00Z',
    task: { task_id: taskId, ...task },
    request_hash: 'seeded',
    decision: { candidates: [], excluded: [] },
  };
}

beforeAll(async () => {
  table = await startTestTable();
  privacy = new DynamoPrivacyAdapter({ client: table.doc, tableName: table.tableName });
  state = new DynamoStateAdapter({ client: table.doc, tableName: table.tableName });
});
afterAll(() => table.close());

describe('DynamoPrivacyAdapter', () => {
  it('creates a request once: a second create is a conflict carrying the stored one', async () => {
    await privacy.createRequest(request('dsr-a'));
    const error = await privacy.createRequest(request('dsr-a', { subject_id: 'other' })).catch((e) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ code: 'PRIVACY_REQUEST_EXISTS', current: { subject_id: 'user-1' } });
    expect(await privacy.getRequest('dsr-a')).toEqual(request('dsr-a'));
  });

  it('updates only at the expected version, bumping it; a stale writer gets the current record', async () => {
    await privacy.createRequest(request('dsr-b'));
    const updated = await privacy.updateRequest('dsr-b', { status: 'processing' }, 1);
    expect(updated).toMatchObject({ status: 'processing', version: 2 });
    const stale = await privacy.updateRequest('dsr-b', { status: 'completed' }, 1).catch((e) => e);
    expect(stale).toMatchObject({
      code: 'PRIVACY_REQUEST_CHANGED',
      current: { status: 'processing', version: 2 },
    });
    const missing = await privacy.updateRequest('dsr-none', { status: 'completed' }, 1).catch((e) => e);
    expect(missing).toMatchObject({
      code: 'PRIVACY_REQUEST_CHANGED',
      message: 'privacy request dsr-none does not exist',
    });
  });

  it('concurrent updates at the same version: exactly one wins', async () => {
    await privacy.createRequest(request('dsr-c'));
    const results = await Promise.allSettled([
      privacy.updateRequest('dsr-c', { status: 'processing' }, 1),
      privacy.updateRequest('dsr-c', { status: 'rejected' }, 1),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await privacy.getRequest('dsr-c'))?.version).toBe(2);
  });

  it('lists requests newest first', async () => {
    await privacy.createRequest(request('dsr-old', { created_at: '2026-01-01T00:00:00Z' }));
    await privacy.createRequest(request('dsr-new', { created_at: '2027-01-01T00:00:00Z' }));
    const ids = (await privacy.listRequests()).map((r) => r.request_id);
    expect(ids[0]).toBe('dsr-new');
    expect(ids.at(-1)).toBe('dsr-old');
  });

  it('keeps an export beside its request, lists it in record order and deletes one record', async () => {
    await privacy.createRequest(request('dsr-x'));
    const data = { task_id: 't' };
    await privacy.putExport('dsr-x', [
      { record_id: 'cross-region-b', kind: 'handoff', region: 'eu-west-1', data },
      { record_id: 'cross-region-a', kind: 'handoff', region: 'us-east-1', data },
    ]);
    expect((await privacy.listExport('dsr-x')).map((r) => r.record_id)).toEqual([
      'cross-region-a',
      'cross-region-b',
    ]);
    expect(await privacy.deleteExportRecord('dsr-x', 'cross-region-a')).toBe(true);
    expect(await privacy.deleteExportRecord('dsr-x', 'cross-region-a')).toBe(false);
    expect(await privacy.listExport('dsr-x')).toEqual([
      { record_id: 'cross-region-b', kind: 'handoff', region: 'eu-west-1', data },
    ]);
    // The request itself is not part of its export.
    expect((await privacy.getRequest('dsr-x'))?.request_id).toBe('dsr-x');
  });

  it('finds a subject’s handoffs under every target, including one a failover redirected', async () => {
    await state.createHandoff(handoff('s1', { subject_id: 'sam' }));
    await state.createHandoff(handoff('s2', { subject_id: 'sam' }, 'us-east-1'));
    await state.createHandoff(handoff('s3', { subject_id: 'sue' }));
    await state.createHandoff(handoff('s4', {}));
    await state.redirectHandoff(
      'cross-region-s1',
      { target_region: 'ap-south-1', status: 'redirected', routing_score: 50, redirected_from: 'eu-west-1' },
      'pending',
    );
    const found = await privacy.findSubjectHandoffs('sam', ['us-east-1', 'eu-west-1', 'ap-south-1']);
    expect(found.map((h) => [h.handoff_id, h.target_region])).toEqual([
      ['cross-region-s1', 'ap-south-1'],
      ['cross-region-s2', 'us-east-1'],
    ]);
    expect(await privacy.findSubjectHandoffs('nobody', ['eu-west-1'])).toEqual([]);
  });

  it('erases a handoff only while its task still carries the subject', async () => {
    await state.createHandoff(handoff('d1', { subject_id: 'dan' }));
    await state.createHandoff(handoff('d2', { subject_id: 'dora' }));
    expect(await privacy.eraseHandoff('cross-region-d2', 'dan')).toBe(false);
    expect(await state.getHandoff('cross-region-d2')).toBeDefined();
    expect(await privacy.eraseHandoff('cross-region-d1', 'dan')).toBe(true);
    expect(await state.getHandoff('cross-region-d1')).toBeUndefined();
    expect(await privacy.eraseHandoff('cross-region-d1', 'dan')).toBe(false);
  });
});
