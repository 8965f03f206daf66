/**
 * The audit of selectively replicated data (the auditing region's replicas of the selective tables,
 * when it is in scope): residency, each record in the table its key's policy gives the region that
 * wrote it, that region among the table's replicas (a record anywhere else left its jurisdiction or
 * its policy); retention, a policy with `retention_days` has every record expire no later than that
 * after its write, and none still stored SELECTIVE_EXPIRY_GRACE_DAYS after it expired (DynamoDB TTL
 * deletes within days, not on time).
 */
import { type PlacedTable, placeReplication, tableForKey } from '../replication/placement.ts';
import type { SelectiveRecord } from '../replication/records.ts';
import type { Topology } from '../topology/types.ts';
import { type AuditTally, violate } from './audit-tally.ts';

/** How long an expired selective record may still be stored (TTL's delay) before it is a violation. */
export const SELECTIVE_EXPIRY_GRACE_DAYS = 2;

const DAY_SECONDS = 86_400;

interface SelectiveAudit {
  readonly topology: Topology;
  /** Epoch ms. */
  readonly now: number;
  /** The auditing region: its replicas hold the records. */
  readonly region: string;
  readonly records: readonly SelectiveRecord[];
}

export function auditSelective(audit: SelectiveAudit, tally: AuditTally): void {
  if (audit.records.length === 0) return;
  const placement = placeReplication(audit.topology);
  for (const record of audit.records) {
    const table = placement.tables.find((t) => t.name === record.table);
    tally.checks.data_residency += 1;
    const expected = tableForKey(placement, record.key, record.region);
    if (!table?.regions.includes(record.region) || expected?.name !== record.table) {
      misplaced(audit, tally, record, table, expected);
    }
    if (table?.retentionDays === undefined) continue;
    tally.checks.retention += 1;
    checkExpiry(audit, tally, record, table, table.retentionDays);
  }
}

const where = (record: SelectiveRecord) => ({
  kind: 'selective_record',
  id: `${record.table}/${record.key}`,
});

/** The record is not where its policy places data written in its region. */
function misplaced(
  audit: SelectiveAudit,
  tally: AuditTally,
  record: SelectiveRecord,
  table: PlacedTable | undefined,
  expected: PlacedTable | undefined,
): void {
  violate(tally, {
    type: 'data_residency',
    region: audit.region,
    record: where(record),
    rule: 'selective_placement',
    detail: `${record.key} (written in ${record.region}) is stored in ${record.table}${
      table ? ` (replicas ${table.regions.join(', ')})` : ', a table the placement does not have'
    }; its policy places it in ${expected ? `${expected.name} (replicas ${expected.regions.join(', ')})` : 'no table for that region'}`,
  });
}

/** Expires within the policy's retention of its write (a day's slack), and is gone after the grace. */
function checkExpiry(
  audit: SelectiveAudit,
  tally: AuditTally,
  record: SelectiveRecord,
  table: PlacedTable,
  retentionDays: number,
): void {
  const nowSeconds = Math.floor(audit.now / 1000);
  const written = Date.parse(record.written_at);
  const latest = Number.isNaN(written) ? undefined : Math.floor(written / 1000) + retentionDays * DAY_SECONDS;
  if (record.expires_at === undefined || latest === undefined || record.expires_at > latest + DAY_SECONDS) {
    violate(tally, {
      type: 'retention',
      region: audit.region,
      record: where(record),
      rule: `retention:${retentionDays}d`,
      detail: `${record.key} in ${record.table} ${
        record.expires_at === undefined
          ? 'has no expiry'
          : `expires ${new Date(record.expires_at * 1000).toISOString()}`
      }; ${table.policies[0]} keeps records ${retentionDays} days from their write (${record.written_at})`,
    });
  } else if (record.expires_at + SELECTIVE_EXPIRY_GRACE_DAYS * DAY_SECONDS < nowSeconds) {
    violate(tally, {
      type: 'retention',
      region: audit.region,
      record: where(record),
      rule: 'retention:expired_not_deleted',
      detail: `${record.key} in ${record.table} expired ${new Date(record.expires_at * 1000).toISOString()} and is still stored more than ${SELECTIVE_EXPIRY_GRACE_DAYS} days later`,
    });
  }
}
