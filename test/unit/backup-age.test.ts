import { describe, expect, it } from 'vitest';
import {
  backupNeeds,
  checkRecoveryPoints,
  type ExpectedBackups,
  FULL_BACKUP_MAX_AGE_SECONDS,
  formatAge,
  rpoClassOf,
} from '../../lib/core/dr/backup-age.ts';

const SYNC = ['master_state', 'active_tasks', 'worker_assignments', 'routing_tables'];
const NOW = Date.parse('2026-12-03T08:00:00Z');
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();

const stateNeeds = backupNeeds(
  {
    name: 'cortex-state',
    dataTypes: [...SYNC, 'logs', 'metrics', 'analytics', 'audit_trails'],
    policies: [],
  },
  SYNC,
);
const knowledgeNeeds = backupNeeds(
  { name: 'cortex-sel-knowledge_base_replication', dataTypes: [], policies: ['knowledge_base_replication'] },
  SYNC,
);

function expected(over: Partial<ExpectedBackups> = {}): ExpectedBackups {
  return { table: 'cortex-state', region: 'us-east-1', needs: stateNeeds, pitr: true, full: true, ...over };
}

describe('RPO classes of data types', () => {
  it("takes the spec's lists, and the spec's name for the topology's audit_trails", () => {
    expect(rpoClassOf('master_state', SYNC)).toEqual({ id: 'critical_data', max_data_loss_seconds: 60 });
    expect(rpoClassOf('metrics', SYNC).id).toBe('important_data');
    expect(rpoClassOf('audit_trails', SYNC).id).toBe('important_data');
    expect(rpoClassOf('analytics', SYNC).id).toBe('standard_data');
  });

  it('treats an unlisted synchronous data type as critical and anything else as standard', () => {
    expect(rpoClassOf('worker_assignments', SYNC).id).toBe('critical_data');
    expect(rpoClassOf('logs', SYNC).id).toBe('standard_data');
    expect(rpoClassOf('knowledge_base_replication', SYNC).id).toBe('standard_data');
  });
});

describe('what a table needs from its backups', () => {
  it('a table holding several classes is held to the strictest RPO and keeps the longest retention', () => {
    expect(stateNeeds.rpo).toEqual({ id: 'critical_data', max_data_loss_seconds: 60 });
    expect(stateNeeds.classes.important_data).toEqual(['metrics', 'audit_trails']);
    expect(stateNeeds.retention_days).toEqual({ continuous: 7, incremental: 30, full: 90 });
  });

  it('a selective table is standard data with the nightly full backup only', () => {
    expect(knowledgeNeeds.rpo.max_data_loss_seconds).toBe(3600);
    expect(knowledgeNeeds.retention_days).toEqual({ continuous: 0, incremental: 0, full: 90 });
  });
});

