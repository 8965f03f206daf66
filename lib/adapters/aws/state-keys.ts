import type { HoldRef, RegionPool, Reservation } from '../../core/resources/pool.ts';
import type { Hold } from '../../ports.ts';
/**
 * The state table's single-table layout, shared by the adapter, the local stores and the CDK stack.
 *
 * | record        | pk                  | sk                   | gsi1pk                | gsi1sk                      |
 * | ------------- | ------------------- | -------------------- | --------------------- | --------------------------- |
 * | status slot   | `REGION`            | `<region_id>#<writer>` | -                   | -                           |
 * | legacy status | `REGION`            | `<region_id>`        | -                     | -                           |
 * | handoff       | `HANDOFF#<id>`      | `HANDOFF`            | `TARGET#<region_id>`  | `<created_at>#<handoff_id>` |
 * | health view   | `HEALTH`            | `<observer>#<target>`| -                     | -                           |
 * | heartbeat     | `HEARTBEAT`         | `<region_id>`        | -                     | -                           |
 * | avail. sample | `AVAILABILITY#<observer>` | `SLOT#<minute of day>` | -            | -                           |
 * | avail. ledger | `AVAILABILITY_LEDGER#<observer>` | `LEDGER`  | -                     | -                           |
 * | failover      | `FAILOVER#<id>`     | `FAILOVER`           | `FAILOVERS[#ACTIVE]`  | `<initiated_at>#<id>`       |
 * | privacy req.  | `PRIVACY#<id>`      | `REQUEST`            | `PRIVACY_REQUESTS`    | `<created_at>#<id>`         |
 * | its export    | `PRIVACY#<id>`      | `EXPORT#<record_id>` | -                     | -                           |
 * | approval use  | `COMPLIANCE_APPROVAL#<ref>` | `USE#<use_id>` | `COMPLIANCE_APPROVALS` | `<recorded_at>#<ref>#<use_id>` |
 * | audit report  | `COMPLIANCE_AUDIT#<id>` | `AUDIT`          | `COMPLIANCE_AUDITS`   | `<audit_date>#<id>`         |
 * | repl. mark    | `REPLICATION`       | `MARK#<region_id>`   | -                     | -                           |
 * | lag view      | `REPLICATION`       | `LAG#<source>#<replica>` | -                 | -                           |
 * | consistency check | `CHECK#<id>`    | `CHECK`              | -                     | -                           |
 * | document slot | `DOC#<key>`         | `SLOT#<region_id>`   | `DOCUMENTS`           | `<updated_at>#<key>#<region_id>` |
 * | doc. conflict | `DOC#<key>`         | `CONFLICT#<conflict_id>` | -                 | -                           |
 * | latency pair  | `LATENCY`           | `<from>#<to>`        | -                     | -                           |
 * | region pool   | `RESOURCES`         | `POOL#<region_id>`   | -                     | -                           |
 * | held counters | `RESOURCES`         | `HELD#<region_id>#<writer>` | -              | -                           |
 * | claim journal | `CLAIMS#<writer>`   | `<handoff_id>`       | -                     | -                           |
 * | hold          | `HOLDS#<by>`        | `<hold_id>`          | -                     | -                           |
 * | hold release  | `RELEASES#<writer>` | `<by>#<hold_id>`     | -                     | -                           |
 * | rebalance     | `REBALANCE#<id>`    | `REBALANCE`          | `REBALANCES`          | `<at>#<id>`                 |
 * | MCP server    | `MCP`               | `<region_id>#<server>` | -                   | -                           |
 * | ops incident  | `OPS_INCIDENT#<id>` | `INCIDENT`           | `OPS_INCIDENTS`       | `<opened_at>#<id>`          |
 * | ops report    | `OPS_REPORT#<id>`   | `REPORT`             | `OPS_REPORTS`         | `<generated_at>#<id>`       |
 *
 * Region statuses share one partition so a region reads every status in one Query of its own
 * replica. A region's status is one slot per writer (the region whose replica the write lands in:
 * each slot is written in one replica only, so last-writer-wins replication never drops a write),
 * merged on read to the highest epoch (lib/adapters/aws/dynamodb-state.ts); the slot-less item
 * `<region_id>` written by older versions is read as one more slot and never written again.
 * Handoffs get a partition each (no hot key) and the GSI lists them per target region.
 * Health views and heartbeats are small per-region sets read whole by every probe round (a view
 * keeps its window and endpoints in two short strings, `w` and `e`, so it stays under one write
 * unit: lib/adapters/aws/dynamo-items.ts healthViewItem); failovers
 * are listed newest first through the GSI, a failover still going (running or awaiting approval)
 * under `FAILOVERS#ACTIVE` and an ended one under `FAILOVERS`: the conditional write that ends a
 * failover moves its `gsi1pk` in the same item, so the active list never disagrees with the record,
 * and a probe round reads only the failovers it may act on, never every one ever written.
 * Availability samples (an observer's view of every region in one minute, written by its probe round
 * once a minute) are a ring of 1,440 slots per observer, `SLOT#0000` to `SLOT#1439` by minute of the
 * UTC day: each minute overwrites the sample of the same minute a day before, so the partition never
 * grows past a day without TTL (which dynalite lacks and nothing may rely on); the item carries its
 * minute, and a read of the whole partition (one Query, about 300 KB) keeps the last day's. Each
 * observer's ledger, rolled up from its samples as they are written, is the one item `GET /v1/regions`
 * reads (lib/adapters/aws/dynamodb-availability.ts).
 * A data-subject request and its export share a partition (one Query answers both); requests are
 * listed newest first through the GSI. A subject's handoffs have no index of their own: they are
 * found by querying each `TARGET#<region>` with a filter on `task.subject_id` (reads every handoff
 * once per request and replica; see lib/adapters/aws/dynamodb-privacy.ts).
 * Each use of a cross-border transfer approval is its own item under the approval's partition
 * (written once per use); approvals and audit reports are listed newest first through the GSI
 * (lib/adapters/aws/dynamodb-compliance.ts).
 * Replication marks (each region's heartbeat and write counter, changed on every write) and the lag
 * monitor's views share one small partition read whole each monitor round; a document's slots (one
 * per writing region) and its conflicts share the document's partition, and the GSI lists slots by
 * write time for the monitor's conflict scan (lib/adapters/aws/dynamodb-replication.ts).
 * The measured latency matrix (one entry per ordered region pair, written by the sampler of the `from`
 * region) is one small partition the router reads whole (lib/adapters/aws/dynamodb-latency.ts).
 * Region pools (allocation, held workers and compute units, and one `tokens@<hour>` counter per clock
 * hour, so the token budget rolls over without TTL) share one small partition the router reads whole;
 * rebalances are listed newest first through the GSI (lib/adapters/aws/dynamodb-resources.ts).
 * What open reservations hold is counted apart from the pool item, in one `HELD#<pool>#<writer>` item
 * per pool and writing region, written only in the writer's replica (a counter that only one replica
 * writes is never lost to last-writer-wins; the pool's held amount is the sum of its writers' items).
 * A region's claim journal (the handoff claims it made, until each is known to have won or lost) is
 * its own partition, written and read by that region only (docs/state-and-replication.md).
 * Each reservation has a hold under the partition of the region that reserved it (`by`), which its
 * reconciler lists each round: any region may release it (last writer wins picks one release), and
 * each release is journaled under its writer's `RELEASES#` partition, written in its own replica only,
 * so the writer can give back a release that lost (lib/app/resources/holds.ts).
 * An emergency shutdown's incident and each daily operations report are one item each, listed
 * newest first through the GSI (lib/adapters/aws/dynamodb-ops.ts).
 */
