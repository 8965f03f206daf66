/**
 * Where each kind of replicated data lives: the DynamoDB tables a topology needs, with their replica
 * regions, consistency, expiry and immutability, derived from `replication_strategies` and the
 * jurisdictions of `regional_compliance`. The CDK app builds exactly these tables and the local
 * runtime creates exactly these stores, so both place data alike.
 *
 * - `synchronous` data types: a multi-Region strongly consistent (MRSC) table `<name>-critical` when
 *   the topology's regions allow it (exactly three, all in one MRSC region set); otherwise the global
 *   table `<name>-state` (MREC: last writer wins), where the failover workflow's `sync_critical_state`
 *   step is the guard (it waits for the target's replica to hold the failed region's last heartbeat
 *   or records the data-loss window).
 * - `asynchronous` data types: the global table.
 * - `selective` policies: tables of their own whose replicas are exactly the regions the policy
 *   names. `all`: every region; a list of region ids: those; `same_jurisdiction`: one table per
 *   jurisdiction (`regional_compliance[region].jurisdiction`) with that jurisdiction's regions.
 *   `retention_days` gives an expiry attribute (TTL on AWS; locally readers skip expired items) and
 *   `immutable` means written once: no update, no delete (IAM deny on AWS, a condition on every put).
 *
 * The residency rule that bounds the selective tables is in selective-placement.ts.
 *
 * A policy names its data by a key pattern (key-patterns.ts); a key matching several policies
 * belongs to the first.
 */
import type { FieldIssue } from '../errors.ts';
import type { Topology } from '../topology/types.ts';
import { RECORD_DATA_TYPES } from './data-types.ts';
import { matchesPattern } from './key-patterns.ts';
import {
  type MrscDecision,
  type PlacedPolicy,
  type PlacedTable,
  type PlacementOptions,
  type Placing,
  type ReplicationPlacement,
  TABLE_NAME,
} from './placed-tables.ts';
import { placeSelectivePolicies, warnShadowedPatterns } from './selective-placement.ts';

export { matchesPattern, patternsOverlap } from './key-patterns.ts';
export {
  EXPIRY_ATTRIBUTE,
  type MrscDecision,
  type PlacedPolicy,
  type PlacedTable,
  type PlacementOptions,
  type ReplicationPlacement,
  type TableConsistency,
  type TableRole,
} from './placed-tables.ts';

/**
 * DynamoDB MRSC region sets: an MRSC global table's replicas (and witness) must all lie in one set.
 * Source: DynamoDB API Reference, CreateGlobalTableWitnessGroupMemberAction
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateGlobalTableWitnessGroupMemberAction.html);
 * aws-cdk-lib 2.276's TableV2 checks the same sets. Update both here when AWS adds a set.
 */
export const MRSC_REGION_SETS: Readonly<Record<string, readonly string[]>> = {
  US: ['us-east-1', 'us-east-2', 'us-west-2'],
  EU: ['eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1'],
  AP: ['ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3'],
};

/** MRSC tables hold exactly this many replicas here (two replicas and a witness is the other AWS shape). */
const MRSC_REPLICAS = 3;

/** Places every table the topology needs; never throws: problems are in `errors`. */
export function placeReplication(topology: Topology, options: PlacementOptions = {}): ReplicationPlacement {
  const placing = startPlacing(topology, options);
  placeStrategyTables(placing);
  placeSelectivePolicies(placing);
  warnShadowedPatterns(placing);
  checkTableNames(placing);
  placing.errors.push(...checkResidency(placing.tables, placing.policies, placing.jurisdictionOf));
  const dataTypes: Record<string, string> = {};
  for (const table of placing.tables) for (const type of table.dataTypes) dataTypes[type] = table.name;
  const { tables, policies, mrsc, warnings, errors } = placing;
  return { tables, policies, dataTypes, mrsc, warnings, errors };
}

function startPlacing(topology: Topology, options: PlacementOptions): Placing {
  const regionIds = topology.regions.map((r) => r.region_id);
  const home =
    options.homeRegion ?? topology.regions.find((r) => r.tier === 'primary')?.region_id ?? regionIds[0] ?? '';
  const compliance = topology.regional_compliance;
  return {
    topology,
    regionIds,
    mrsc: decideMrsc(regionIds),
    tables: [],
    policies: [],
    warnings: [],
    errors: [],
    homeOf: (regions) => (regions.includes(home) ? home : (regions[0] ?? home)),
    jurisdictionOf: (regionId) => compliance[regionId]?.jurisdiction,
  };
}

