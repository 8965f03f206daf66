/**
 * The ops store on DynamoDB (dynalite): incidents and daily reports are one conditional put each;
 * a taken id is a conflict carrying what is stored, a restore's replace only lands on an incident
 * still in the status it read, and lists come newest first. Vendor errors other than a failed
 * condition propagate unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoOpsAdapter } from '../../lib/adapters/aws/dynamodb-ops.ts';
import { ConflictError } from '../../lib/core/errors.ts';
import type { DailyReport } from '../../lib/core/ops/daily-report.ts';
import type { IncidentRecord } from '../../lib/core/ops/shutdown.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';

let table: TestTable;
let ops: DynamoOpsAdapter;

beforeAll(async () => {
  table = await startTestTable();
  ops = new DynamoOpsAdapter({ client: table.doc, tableName: table.tableName });
});
afterAll(async () => {
  await table.close();
});

function incident(id: string, openedAt: string): IncidentRecord {
  return {
    incident_id: id,
    kind: 'emergency_shutdown',
    region: 'us-east-1',
    reason: 'drill',
    status: 'open',
    opened_at: openedAt,
    opened_by: 'operator',
    epoch: 1,
    drain_timeout_seconds: 300,
    drain_until: openedAt,
    work_at_shutdown: { pending: 0, accepted: 0 },
    notified: [],
    audit: [],
  };
}

function report(id: string, at: string): DailyReport {
  const ok = { status: 'ok' as const, findings: [] };
  return {
    report_id: id,
    region: 'us-east-1',
    date: at.slice(0, 10),
    generated_at: at,
    trigger: 'scheduled',
    status: 'ok',
    checks: { health: ok, replication: ok, latency: ok, capacity: ok, compliance: ok, cost: ok },
    open_incidents: [],
  };
}

describe('DynamoOpsAdapter', () => {
  it('creates an incident once: a taken id is INCIDENT_EXISTS carrying the stored one', async () => {
    const first = incident('incident-us-east-1-e1', '2026-12-03T06:00:00.000Z');
    await ops.createIncident(first);
    const error = await ops.createIncident({ ...first, reason: 'other' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ code: 'INCIDENT_EXISTS', current: { reason: 'drill' } });
    expect(await ops.getIncident('incident-us-east-1-e1')).toEqual(first);
  });

  it('replaces an incident only from the status it read; two restores resolve it once', async () => {
    const stored = (await ops.getIncident('incident-us-east-1-e1')) as IncidentRecord;
    const resolved = { ...stored, status: 'resolved' as const, resolved_by: 'a' };
    await ops.replaceIncident(resolved, 'open');
    const second = await ops
      .replaceIncident({ ...stored, status: 'resolved', resolved_by: 'b' }, 'open')
      .catch((e: unknown) => e);
    expect(second).toMatchObject({ code: 'INCIDENT_CHANGED', current: { resolved_by: 'a' } });
    const missing = await ops
      .replaceIncident(incident('incident-us-east-1-e9', '2026-12-03T07:00:00.000Z'), 'open')
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'INCIDENT_CHANGED', current: undefined });
  });

  it('lists incidents and reports newest first; a report id is written once', async () => {
    await ops.createIncident(incident('incident-eu-west-1-e3', '2026-12-03T08:00:00.000Z'));
    expect((await ops.listIncidents()).map((i) => i.incident_id)).toEqual([
      'incident-eu-west-1-e3',
      'incident-us-east-1-e1',
    ]);
    await ops.putReport(report('ops-us-east-1-20261202T060000Z', '2026-12-02T06:00:00.000Z'));
    await ops.putReport(report('ops-us-east-1-20261203T060000Z', '2026-12-03T06:00:00.000Z'));
    await expect(
      ops.putReport(report('ops-us-east-1-20261203T060000Z', '2026-12-03T06:00:00.000Z')),
    ).rejects.toMatchObject({ code: 'REPORT_EXISTS' });
    expect((await ops.listReports()).map((r) => r.report_id)).toEqual([
      'ops-us-east-1-20261203T060000Z',
      'ops-us-east-1-20261202T060000Z',
    ]);
    expect(await ops.getReport('ops-us-east-1-20201203T060000Z')).toBeUndefined();
  });

  it('lets an error that is not a failed condition through unchanged', async () => {
    const broken = new DynamoOpsAdapter({ client: table.doc, tableName: 'no-such-table' });
    const error = await broken
      .replaceIncident(incident('incident-us-east-1-e1', '2026-12-03T06:00:00.000Z'), 'open')
      .catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(ConflictError);
    expect((error as Error).name).toBe('ResourceNotFoundException');
  });
});