describe('the restore test', () => {
  it('is ok when point-in-time recovery is within the RPO and the nightly full backup is fresh', () => {
    const report = checkRecoveryPoints(
      NOW,
      [expected()],
      [
        {
          table: 'cortex-state',
          region: 'us-east-1',
          pitr: { enabled: true, latest_restorable: ago(45), recovery_period_days: 35 },
          backups: [
            { created_at: ago(6 * 3600), completed: true },
            { created_at: ago(30 * 3600), completed: true },
          ],
        },
      ],
    );
    expect(report.ok).toBe(true);
    expect(report.tables[0]).toMatchObject({
      verdict: 'ok',
      newest: { source: 'pitr', age_seconds: 45 },
      full: { age_seconds: 6 * 3600 },
      problems: [],
    });
  });

  it("is late with figures when point-in-time recovery's newest time is past what a backup can promise", () => {
    const report = checkRecoveryPoints(
      NOW,
      [expected()],
      [
        {
          table: 'cortex-state',
          region: 'us-east-1',
          pitr: { enabled: true, latest_restorable: ago(601) },
          backups: [{ created_at: ago(3600), completed: true }],
        },
      ],
    );
    expect(report.ok).toBe(false);
    expect(report.tables[0]?.verdict).toBe('late');
    expect(report.tables[0]?.problems).toEqual([
      "newest recovery point is 10 min 1 s old, over the 10 min a backup can promise (the critical_data RPO of 1 min is met by the other regions' replicas)",
    ]);
  });

  // Invariant: a healthy deployment passes. Point-in-time recovery typically lags five minutes, which
  // no backup can beat: critical data's one-minute RPO is the replication's to keep.
  it("is ok when point-in-time recovery lags its usual five minutes, although critical data's RPO is a minute", () => {
    const report = checkRecoveryPoints(
      NOW,
      [expected()],
      [
        {
          table: 'cortex-state',
          region: 'us-east-1',
          pitr: { enabled: true, latest_restorable: ago(298), recovery_period_days: 35 },
          backups: [{ created_at: ago(3600), completed: true }],
        },
      ],
    );
    expect(report.tables[0]).toMatchObject({ verdict: 'ok', problems: [] });
  });

  it('falls back to the newest completed backup when point-in-time recovery is off, and says it is off', () => {
    const report = checkRecoveryPoints(
      NOW,
      [expected()],
      [
        {
          table: 'cortex-state',
          region: 'us-east-1',
          pitr: { enabled: false },
          backups: [
            { created_at: ago(10), completed: false },
            { created_at: ago(2 * 3600), completed: true },
          ],
        },
      ],
    );
    const [check] = report.tables;
    expect(check?.newest).toEqual({ source: 'backup', at: ago(2 * 3600), age_seconds: 7200 });
    expect(check?.problems).toContain('point-in-time recovery is off');
    expect(check?.verdict).toBe('late');
  });

  it('says the nightly full backup is overdue past 26 hours, and missing when there is none', () => {
    const overdue = checkRecoveryPoints(
      NOW,
      [expected()],
      [
        {
          table: 'cortex-state',
          region: 'us-east-1',
          pitr: { enabled: true, latest_restorable: ago(20) },
          backups: [{ created_at: ago(FULL_BACKUP_MAX_AGE_SECONDS + 60), completed: true }],
        },
      ],
    );
    expect(overdue.tables[0]?.problems).toEqual([
      'the newest full backup is 1 d 2 h old, the nightly should be under 1 d 2 h',
    ]);
    const none = checkRecoveryPoints(
      NOW,
      [expected()],
      [
        {
          table: 'cortex-state',
          region: 'us-east-1',
          pitr: { enabled: true, latest_restorable: ago(20) },
          backups: [],
        },
      ],
    );
    expect(none.tables[0]?.problems).toEqual(['no completed full backup (the nightly runs at 02:00 UTC)']);
  });

  it('flags a point-in-time window shorter than the data needs (30 days for metrics)', () => {
    const report = checkRecoveryPoints(
      NOW,
      [expected({ full: false })],
      [
        {
          table: 'cortex-state',
          region: 'us-east-1',
          pitr: { enabled: true, latest_restorable: ago(5), recovery_period_days: 7 },
          backups: [],
        },
      ],
    );
    expect(report.tables[0]?.problems).toEqual([
      'point-in-time recovery keeps 7 days, the data here needs 30',
    ]);
  });

  it('is missing without any recovery point, and unknown when the replica could not be read', () => {
    const report = checkRecoveryPoints(
      NOW,
      [
        expected({ pitr: false, full: false }),
        expected({ region: 'eu-west-1' }),
        expected({ region: 'ap-south-1' }),
      ],
      [
        { table: 'cortex-state', region: 'us-east-1', backups: [] },
        { table: 'cortex-state', region: 'eu-west-1', backups: [], error: 'table cortex-state not found' },
      ],
    );
    expect(report.tables.map((t) => [t.region, t.verdict, t.problems])).toEqual([
      ['us-east-1', 'missing', ['no recovery point']],
      ['eu-west-1', 'unknown', ['table cortex-state not found']],
      ['ap-south-1', 'unknown', ['not read']],
    ]);
  });

  it('holds a standard table to an hour: a snapshot 50 minutes old is ok', () => {
    const report = checkRecoveryPoints(
      NOW,
      [{ table: 'kb', region: 'us-east-1', needs: knowledgeNeeds, pitr: false, full: true }],
      [{ table: 'kb', region: 'us-east-1', backups: [{ created_at: ago(3000), completed: true }] }],
    );
    expect(report.tables[0]).toMatchObject({
      verdict: 'ok',
      newest: { source: 'backup', age_seconds: 3000 },
    });
  });

  it('formats ages', () => {
    expect([59, 60, 298, 3600, 93_780, 266_400].map(formatAge)).toEqual([
      '59 s',
      '1 min',
      '4 min 58 s',
      '1 h',
      '1 d 2 h',
      '3 d 2 h',
    ]);
  });
});