export const STATE_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  gsi1: { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
} as const;

export function stateTableName(topologyName: string): string {
  return `${topologyName}-state`;
}

export const keys = {
  regionStatus: (regionId: string, writer: string) => ({ pk: 'REGION', sk: `${regionId}#${writer}` }),
  /** The one item per region older versions wrote (read as a slot, never written). */
  legacyRegionStatus: (regionId: string) => ({ pk: 'REGION', sk: regionId }),
  regionStatusPartition: 'REGION',
  handoff: (handoffId: string) => ({ pk: `HANDOFF#${handoffId}`, sk: 'HANDOFF' }),
  handoffByTarget: (regionId: string) => `TARGET#${regionId}`,
  targetHealth: (observer: string, target: string) => ({ pk: 'HEALTH', sk: `${observer}#${target}` }),
  heartbeat: (regionId: string) => ({ pk: 'HEARTBEAT', sk: regionId }),
  /** `minute` in epoch ms; its slot is its minute of the UTC day. */
  availabilitySample: (observer: string, minute: number) => ({
    pk: `AVAILABILITY#${observer}`,
    sk: `SLOT#${String(Math.floor(minute / 60_000) % 1440).padStart(4, '0')}`,
  }),
  availabilityPartition: (observer: string) => `AVAILABILITY#${observer}`,
  availabilityLedger: (observer: string) => ({ pk: `AVAILABILITY_LEDGER#${observer}`, sk: 'LEDGER' }),
  failover: (failoverId: string) => ({ pk: `FAILOVER#${failoverId}`, sk: 'FAILOVER' }),
  /** The GSI partition of ended failovers. */
  failoverList: 'FAILOVERS',
  /** The GSI partition of failovers still going. */
  activeFailoverList: 'FAILOVERS#ACTIVE',
  privacyRequest: (requestId: string) => ({ pk: `PRIVACY#${requestId}`, sk: 'REQUEST' }),
  privacyExport: (requestId: string, recordId: string) => ({
    pk: `PRIVACY#${requestId}`,
    sk: `EXPORT#${recordId}`,
  }),
  privacyRequestList: 'PRIVACY_REQUESTS',
  complianceApproval: (approvalRef: string, useId: string) => ({
    pk: `COMPLIANCE_APPROVAL#${approvalRef}`,
    sk: `USE#${useId}`,
  }),
  complianceApprovalList: 'COMPLIANCE_APPROVALS',
  complianceAudit: (auditId: string) => ({ pk: `COMPLIANCE_AUDIT#${auditId}`, sk: 'AUDIT' }),
  complianceAuditList: 'COMPLIANCE_AUDITS',
  replicationMark: (regionId: string) => ({ pk: 'REPLICATION', sk: `MARK#${regionId}` }),
  lagView: (source: string, replica: string) => ({ pk: 'REPLICATION', sk: `LAG#${source}#${replica}` }),
  consistencyCheck: (checkId: string) => ({ pk: `CHECK#${checkId}`, sk: 'CHECK' }),
  documentSlot: (key: string, regionId: string) => ({ pk: `DOC#${key}`, sk: `SLOT#${regionId}` }),
  documentConflict: (key: string, conflictId: string) => ({ pk: `DOC#${key}`, sk: `CONFLICT#${conflictId}` }),
  documentList: 'DOCUMENTS',
  latency: (from: string, to: string) => ({ pk: 'LATENCY', sk: `${from}#${to}` }),
  latencyPartition: 'LATENCY',
  regionPool: (regionId: string) => ({ pk: 'RESOURCES', sk: `POOL#${regionId}` }),
  heldCounter: (regionId: string, writer: string) => ({ pk: 'RESOURCES', sk: `HELD#${regionId}#${writer}` }),
  claim: (writer: string, handoffId: string) => ({ pk: `CLAIMS#${writer}`, sk: handoffId }),
  claimPartition: (writer: string) => `CLAIMS#${writer}`,
  hold: (hold: HoldRef) => ({ pk: `HOLDS#${hold.by}`, sk: hold.id }),
  holdPartition: (by: string) => `HOLDS#${by}`,
  holdRelease: (writer: string, hold: HoldRef) => ({ pk: `RELEASES#${writer}`, sk: `${hold.by}#${hold.id}` }),
  holdReleasePartition: (writer: string) => `RELEASES#${writer}`,
  rebalance: (rebalanceId: string) => ({ pk: `REBALANCE#${rebalanceId}`, sk: 'REBALANCE' }),
  rebalanceList: 'REBALANCES',
  mcpServer: (regionId: string, server: string) => ({ pk: 'MCP', sk: `${regionId}#${server}` }),
  mcpPartition: 'MCP',
  opsIncident: (incidentId: string) => ({ pk: `OPS_INCIDENT#${incidentId}`, sk: 'INCIDENT' }),
  opsIncidentList: 'OPS_INCIDENTS',
  opsReport: (reportId: string) => ({ pk: `OPS_REPORT#${reportId}`, sk: 'REPORT' }),
  opsReportList: 'OPS_REPORTS',
} as const;