/** The global table, and the MRSC table when the regions allow one, with a notice of where synchronous data went. */
function placeStrategyTables(placing: Placing): void {
  const { topology, regionIds, tables, warnings } = placing;
  const { globalName, mrsc, criticalName } = strategyTables(topology);
  const strategies = topology.replication_strategies;
  const syncTypes = [...strategies.synchronous.data_types];
  const asyncTypes = [...strategies.asynchronous.data_types];
  tables.push({
    name: globalName,
    role: 'global',
    regions: regionIds,
    homeRegion: placing.homeOf(regionIds),
    consistency: regionIds.length > 1 ? 'MREC' : 'single-region',
    immutable: false,
    dataTypes: criticalName ? asyncTypes : [...syncTypes, ...asyncTypes],
    policies: [],
  });
  const syncField = 'replication_strategies.synchronous';
  const typeList = syncTypes.join(', ') || '(none)';
  if (!criticalName) {
    warnings.push({
      field: syncField,
      reason: `synchronous data types (${typeList}) live in the global table ${globalName} (MREC: eventually consistent, last writer wins, typically within a second, no SLA): ${mrsc.reason}. The failover workflow's sync_critical_state step is the guard: it waits for the target's replica to hold the failed region's last heartbeat or records the data-loss window.`,
    });
    return;
  }
  tables.push({
    name: criticalName,
    role: 'critical',
    regions: regionIds,
    homeRegion: placing.homeOf(regionIds),
    consistency: 'MRSC',
    immutable: false,
    dataTypes: syncTypes,
    policies: [],
  });
  warnings.push({
    field: syncField,
    reason: `synchronous data types (${typeList}) are placed in the MRSC table ${criticalName}: ${mrsc.reason}. Strongly consistent reads and writes in every region; no TTL and no transactions on it; a region cut off from both others can neither write nor strongly read it.${describeRecords(syncTypes, criticalName)}`,
  });
}

/** Every table name is a valid DynamoDB name, and no two placements need the same one. */
function checkTableNames(placing: Placing): void {
  const seen = new Map<string, string>();
  for (const table of placing.tables) {
    if (!TABLE_NAME.test(table.name)) {
      placing.errors.push({
        field: 'name',
        reason: `table name ${table.name} is not a valid DynamoDB table name`,
      });
    }
    const owner = table.jurisdiction ?? table.policies[0] ?? table.role;
    const previous = seen.get(table.name);
    if (previous !== undefined) {
      placing.errors.push({
        field: 'regional_compliance',
        reason: `${previous} and ${owner} both need the table ${table.name}: jurisdiction names must differ in letters or digits`,
      });
    }
    seen.set(table.name, owner);
  }
}

/** The record types of the state port (lib/ports.ts StatePort), each kept in one table. */
export const STATE_RECORD_TYPES = [
  'region_status',
  'failover',
  'handoff',
  'target_health',
  'heartbeat',
] as const;
export type StateRecordType = (typeof STATE_RECORD_TYPES)[number];

/**
 * The table each state record type lives in: the table of its data type (RECORD_DATA_TYPES: region
 * statuses and failovers are `master_state`, handoffs `active_tasks`), the global table for a data
 * type no strategy names. With the MRSC table, the synchronous data types' records are there.
 */
export function stateRecordTables(topology: Topology): Record<StateRecordType, string> {
  const { dataTypes, globalName } = strategyTables(topology);
  const tables = {} as Record<StateRecordType, string>;
  for (const recordType of STATE_RECORD_TYPES) {
    const dataType = RECORD_DATA_TYPES[recordType];
    tables[recordType] = (dataType === undefined ? undefined : dataTypes[dataType]) ?? globalName;
  }
  return tables;
}

/**
 * The data type of the resource pools (each region's allocation and the workers, tokens and compute
 * held for tasks): the spec's `worker_assignments`, a synchronous data type of the default strategies.
 */
const RESOURCE_POOL_DATA_TYPE = 'worker_assignments';

/**
 * The table holding the resource pools: the MRSC table when `worker_assignments` is synchronous and
 * the regions allow one (reservations then checked against the latest pool in every region, no
 * over-commit across regions), else the state table (checked against the local replica only).
 */
export function resourcePoolTable(topology: Topology): string {
  const { dataTypes, globalName } = strategyTables(topology);
  return dataTypes[RESOURCE_POOL_DATA_TYPE] ?? globalName;
}

interface StrategyTables {
  readonly globalName: string;
  /** The MRSC table's name when the regions allow one. */
  readonly criticalName?: string;
  readonly mrsc: MrscDecision;
  /** Synchronous and asynchronous data type -> table name (as ReplicationPlacement.dataTypes). */
  readonly dataTypes: Readonly<Record<string, string>>;
}

