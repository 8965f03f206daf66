/**
 * The tables of the selective replication policies: each policy's own tables, whose replicas are
 * exactly the regions it names (`all`, a list of region ids, or `same_jurisdiction`: one table per
 * jurisdiction), checked against the residency rule.
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
 */
import type { RegionalCompliance, SelectiveReplicationPolicy } from '../topology/sections.ts';
import type { Topology } from '../topology/types.ts';
import { patternsOverlap } from './key-patterns.ts';
import {
  EXPIRY_ATTRIBUTE,
  type PlacedPolicy,
  type PlacedTable,
  type Placing,
  TABLE_NAME,
} from './placed-tables.ts';

/** Each selective policy in order, after the strategy tables. */
export function placeSelectivePolicies(placing: Placing): void {
  const sameJurisdiction = sameJurisdictionPatterns(placing.topology);
  placing.topology.replication_strategies.selective.policies.forEach((policy, i) => {
    placeSelectivePolicy(placing, policy, i, sameJurisdiction);
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
export function warnShadowedPatterns(placing: Placing): void {
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