/** A region pool item's per-hour token counter attribute (one per hour bucket). */
export const tokensAttribute = (hour: string) => `tokens@${hour}`;

/** Handoff statuses that still hold a reservation. */
export const OPEN_HANDOFF_STATUSES: readonly string[] = ['pending', 'accepted', 'redirected'];

/**
 * The pools of the `RESOURCES` partition's items: each pool item with the held counters of every
 * writer added to its usage (and reported as `held`).
 */
export function poolsOfItems(
  rows: readonly { readonly sk: string; readonly item: Readonly<Record<string, unknown>> }[],
  hour: string,
): RegionPool[] {
  const held = new Map<string, { workers: number; compute_units: number; tokens: number }>();
  const pools: Readonly<Record<string, unknown>>[] = [];
  for (const { sk, item } of rows) {
    if (sk.startsWith('POOL#')) {
      pools.push(item);
      continue;
    }
    if (!sk.startsWith('HELD#')) continue;
    const region = String(item.region);
    const sum = held.get(region) ?? { workers: 0, compute_units: 0, tokens: 0 };
    sum.workers += Number(item.workers ?? 0);
    sum.compute_units += Number(item.compute_units ?? 0);
    sum.tokens += Number(item[tokensAttribute(hour)] ?? 0);
    held.set(region, sum);
  }
  return pools.map((item) => {
    const pool = poolOfItem(item, hour);
    const h = held.get(pool.region);
    if (!h) return pool;
    return {
      ...pool,
      usage: {
        workers: pool.usage.workers + h.workers,
        tokens_used: pool.usage.tokens_used + h.tokens,
        compute_units: pool.usage.compute_units + h.compute_units,
      },
      held: h,
    };
  });
}

