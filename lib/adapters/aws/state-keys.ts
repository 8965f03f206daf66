/**
 * The state table's single-table layout, shared by the adapter, the local stores and the CDK stack.
 *
 * | record        | pk                  | sk                   | gsi1pk                | gsi1sk                      |
 * | ------------- | ------------------- | -------------------- | --------------------- | --------------------------- |
 * | region status | `REGION`            | `<region_id>`        | -                     | -                           |
 * | handoff       | `HANDOFF#<id>`      | `HANDOFF`            | `TARGET#<region_id>`  | `<created_at>#<handoff_id>` |
 * | health view   | `HEALTH`            | `<observer>#<target>`| -                     | -                           |
 * | heartbeat     | `HEARTBEAT`         | `<region_id>`        | -                     | -                           |
 * | failover      | `FAILOVER#<id>`     | `FAILOVER`           | `FAILOVERS`           | `<initiated_at>#<id>`       |
 *
 * Region statuses share one partition so a region reads every status in one Query of its own
 * replica; handoffs get a partition each (no hot key) and the GSI lists them per target region.
 * Health views and heartbeats are small per-region sets read whole by every probe round; failovers
 * are listed newest first through the GSI.
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
  regionStatus: (regionId: string) => ({ pk: 'REGION', sk: regionId }),
  handoff: (handoffId: string) => ({ pk: `HANDOFF#${handoffId}`, sk: 'HANDOFF' }),
  handoffByTarget: (regionId: string) => `TARGET#${regionId}`,
  targetHealth: (observer: string, target: string) => ({ pk: 'HEALTH', sk: `${observer}#${target}` }),
  heartbeat: (regionId: string) => ({ pk: 'HEARTBEAT', sk: regionId }),
  failover: (failoverId: string) => ({ pk: `FAILOVER#${failoverId}`, sk: 'FAILOVER' }),
  failoverList: 'FAILOVERS',
} as const;
