import { describe, expect, it } from 'vitest';
import { type AuditInput, auditCompliance } from '../../lib/core/compliance/audit.ts';
import { AWS_DEPLOYMENT_FACTS, LOCAL_DEPLOYMENT_FACTS } from '../../lib/core/compliance/facts.ts';
import {
  EVIDENCE_RETENTION_DAYS,
  PERSONAL_TASK_RECORD_RETENTION_DAYS,
  patternMatches,
  retentionFor,
  TASK_RECORD_RETENTION_DAYS,
} from '../../lib/core/compliance/retention.ts';
import type { ComplianceApproval } from '../../lib/core/compliance/types.ts';
import type { SelectiveRecord } from '../../lib/core/replication/records.ts';
import type { Handoff } from '../../lib/core/state/records.ts';
import { loadTopologyFile } from '../../lib/topology/load.ts';

const t = loadTopologyFile();
const NOW = Date.parse('2026-11-26T12:00:00Z');
const DAY = 86_400_000;
const ago = (days: number) => new Date(NOW - days * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A handoff as the router stores it: the request it routed and where it went. */
function handoff(
  id: string,
  target: string,
  task: Record<string, unknown>,
  options: { source?: string; days?: number } = {},
): Handoff {
  return {
    handoff_id: `cross-region-${id}`,
    task_id: id,
    source_region: options.source ?? target,
    target_region: target,
    routing_score: 70,
    status: 'pending',
    created_at: ago(options.days ?? 1),
    task: { task_id: id, ...task },
    request_hash: 'h',
    decision: { candidates: [], excluded: [] },
  };
}

function approval(ref: string, target: string, days = 1): ComplianceApproval {
  return {
    approval_ref: ref,
    use_id: `route:${ref}`,
    data_classification: 'sensitive',
    user_location: 'IN',
    jurisdictions: ['india'],
    target_region: target,
    recorded_at: ago(days),
    recorded_by: 'ap-south-1',
  };
}

function audit(overrides: Partial<AuditInput> = {}) {
  return auditCompliance({
    topology: t,
    facts: AWS_DEPLOYMENT_FACTS,
    now: NOW,
    audit_id: 'audit-us-east-1-20261126',
    region: 'us-east-1',
    trigger: 'scheduled',
    regions: ['us-east-1', 'eu-west-1', 'ap-south-1'],
    handoffs: [],
    approvals: [],
    failovers: [],
    audits: [],
    ...overrides,
  });
}

const clean = {
  handoffs: [
    handoff('us-pii', 'us-east-1', {
      source: { country: 'US' },
      requirements: { data_classification: 'pii' },
    }),
    handoff('de-pii', 'eu-west-1', {
      source: { country: 'de' },
      requirements: { data_classification: 'pii' },
    }),
    handoff('in-sens', 'us-east-1', {
      source: { country: 'IN' },
      requirements: { data_classification: 'sensitive', approval_ref: 'MEITY-1' },
    }),
    handoff('free', 'ap-south-1', { source: { region: 'us-east-1' } }, { source: 'us-east-1' }),
  ],
  approvals: [approval('MEITY-1', 'us-east-1')],
};

describe('compliance audit', () => {
  it('finds nothing wrong with data placed by the rules on the AWS deployment: score 100, compliant', () => {
    const report = audit(clean);
    expect(report).toMatchObject({
      audit_id: 'audit-us-east-1-20261126',
      audit_date: '2026-11-26T12:00:00Z',
      total_violations: 0,
      violations_by_type: { data_residency: 0, encryption: 0, access_control: 0, retention: 0 },
      compliance_score: 100,
      status: 'compliant',
      targets: { data_residency_violations: { value: 0, target: 0, met: true } },
      deployment: { source: 'aws' },
      scope: { handoffs: 4, records: 5 },
      violations: [],
    });
    expect(report.checks.data_residency).toBe(4);
    expect(report.checks.encryption).toBeGreaterThan(0);
    expect(report.checks.access_control).toBeGreaterThan(0);
  });

  it('finds each kind of violation in seeded data', () => {
    const report = audit({
      facts: LOCAL_DEPLOYMENT_FACTS,
      handoffs: [
        ...clean.handoffs,
        // A German's personal data in Virginia (say, moved by hand or before the policy changed).
        handoff('de-in-us', 'us-east-1', {
          source: { country: 'DE' },
          requirements: { data_classification: 'pii' },
        }),
        // Approved as MEITY-404, but no such approval was ever recorded.
        handoff('in-unrecorded', 'us-east-1', {
          source: { country: 'IN' },
          requirements: { data_classification: 'sensitive', approval_ref: 'MEITY-404' },
        }),
        // A year and a half of routing records; 100 days of personal data under GDPR storage limitation.
        handoff('old', 'ap-south-1', {}, { days: 500 }),
        handoff(
          'old-pii',
          'eu-west-1',
          { source: { country: 'FR' }, requirements: { data_classification: 'pii' } },
          { days: 100 },
        ),
      ],
      approvals: clean.approvals,
      audits: [{ audit_id: 'audit-eu-west-1-20170101', region: 'eu-west-1', audit_date: ago(3600) }],
      failovers: [
        { failover_id: 'failover-us-east-1-e3', failed_region: 'us-east-1', initiated_at: ago(10) },
      ],
    });
    const byRule = (type: string) =>
      report.violations.filter((v) => v.type === type).map((v) => `${v.region} ${v.rule}`);
    expect(byRule('data_residency')).toEqual([
      'us-east-1 data_localization',
      'us-east-1 approval_unrecorded',
    ]);
    expect(byRule('encryption')).toEqual([
      'us-east-1 encryption_at_rest',
      'us-east-1 encryption_in_transit',
      'eu-west-1 encryption_at_rest',
      'eu-west-1 encryption_in_transit',
    ]);
    expect(byRule('access_control')).toEqual([
      'us-east-1 authentication',
      'us-east-1 access_logging',
      'eu-west-1 authentication',
    ]);
    expect(byRule('retention')).toEqual([
      `ap-south-1 retention:${TASK_RECORD_RETENTION_DAYS}d`,
      `eu-west-1 retention:${PERSONAL_TASK_RECORD_RETENTION_DAYS}d`,
      'eu-west-1 retention:2555d',
    ]);
    expect(report.violations_by_type).toEqual({
      data_residency: 2,
      encryption: 4,
      access_control: 3,
      retention: 3,
    });
    expect(report.total_violations).toBe(12);
    expect(report.status).toBe('non_compliant');
    expect(report.targets.data_residency_violations).toEqual({ value: 2, target: 0, met: false });
    const residency = report.violations.find((v) => v.rule === 'data_localization');
    expect(residency).toMatchObject({ record: { kind: 'handoff', id: 'cross-region-de-in-us' } });
    expect(residency?.detail).toMatch(
      /^handoff cross-region-de-in-us \(task de-in-us, pii data from DE\) is in us-east-1: european_union localizes/,
    );
    expect(report.violations.find((v) => v.rule === 'approval_unrecorded')?.detail).toMatch(
      /approved as "MEITY-404", but no approval record with that reference exists/,
    );
    expect(report.violations.find((v) => v.rule === 'retention:90d')?.detail).toBe(
      "handoff cross-region-old-pii (pii) in eu-west-1 is 100 days old; its retention is 90 days (storage limitation in eu-west-1's policy for pii data)",
    );
    expect(report.violations.find((v) => v.rule === 'encryption_at_rest')?.detail).toMatch(
      /^encryption at rest is required .* but the deployment \(local\) does not encrypt at rest \(4 regulated handoff\(s\) stored there\)$/,
    );
  });

  it('scores passed checks over checks run, and needs attention below a residency problem', () => {
    const report = audit({
      handoffs: [...clean.handoffs, handoff('old', 'ap-south-1', {}, { days: 400 })],
      approvals: clean.approvals,
    });
    expect(report.total_violations).toBe(1);
    expect(report.status).toBe('needs_attention');
    const checks = Object.values(report.checks).reduce((a, b) => a + b, 0);
    expect(report.compliance_score).toBe(Math.round((1000 * (checks - 1)) / checks) / 10);
  });

  it('audits only its scope and never counts its own report against retention', () => {
    const report = audit({
      regions: ['eu-west-1'],
      handoffs: [
        handoff('de-pii', 'eu-west-1', {
          source: { country: 'DE' },
          requirements: { data_classification: 'pii' },
        }),
      ],
      audits: [
        { audit_id: 'audit-us-east-1-20261126', region: 'eu-west-1', audit_date: ago(9000) },
        { audit_id: 'audit-us-east-1-20100101', region: 'us-east-1', audit_date: ago(9000) },
      ],
    });
    expect(report.scope).toEqual({ regions: ['eu-west-1'], handoffs: 1, records: 1, selective_records: 0 });
    expect(report.total_violations).toBe(0);
  });

  it('keeps at most 200 violation details but counts them all', () => {
    const many = Array.from({ length: 250 }, (_, i) => handoff(`old-${i}`, 'ap-south-1', {}, { days: 400 }));
    const report = audit({ handoffs: many });
    expect(report.total_violations).toBe(250);
    expect(report.violations).toHaveLength(200);
    expect(report.violations_omitted).toBe(50);
  });
});

describe('compliance audit of selectively replicated data', () => {
  const SECONDS_PER_DAY = 86_400;
  const EU_COMPLIANCE = 'cortex-sel-compliance_data_replication-european_union';
  const US_COMPLIANCE = 'cortex-sel-compliance_data_replication-united_states';
  function record(overrides: Partial<SelectiveRecord> = {}): SelectiveRecord {
    const writtenDaysAgo = 10;
    return {
      key: 'coordination/compliance/evidence-1',
      policy_id: 'compliance_data_replication',
      table: US_COMPLIANCE,
      region: 'us-east-1',
      value: { ok: true },
      written_at: ago(writtenDaysAgo),
      expires_at: Math.floor(NOW / 1000) + (2555 - writtenDaysAgo) * SECONDS_PER_DAY,
      ...overrides,
    };
  }

  it('checks each record of the auditing region: placed by its policy, expiring on time', () => {
    const report = audit({
      selective: [
        record(),
        record({
          key: 'coordination/t/knowledge-base/k',
          policy_id: 'knowledge_base_replication',
          table: 'cortex-sel-knowledge_base_replication',
          region: 'eu-west-1',
          expires_at: undefined,
        }),
      ],
    });
    expect(report.total_violations).toBe(0);
    expect(report.scope.selective_records).toBe(2);
    // Two residency checks, one retention check (only the compliance policy keeps a retention).
    expect(report.checks.data_residency).toBe(2);
    expect(report.checks.retention).toBe(1);
  });

  it('finds a record outside its jurisdiction table, one kept too long, and one TTL did not remove', () => {
    const report = audit({
      selective: [
        // Written in eu-west-1 but stored in the US jurisdiction's table.
        record({ key: 'coordination/compliance/moved', region: 'eu-west-1' }),
        // A key no policy places there.
        record({ key: 'notes/unplaced', table: US_COMPLIANCE }),
        // Expiry beyond the 2555 days of its policy.
        record({
          key: 'coordination/compliance/forever',
          expires_at: Math.floor(NOW / 1000) + 9000 * SECONDS_PER_DAY,
        }),
        // Expired 5 days ago, still stored.
        record({
          key: 'coordination/compliance/stale',
          written_at: ago(2560),
          expires_at: Math.floor(NOW / 1000) - 5 * SECONDS_PER_DAY,
        }),
      ],
    });
    const rules = report.violations.map((v) => `${v.type}:${v.rule}:${v.record?.id}`);
    expect(rules).toEqual([
      `data_residency:selective_placement:${US_COMPLIANCE}/coordination/compliance/moved`,
      `data_residency:selective_placement:${US_COMPLIANCE}/notes/unplaced`,
      `retention:retention:2555d:${US_COMPLIANCE}/coordination/compliance/forever`,
      `retention:retention:expired_not_deleted:${US_COMPLIANCE}/coordination/compliance/stale`,
    ]);
    expect(report.violations[0]?.detail).toContain(
      `its policy places it in ${EU_COMPLIANCE} (replicas eu-west-1)`,
    );
    expect(report.status).toBe('non_compliant');
  });

  it('audits the selective records only when the auditing region is in scope', () => {
    const report = audit({ regions: ['eu-west-1'], selective: [record({ region: 'eu-west-1' })] });
    expect(report.scope.selective_records).toBe(0);
    expect(report.total_violations).toBe(0);
  });
});

describe('retention', () => {
  it('matches selective policy patterns: an inner * is one segment, a trailing * anything below', () => {
    expect(patternMatches('coordination/compliance/*', 'coordination/compliance/audits/a-1')).toBe(true);
    expect(patternMatches('coordination/*/knowledge-base/*', 'coordination/eu/knowledge-base/doc/1')).toBe(
      true,
    );
    expect(patternMatches('coordination/*/knowledge-base/*', 'coordination/eu/x/knowledge-base/doc')).toBe(
      false,
    );
    expect(patternMatches('coordination/compliance/*', 'coordination/handoffs/x')).toBe(false);
  });

  it("takes a record's retention from the topology's selective policies, else its kind's default", () => {
    expect(
      retentionFor(t, { kind: 'compliance_audit', id: 'a', region: 'us-east-1', created_at: '' }),
    ).toEqual({
      days: 2555,
      source: 'replication_strategies.selective.compliance_data_replication (coordination/compliance/*)',
    });
    expect(retentionFor(t, { kind: 'failover', id: 'f', region: 'us-east-1', created_at: '' }).days).toBe(
      EVIDENCE_RETENTION_DAYS,
    );
    const pii = { kind: 'handoff', id: 'h', created_at: '', classification: 'pii' } as const;
    expect(retentionFor(t, { ...pii, region: 'eu-west-1' }).days).toBe(PERSONAL_TASK_RECORD_RETENTION_DAYS);
    // No storage-limitation requirement in the US policy: the operational year.
    expect(retentionFor(t, { ...pii, region: 'us-east-1' }).days).toBe(TASK_RECORD_RETENTION_DAYS);
  });
});
