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
 * The residency rule (DESIGN principle 6: a global table copies every item to every replica, so data
 * bound to a jurisdiction may only live in tables whose replicas are all inside it). A policy's data
 * is jurisdiction-bound when
 *   (a) the policy targets `same_jurisdiction` (it says so itself), or
 *   (b) the policy is `immutable` (records kept unchanged as evidence: the spec's compliance data), or
 *   (c) its `data_pattern` overlaps the pattern of a `same_jurisdiction` policy (a key matching both
 *       is data that policy keeps at home).
 * A region localizes data when its compliance policy sets `data_localization` or
 * `critical_data_localization`, or forbids cross-border transfer (`prohibited`). Placement fails
 * (an error naming `target_regions`) when a policy whose data is bound by (b) or (c) would have a
 * replica in a localizing region and a replica outside that region's jurisdiction; by (c) it also
 * fails whenever its replicas span jurisdictions at all. Data that is not bound may span
 * jurisdictions; when a localizing region is among its replicas a warning says what must not be
 * stored there. Adequacy decisions are not taken as permission: the rule errs towards staying home.
 *
 * A policy names its data by a key pattern (key-patterns.ts); a key matching several policies
 * belongs to the first.
 */
import type { FieldIssue } from '../errors.ts';
import type { RegionalCompliance, SelectiveReplicationPolicy } from '../topology/sections.ts';
import type { Topology } from '../topology/types.ts';
import { RECORD_DATA_TYPES } from './data-types.ts';
import { matchesPattern, patternsOverlap } from './key-patterns.ts';

export { matchesPattern, patternsOverlap } from './key-patterns.ts';

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
export const MRSC_REPLICAS = 3;

/** The number attribute (epoch seconds) holding an item's expiry in tables with a retention. */
export const EXPIRY_ATTRIBUTE = 'expires_at';

/** DynamoDB table names: 3-255 of letters, digits, `_`, `-` and `.`. */
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

export type TableConsistency = 'MREC' | 'MRSC' | 'single-region';

/** `global`: the shared state table; `critical`: the MRSC table; `selective`: a policy's table. */
export type TableRole = 'global' | 'critical' | 'selective';

export interface PlacedTable {
  /** Physical name, the same in every replica region. */
  readonly name: string;
  readonly role: TableRole;
  /** Every region holding a replica, in topology order. */
  readonly regions: readonly string[];
  /** Where the table's CloudFormation resource lives: the home region when it holds one, else the first. */
  readonly homeRegion: string;
  readonly consistency: TableConsistency;
  /** Expiry attribute (epoch seconds) when items expire; TTL on AWS, readers' check locally. */
  readonly ttlAttribute?: string;
  readonly retentionDays?: number;
  /** Written once: puts only where the key is absent (or expired), no update, no delete. */
  readonly immutable: boolean;
  /** The `same_jurisdiction` table's jurisdiction. */
  readonly jurisdiction?: string;
  /** Data types of the synchronous and asynchronous strategies that live here. */
  readonly dataTypes: readonly string[];
  /** Selective policies whose data lives here. */
  readonly policies: readonly string[];
}

export interface PlacedPolicy {
  readonly policyId: string;
  /** `replication_strategies.selective.policies[i]`. */
  readonly field: string;
  readonly dataPattern: string;
  readonly target: 'all' | 'same_jurisdiction' | 'regions';
  /** Rules (a)-(c) above: its data must not leave a localizing region's jurisdiction. */
  readonly jurisdictionBound: boolean;
  readonly immutable: boolean;
  readonly retentionDays?: number;
  /** Region -> the policy's table that region writes to (absent: the region holds none). */
  readonly tableByRegion: Readonly<Record<string, string>>;
}

export interface MrscDecision {
  readonly allowed: boolean;
  /** The region set all the topology's regions lie in, when there is one. */
  readonly regionSet?: string;
  readonly reason: string;
}

export interface ReplicationPlacement {
  /** Global table first, then the MRSC table (if any), then selective tables in policy order. */
  readonly tables: readonly PlacedTable[];
  readonly policies: readonly PlacedPolicy[];
  /** Synchronous and asynchronous data type -> table name. */
  readonly dataTypes: Readonly<Record<string, string>>;
  readonly mrsc: MrscDecision;
  /** What the operator should know (the MRSC decision always; spans that need care). */
  readonly warnings: readonly FieldIssue[];
  /** Placements that cannot be deployed; non-empty means nothing may be built from this placement. */
  readonly errors: readonly FieldIssue[];
}

export interface PlacementOptions {
  /**
   * The region owning the tables' CloudFormation resources when it holds a replica (the state stack's
   * region). @default the primary-tier region, else the first region (as the deployment plan)
   */
  readonly homeRegion?: string;
}

/** Places every table the topology needs; never throws: problems are in `errors`. */
export function placeReplication(topology: Topology, options: PlacementOptions = {}): ReplicationPlacement {
  const placing = startPlacing(topology, options);
  placeStrategyTables(placing);
  const sameJurisdiction = sameJurisdictionPatterns(topology);
  topology.replication_strategies.selective.policies.forEach((policy, i) => {
    placeSelectivePolicy(placing, policy, i, sameJurisdiction);
  });
  warnShadowedPatterns(placing);
  checkTableNames(placing);
  placing.errors.push(...checkResidency(placing.tables, placing.policies, placing.jurisdictionOf));
  const dataTypes: Record<string, string> = {};
  for (const table of placing.tables) for (const type of table.dataTypes) dataTypes[type] = table.name;
  const { tables, policies, mrsc, warnings, errors } = placing;
  return { tables, policies, dataTypes, mrsc, warnings, errors };
}

/** The placement as it is built: each step adds tables, policies and issues in order. */
interface Placing {
  readonly topology: Topology;
  readonly regionIds: readonly string[];
  readonly mrsc: MrscDecision;
  readonly tables: PlacedTable[];
  readonly policies: PlacedPolicy[];
  readonly warnings: FieldIssue[];
  readonly errors: FieldIssue[];
  /** The region owning a table's resource: the home region when it holds a replica, else the first. */
  readonly homeOf: (regions: readonly string[]) => string;
  readonly jurisdictionOf: (regionId: string) => string | undefined;
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

interface SameJurisdictionPattern {
  readonly policyId: string;
  readonly pattern: string;
}

/** The patterns of the `same_jurisdiction` policies: keys matching them are data kept at home (rule c). */
function sameJurisdictionPatterns(topology: Topology): SameJurisdictionPattern[] {
  return topology.replication_strategies.selective.policies
    .filter(isSameJurisdiction)
    .map((policy) => ({ policyId: policy.policy_id, pattern: policy.data_pattern }));
}

/** One selective policy: what it targets, checked, then its tables (one per jurisdiction, or one). */
function placeSelectivePolicy(
  placing: Placing,
  policy: SelectiveReplicationPolicy,
  index: number,
  sameJurisdiction: readonly SameJurisdictionPattern[],
): void {
  const field = `replication_strategies.selective.policies[${index}]`;
  const base = `${placing.topology.name}-sel-${policy.policy_id}`;
  if (!policyTargetsValid(placing, policy, field, base)) return;
  if (policy.target_regions[0] === 'same_jurisdiction') {
    placeSameJurisdiction(placing, policy, field, base);
    return;
  }
  const overlapping = sameJurisdiction.filter(
    (other) => other.policyId !== policy.policy_id && patternsOverlap(other.pattern, policy.data_pattern),
  );
  placeTargetRegions(placing, policy, field, base, overlapping);
}

/** The policy id can name a table, and `all` or `same_jurisdiction` stands alone. */
function policyTargetsValid(
  placing: Placing,
  policy: SelectiveReplicationPolicy,
  field: string,
  base: string,
): boolean {
  const targets = policy.target_regions;
  if (!TABLE_NAME.test(`${base}-x`)) {
    placing.errors.push({
      field: `${field}.policy_id`,
      reason: `"${policy.policy_id}" cannot name a DynamoDB table (${base}): use letters, digits, '_', '-' or '.'`,
    });
    return false;
  }
  const special = targets.filter((t) => t === 'all' || t === 'same_jurisdiction');
  if (special.length > 0 && targets.length > 1) {
    placing.errors.push({
      field: `${field}.target_regions`,
      reason: `${special[0]} stands alone: it cannot be combined with other targets (${targets.join(', ')})`,
    });
    return false;
  }
  return true;
}

/** A selective table of this policy over `regions`. */
function selectiveTable(
  placing: Placing,
  policy: SelectiveReplicationPolicy,
  name: string,
  regions: readonly string[],
  jurisdiction?: string,
): PlacedTable {
  return {
    name,
    role: 'selective',
    regions,
    homeRegion: placing.homeOf(regions),
    consistency: regions.length > 1 ? 'MREC' : 'single-region',
    ...(policy.retention_days !== undefined
      ? { ttlAttribute: EXPIRY_ATTRIBUTE, retentionDays: policy.retention_days }
      : {}),
    immutable: policy.immutable === true,
    ...(jurisdiction !== undefined ? { jurisdiction } : {}),
    dataTypes: [],
    policies: [policy.policy_id],
  };
}

/** `same_jurisdiction`: one table per jurisdiction with that jurisdiction's regions. */
function placeSameJurisdiction(
  placing: Placing,
  policy: SelectiveReplicationPolicy,
  field: string,
  base: string,
): void {
  const tableByRegion: Record<string, string> = {};
  for (const { jurisdiction, regions } of jurisdictionGroups(placing, policy)) {
    const suffix = slug(jurisdiction ?? (regions[0] as string));
    const table = selectiveTable(placing, policy, `${base}-${suffix}`, regions, jurisdiction);
    placing.tables.push(table);
    for (const regionId of regions) tableByRegion[regionId] = table.name;
  }
  placing.policies.push(placedPolicy(policy, field, 'same_jurisdiction', true, tableByRegion));
}

/** The regions grouped by jurisdiction, in topology order; a region without one is a group alone. */
function jurisdictionGroups(
  placing: Placing,
  policy: SelectiveReplicationPolicy,
): { jurisdiction: string | undefined; regions: string[] }[] {
  const groups = new Map<string, { jurisdiction: string | undefined; regions: string[] }>();
  for (const regionId of placing.regionIds) {
    const jurisdiction = placing.jurisdictionOf(regionId);
    // A region without a compliance policy has no known jurisdiction: it keeps the data alone.
    const group = jurisdiction === undefined ? `region:${regionId}` : `jurisdiction:${jurisdiction}`;
    const entry = groups.get(group) ?? { jurisdiction, regions: [] };
    entry.regions.push(regionId);
    groups.set(group, entry);
    if (jurisdiction === undefined) {
      placing.warnings.push({
        field: `regional_compliance.${regionId}`,
        reason: `no compliance policy, so no jurisdiction: ${policy.policy_id} (same_jurisdiction) keeps ${regionId}'s data in ${regionId} alone`,
      });
    }
  }
  return [...groups.values()];
}

/** `all` or a list of regions: one table over them, checked against the residency rule first. */
function placeTargetRegions(
  placing: Placing,
  policy: SelectiveReplicationPolicy,
  field: string,
  base: string,
  overlapping: readonly SameJurisdictionPattern[],
): void {
  const targets = policy.target_regions;
  const regions =
    targets[0] === 'all' ? placing.regionIds : placing.regionIds.filter((id) => targets.includes(id));
  const target = targets[0] === 'all' ? 'all' : 'regions';
  const bound = policy.immutable === true || overlapping.length > 0;
  checkBoundData(placing, policy, field, regions, overlapping);
  checkLocalizingRegions(placing, policy, field, regions, bound, overlapping.length > 0);
  const table = selectiveTable(placing, policy, base, regions);
  placing.tables.push(table);
  const tableByRegion: Record<string, string> = {};
  for (const regionId of regions) tableByRegion[regionId] = table.name;
  placing.policies.push(placedPolicy(policy, field, target, bound, tableByRegion));
  if (policy.replication_trigger === 'on_demand') {
    placing.warnings.push({
      field: `${field}.replication_trigger`,
      reason: `${policy.policy_id}: a global table replicates every write as it happens; on_demand is not deferred`,
    });
  }
}

/** Rule (c): data a `same_jurisdiction` policy keeps at home may not span jurisdictions at all. */
function checkBoundData(
  placing: Placing,
  policy: SelectiveReplicationPolicy,
  field: string,
  regions: readonly string[],
  overlapping: readonly SameJurisdictionPattern[],
): void {
  const { jurisdictionOf } = placing;
  const jurisdictions = new Set(regions.map((r) => jurisdictionOf(r) ?? `region:${r}`));
  if (overlapping.length > 0 && jurisdictions.size > 1) {
    placing.errors.push({
      field: `${field}.target_regions`,
      reason: `keys matching "${policy.data_pattern}" also match "${overlapping[0]?.pattern}" of ${overlapping[0]?.policyId} (same_jurisdiction): replicas in ${describeJurisdictions(regions, jurisdictionOf)} would take that data out of its jurisdiction`,
    });
  }
}

/**
 * Each localizing region among the replicas: bound data by rule (b) may not reach another
 * jurisdiction (an error); data that is not bound may, with a warning of what must not be stored there.
 */
function checkLocalizingRegions(
  placing: Placing,
  policy: SelectiveReplicationPolicy,
  field: string,
  regions: readonly string[],
  bound: boolean,
  overlaps: boolean,
): void {
  const { jurisdictionOf } = placing;
  const targetsField = `${field}.target_regions`;
  for (const regionId of regions) {
    const localizes = localizationOf(placing.topology.regional_compliance[regionId]);
    if (!localizes) continue;
    const home = jurisdictionOf(regionId);
    const abroad = regions.filter(
      (r) => r !== regionId && (home === undefined || jurisdictionOf(r) !== home),
    );
    if (abroad.length === 0) continue;
    const what = `${regionId} (${home ?? 'no jurisdiction'}) sets ${localizes}`;
    if (bound && !overlaps) {
      placing.errors.push({
        field: targetsField,
        reason: `${policy.policy_id} is immutable (compliance data, bound to its jurisdiction) and ${what}: replicas in ${abroad.join(', ')} would take ${regionId}'s records out of ${home ?? regionId}; target same_jurisdiction or regions of one jurisdiction`,
      });
    } else if (!bound) {
      placing.warnings.push({
        field: targetsField,
        reason: `${policy.policy_id} replicates across jurisdictions and ${what}: data matching "${policy.data_pattern}" written there reaches ${abroad.join(', ')}, so it must not hold data ${regionId} localizes`,
      });
    }
  }
}

/** Later policies never see keys an earlier one matches: say so where patterns overlap. */
function warnShadowedPatterns(placing: Placing): void {
  const raw = placing.topology.replication_strategies.selective.policies;
  raw.forEach((policy, i) => {
    const earlier = raw.slice(0, i).find((p) => patternsOverlap(p.data_pattern, policy.data_pattern));
    if (earlier) {
      placing.warnings.push({
        field: `replication_strategies.selective.policies[${i}].data_pattern`,
        reason: `"${policy.data_pattern}" overlaps "${earlier.data_pattern}" of ${earlier.policy_id}: keys matching both belong to ${earlier.policy_id}`,
      });
    }
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

/** The table a synchronous or asynchronous data type lives in; undefined for a type no strategy names. */
export function tableForDataType(placement: ReplicationPlacement, dataType: string): PlacedTable | undefined {
  const name = placement.dataTypes[dataType];
  return name === undefined ? undefined : placement.tables.find((t) => t.name === name);
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
export const RESOURCE_POOL_DATA_TYPE = 'worker_assignments';

/**
 * The table holding the resource pools: the MRSC table when `worker_assignments` is synchronous and
 * the regions allow one (reservations then checked against the latest pool in every region, no
 * over-commit across regions), else the state table (checked against the local replica only).
 */
export function resourcePoolTable(topology: Topology): string {
  const { dataTypes, globalName } = strategyTables(topology);
  return dataTypes[RESOURCE_POOL_DATA_TYPE] ?? globalName;
}

export interface StrategyTables {
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

export function regionSetOf(regionId: string): string | undefined {
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

function placedPolicy(
  policy: SelectiveReplicationPolicy,
  field: string,
  target: PlacedPolicy['target'],
  jurisdictionBound: boolean,
  tableByRegion: Record<string, string>,
): PlacedPolicy {
  return {
    policyId: policy.policy_id,
    field,
    dataPattern: policy.data_pattern,
    target,
    jurisdictionBound,
    immutable: policy.immutable === true,
    ...(policy.retention_days !== undefined ? { retentionDays: policy.retention_days } : {}),
    tableByRegion,
  };
}

function isSameJurisdiction(policy: SelectiveReplicationPolicy): boolean {
  return policy.target_regions.length === 1 && policy.target_regions[0] === 'same_jurisdiction';
}

/** Which setting makes a region keep data at home, or undefined. */
function localizationOf(policy: RegionalCompliance | undefined): string | undefined {
  const residency = policy?.data_residency;
  if (!residency) return undefined;
  if (residency.data_localization === true) return 'data_localization';
  if (residency.critical_data_localization === true) return 'critical_data_localization';
  if (residency.cross_border_transfer === 'prohibited') return 'cross_border_transfer: prohibited';
  return undefined;
}

function describeJurisdictions(
  regions: readonly string[],
  jurisdictionOf: (regionId: string) => string | undefined,
): string {
  return regions.map((r) => `${r} (${jurisdictionOf(r) ?? 'no jurisdiction'})`).join(', ');
}

/** A jurisdiction or region id as a table name suffix: lower case, anything else than [a-z0-9_.-] as `-`. */
function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-');
}