/** A region pool item (`RESOURCES` / `POOL#<region>`) as the pool it holds for `hour`. */
export function poolOfItem(item: Readonly<Record<string, unknown>>, hour: string): RegionPool {
  const n = (name: string) => Number(item[name] ?? 0);
  return {
    region: String(item.region),
    allocation: {
      workers: n('workers_allocated'),
      tokens_per_hour: n('tokens_per_hour'),
      compute_units: n('compute_units_allocated'),
    },
    usage: {
      workers: n('workers_used'),
      tokens_used: n(tokensAttribute(hour)),
      compute_units: n('compute_units_used'),
    },
    hour,
    allocation_version: n('allocation_version'),
  };
}

/** The attributes a hold item carries (every write of one sets them all: any write may create it). */
export function holdAttributes(reservation: Reservation & { readonly hold: HoldRef }, changedAt: number) {
  return {
    record_type: 'hold',
    hold_id: reservation.hold.id,
    by: reservation.hold.by,
    handoff_id: reservation.hold.handoff_id,
    region: reservation.region,
    hour: reservation.hour,
    workers: reservation.workers,
    tokens: reservation.tokens,
    compute_units: reservation.compute_units,
    changed_at: changedAt,
  };
}

/** A hold item (`HOLDS#<by>` / `<hold_id>`) as the hold it keeps. */
export function holdOfItem(item: Readonly<Record<string, unknown>>): Hold {
  const hold: HoldRef = {
    id: String(item.hold_id),
    by: String(item.by),
    handoff_id: String(item.handoff_id),
  };
  return {
    reservation: {
      region: String(item.region),
      hour: String(item.hour),
      workers: Number(item.workers ?? 0),
      tokens: Number(item.tokens ?? 0),
      compute_units: Number(item.compute_units ?? 0),
      hold,
    },
    changed_at: Number(item.changed_at ?? 0),
    ...(item.released_by === undefined ? {} : { released_by: String(item.released_by) }),
    ...(item.released_tokens === undefined ? {} : { released_tokens: Number(item.released_tokens) }),
  };
}
