/**
 * The compliance store's contract (CompliancePort), against DynamoDB's behaviour in dynalite: the
 * only adapter, used on AWS and locally.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoComplianceAdapter } from '../../lib/adapters/aws/dynamodb-compliance.ts';
import type { ComplianceApproval, ComplianceAuditReport } from '../../lib/core/compliance/types.ts';
import { ConflictError } from '../../lib/core/errors.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';

let table: TestTable;
let store: DynamoComplianceAdapter;

beforeAll(async () => {
  table = await startTestTable();
  store = new DynamoComplianceAdapter({ client: table.doc, tableName: table.tableName });
});
afterAll(() => table.close());

function approval(ref: string, use: string, at: string): ComplianceApproval {
  return {
    approval_ref: ref,
    use_id: use,
    task_id: 't-1',
    data_classification: 'sensitive',
    user_location: 'IN',
    jurisdictions: ['india'],
    target_region: 'us-east-1',
    recorded_at: at,
    recorded_by: 'ap-south-1',
  };
}

function report(id: string, date: string): ComplianceAuditReport {
  const zero = { data_residency: 0, encryption: 0, access_control: 0, retention: 0 };
  return {
    audit_id: id,
    audit_date: date,
    region: 'us-east-1',
    trigger: 'manual',
    scope: { regions: ['us-east-1'], handoffs: 0, records: 0 },
    deployment: { source: 'aws', description: 'd' },
    checks: zero,
    total_violations: 0,
    violations_by_type: zero,
    compliance_score: 100,
    status: 'compliant',
    targets: { data_residency_violations: { value: 0, target: 0, met: true } },
    violations: [],
  };
}

describe('DynamoComplianceAdapter', () => {
  it('records each use of an approval once, and lists them newest first', async () => {
    await store.recordApproval(approval('MEITY-1', 'route:a', '2026-11-26T10:00:00Z'));
    await store.recordApproval(approval('MEITY-1', 'route:b', '2026-11-26T11:00:00Z'));
    // The same use again (a retried route) changes nothing, even with another time.
    await store.recordApproval(approval('MEITY-1', 'route:a', '2026-11-26T12:00:00Z'));
    const listed = await store.listApprovals();
    expect(listed.map((a) => [a.use_id, a.recorded_at])).toEqual([
      ['route:b', '2026-11-26T11:00:00Z'],
      ['route:a', '2026-11-26T10:00:00Z'],
    ]);
    expect(listed[0]).toEqual(approval('MEITY-1', 'route:b', '2026-11-26T11:00:00Z'));
  });

  it('stores a report once: the same id again is a conflict carrying the stored one', async () => {
    await store.putAudit(report('audit-us-east-1-20261125', '2026-11-25T00:00:00Z'));
    await store.putAudit(report('audit-us-east-1-20261126', '2026-11-26T00:00:00Z'));
    const again = store.putAudit({
      ...report('audit-us-east-1-20261126', '2026-11-26T09:00:00Z'),
      status: 'non_compliant',
    });
    await expect(again).rejects.toBeInstanceOf(ConflictError);
    await expect(again).rejects.toMatchObject({
      code: 'AUDIT_EXISTS',
      current: { audit_id: 'audit-us-east-1-20261126', status: 'compliant' },
    });
    expect(await store.getAudit('audit-us-east-1-20261126')).toEqual(
      report('audit-us-east-1-20261126', '2026-11-26T00:00:00Z'),
    );
    expect(await store.getAudit('audit-us-east-1-19990101')).toBeUndefined();
    expect((await store.listAudits()).map((a) => a.audit_id)).toEqual([
      'audit-us-east-1-20261126',
      'audit-us-east-1-20261125',
    ]);
  });

  it('rethrows what is not a conditional-write failure', async () => {
    const broken = new DynamoComplianceAdapter({ client: table.doc, tableName: 'no-such-table' });
    await expect(broken.recordApproval(approval('X-1', 'route:x', '2026-11-26T10:00:00Z'))).rejects.toThrow(
      /non-existent table|not found/i,
    );
    await expect(
      broken.putAudit(report('audit-us-east-1-20261126', '2026-11-26T00:00:00Z')),
    ).rejects.not.toBeInstanceOf(ConflictError);
  });
});