/**
 * Where the synchronous and asynchronous data types live: the part of the placement the state's
 * records need, without the selective policies (cheap enough for every function's cold start).
 */
export function strategyTables(topology: Topology): StrategyTables {
  const globalName = `${topology.name}-state`;
  const mrsc = decideMrsc(topology.regions.map((r) => r.region_id));
  const criticalName = mrsc.allowed ? `${topology.name}-critical` : undefined;
  const strategies = topology.replication_strategies;
  const dataTypes: Record<string, string> = {};
  for (const type of strategies.synchronous.data_types) dataTypes[type] = criticalName ?? globalName;
  for (const type of strategies.asynchronous.data_types) dataTypes[type] = globalName;
  return { globalName, ...(criticalName ? { criticalName } : {}), mrsc, dataTypes };
}

/** The selective policy a key belongs to (the first whose pattern matches), if any. */
export function policyForKey(placement: ReplicationPlacement, key: string): PlacedPolicy | undefined {
  return placement.policies.find((p) => matchesPattern(p.dataPattern, key));
}

/**
 * The table a key written in `regionId` goes to under its selective policy; undefined when no policy
 * matches or the region holds none of the policy's tables.
 */
export function tableForKey(
  placement: ReplicationPlacement,
  key: string,
  regionId: string,
): PlacedTable | undefined {
  const name = policyForKey(placement, key)?.tableByRegion[regionId];
  return name === undefined ? undefined : placement.tables.find((t) => t.name === name);
}

/** Whether the MRSC table is possible: exactly three regions, all in one region set. */
export function decideMrsc(regionIds: readonly string[]): MrscDecision {
  const sets = regionIds.map((id) => regionSetOf(id));
  const described = regionIds.map((id, i) => `${id} (${sets[i] ?? 'no set'})`).join(', ');
  const [first] = sets;
  if (regionIds.length === MRSC_REPLICAS && first !== undefined && sets.every((s) => s === first)) {
    return {
      allowed: true,
      regionSet: first,
      reason: `the regions ${regionIds.join(', ')} are exactly ${MRSC_REPLICAS}, all in the ${first} region set`,
    };
  }
  const needs = `MRSC needs exactly ${MRSC_REPLICAS} regions in one region set (${Object.entries(
    MRSC_REGION_SETS,
  )
    .map(([name, ids]) => `${name}: ${ids.join(' ')}`)
    .join('; ')})`;
  return {
    allowed: false,
    reason: `${needs}; this topology has ${regionIds.length}: ${described}`,
  };
}

function regionSetOf(regionId: string): string | undefined {
  return Object.entries(MRSC_REGION_SETS).find(([, ids]) => ids.includes(regionId))?.[0];
}

/**
 * Every table's replicas stay inside what its policy allows: a `same_jurisdiction` table holds only
 * its jurisdiction's regions. Construction guarantees it; checked again because a replica outside
 * its jurisdiction is the one mistake this module exists to prevent.
 */
function checkResidency(
  tables: readonly PlacedTable[],
  policies: readonly PlacedPolicy[],
  jurisdictionOf: (regionId: string) => string | undefined,
): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const policy of policies) {
    if (policy.target !== 'same_jurisdiction') continue;
    for (const name of new Set(Object.values(policy.tableByRegion))) {
      const table = tables.find((t) => t.name === name);
      const outside = table?.regions.filter((r) => jurisdictionOf(r) !== table.jurisdiction) ?? [];
      if (table && outside.length > 0) {
        issues.push({
          field: `${policy.field}.target_regions`,
          reason: `table ${name} (${table.jurisdiction}) would have replicas outside its jurisdiction: ${outside.join(', ')}`,
        });
      }
    }
  }
  return issues;
}

/** Which state records a synchronous placement moves, for its notice. */
function describeRecords(syncTypes: readonly string[], table: string): string {
  const moved = STATE_RECORD_TYPES.filter((recordType) => {
    const dataType = RECORD_DATA_TYPES[recordType];
    return dataType !== undefined && syncTypes.includes(dataType);
  });
  const records =
    moved.length === 0
      ? ''
      : ` The control plane keeps its ${moved.map((r) => r.replace('_', ' ')).join(', ')} records in ${table}.`;
  const pools = syncTypes.includes(RESOURCE_POOL_DATA_TYPE)
    ? ` The resource pools (${RESOURCE_POOL_DATA_TYPE}) are there too: reservations are checked against the latest pool in every region.`
    : '';
  return `${records}${pools}`;
}
