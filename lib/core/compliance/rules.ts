/**
 * The compliance rules: may data of a classification, from an origin, live in a region? One pure
 * function (`assessCompliance`) answers for every region at once; the compliance check API, the
 * router (lib/core/routing.ts), the failover's target selection (lib/core/failover/target.ts) and
 * the audit all call it, so no decision anywhere can move data where the policy forbids.
 *
 * Residency follows the spec's enforcement script: the policies whose `allowed_countries` hold the
 * data's origin govern it, and a region inside their allowed countries is home. Leaving them is a
 * cross-border transfer, judged by the governing policy's `cross_border_transfer`:
 *
 * | rule                          | internal | sensitive                 | pii                       |
 * | ----------------------------- | -------- | ------------------------- | ------------------------- |
 * | `allowed`                     | yes      | yes (2)                   | yes (1, 2)                |
 * | `restricted`                  | yes      | no                        | no                        |
 * | `approval_required`           | yes      | with `approval_ref` (2)   | with `approval_ref` (1, 2) |
 * | `prohibited`                  | no       | no                        | no                        |
 * | a mechanism (e.g. SCCs)       | yes      | adequacy countries; others with `approval_ref` (2) | same (1) |
 *
 * (1) `critical_data_localization` keeps `pii` home whatever the rule or approval (critical data is
 * read as personal data). (2) `data_localization` keeps regulated data in the allowed countries and
 * the countries with an adequacy decision (GDPR treats those as equivalent). `public` data is never
 * restricted. An origin no policy governs may go, when regulated, only to regions whose declared
 * residency lists it.
 *
 * `sensitive` and `pii` also need the region's encryption and access-control requirements to hold
 * in the deployment (DeploymentFacts): a baseline (encryption at rest and in transit, authenticated
 * access), the region's `data_residency.encryption_required` and the governing policy's, and the
 * requirements of its region-wide frameworks (SOC 2, GDPR, ISO 27001). HIPAA and PCI DSS cover only
 * their own data (PHI, cardholder data), so their requirements apply when the task names them.
 */
import { isIsoCountry } from '../geo/countries.ts';
import type { ComplianceFrameworkPolicy, RegionalCompliance } from '../topology/sections.ts';
import type { Region, Topology } from '../topology/types.ts';
import { type DataClassification, type DeploymentFacts, isRegulated } from './types.ts';

/** Frameworks whose controls cover only their own kind of data (PHI, cardholder data). */
const DATA_SCOPED_FRAMEWORKS: ReadonlySet<string> = new Set(['hipaa', 'pci-dss']);

/** Classifications `critical_data_localization` keeps at home even with an approval. */
const CRITICAL_CLASSIFICATIONS: ReadonlySet<DataClassification> = new Set(['pii']);

/** Routing's compliance factor for a region reached only by a cross-border transfer. */
const TRANSFER_COMPLIANCE_FACTOR = 50;

type ReasonType = 'framework' | 'data_residency' | 'encryption' | 'access_control';

export interface ComplianceReason {
  readonly type: ReasonType;
  /** Machine-readable rule, e.g. `transfer:restricted`, `critical_data_localization`, `encryption_at_rest`. */
  readonly rule: string;
  readonly reason: string;
}

/**
 * How the data may be in a region: no rule applies (`unrestricted`), inside every jurisdiction that
 * governs it (`in_jurisdiction`), listed in the region's residency with no policy governing the
 * origin (`residency`), or by a cross-border transfer the policy allows outright
 * (`transfer_allowed`), to an adequacy country (`adequacy`) or with the approval (`approval`).
 */
export type PlacementBasis =
  | 'unrestricted'
  | 'in_jurisdiction'
  | 'residency'
  | 'transfer_allowed'
  | 'adequacy'
  | 'approval';

/** Where data comes from: a country, a group's countries, or a region's country. */
export interface Origin {
  /** As normalized (`GB` for `uk`, `EEA`); it identifies `countries` within one topology. */
  readonly label: string;
  readonly countries: readonly string[];
}

export interface ComplianceQuery {
  readonly data_classification: DataClassification;
  readonly origin: Origin;
  /** Normalized framework names (`pci-dss`, `iso27001`) the data is subject to. */
  readonly frameworks?: readonly string[];
  readonly approval_ref?: string;
}

export interface RegionVerdict {
  readonly region: string;
  readonly compliant: boolean;
  /** How the data may be there; undefined when its residency or transfer rules forbid it. */
  readonly basis: PlacementBasis | undefined;
  /** Every reason it is not compliant; empty when it is. */
  readonly reasons: readonly ComplianceReason[];
  /** Jurisdictions whose transfer rule was met only by the approval reference. */
  readonly approval_for: readonly string[];
  /** 100, or TRANSFER_COMPLIANCE_FACTOR when regulated data reaches it by a cross-border transfer. */
  readonly factor: number;
}

/** A region's verdict for every topology region, in topology order. */
type ComplianceAssessment = ReadonlyMap<string, RegionVerdict>;

// ---------------------------------------------------------------------------------------------
// Origins

const COUNTRY_ALIASES: Readonly<Record<string, string>> = { UK: 'GB', EL: 'GR' };

/** A country code or group of the topology (any case, `UK` for GB) as an origin; undefined otherwise. */
export function originOf(topology: Topology, place: string): Origin | undefined {
  const upper = place.trim().toUpperCase();
  const code = COUNTRY_ALIASES[upper] ?? upper;
  if (isIsoCountry(code)) return { label: code, countries: [code] };
  const group = topology.expanded_groups[code];
  return group ? { label: code, countries: group } : undefined;
}

/**
 * A task's data origin (the compliance check's `user_location`): the caller's country when the task
 * names one, else its data residency (a country or a group), else the source region's country.
 */
export function originOfTask(
  topology: Topology,
  source: { readonly region?: string; readonly country?: string },
  residency: string | undefined,
): Origin | undefined {
  if (source.country !== undefined) return originOf(topology, source.country);
  if (residency !== undefined) return originOf(topology, residency);
  const region = topology.regions.find((r) => r.region_id === source.region);
  return region ? originOf(topology, region.geographic_location.country) : undefined;
}

/**
 * The compliance query of a stored or re-routed task (a handoff's `task`), read defensively: a task
 * without a classification is `internal`. Undefined with a reason when its origin cannot be resolved.
 */
export function queryOfTask(
  topology: Topology,
  task: Readonly<Record<string, unknown>>,
  sourceRegion: string,
): { query: ComplianceQuery } | { error: string } {
  const source = (isObject(task.source) ? task.source : { region: sourceRegion }) as {
    region?: string;
    country?: string;
  };
  const requirements = isObject(task.requirements) ? task.requirements : {};
  const residency = typeof requirements.data_residency === 'string' ? requirements.data_residency : undefined;
  const classification = requirements.data_classification;
  const data_classification: DataClassification =
    classification === 'public' ||
    classification === 'internal' ||
    classification === 'sensitive' ||
    classification === 'pii'
      ? classification
      : 'internal';
  const origin = originOfTask(
    topology,
    typeof source.country === 'string'
      ? { country: source.country }
      : { region: source.region ?? sourceRegion },
    residency,
  );
  if (!origin) return { error: `its origin (${source.country ?? residency ?? source.region}) is unknown` };
  const frameworks = Array.isArray(requirements.compliance)
    ? requirements.compliance.filter((f): f is string => typeof f === 'string').map(normalizeFrameworkName)
    : [];
  const approval = requirements.approval_ref;
  return {
    query: {
      data_classification,
      origin,
      frameworks,
      ...(typeof approval === 'string' ? { approval_ref: approval } : {}),
    },
  };
}

/** The spec writes `pci_dss` and `iso_27001` in policies and `pci-dss`, `iso27001` in metadata. */
export function normalizeFrameworkName(name: string): string {
  const lower = name.trim().toLowerCase();
  if (lower === 'pci_dss' || lower === 'pcidss') return 'pci-dss';
  if (lower === 'iso_27001' || lower === 'iso-27001') return 'iso27001';
  return lower;
}

// ---------------------------------------------------------------------------------------------
// Requirements a deployment must meet

/** One control a deployment either has or lacks. */
export type Need =
  | 'encryption_at_rest'
  | 'encryption_in_transit'
  | 'aes_256'
  | 'authentication'
  | 'role_based_access'
  | 'mfa'
  | 'access_logging';

const NEED_TYPE: Readonly<Record<Need, 'encryption' | 'access_control'>> = {
  encryption_at_rest: 'encryption',
  encryption_in_transit: 'encryption',
  aes_256: 'encryption',
  authentication: 'access_control',
  role_based_access: 'access_control',
  mfa: 'access_control',
  access_logging: 'access_control',
};

const NEED_TEXT: Readonly<Record<Need, string>> = {
  encryption_at_rest: 'encryption at rest',
  encryption_in_transit: 'encryption in transit',
  aes_256: 'AES-256 encryption at rest',
  authentication: 'authenticated access',
  role_based_access: 'role-based access control',
  mfa: 'multi-factor authentication',
  access_logging: 'access logging (audit trail)',
};

const LACK_TEXT: Readonly<Record<Need, string>> = {
  encryption_at_rest: 'does not encrypt at rest',
  encryption_in_transit: 'does not encrypt in transit',
  aes_256: 'does not encrypt at rest with AES-256',
  authentication: 'does not authenticate callers',
  role_based_access: 'does not grant access by role',
  mfa: 'does not enforce multi-factor authentication',
  access_logging: 'does not log access',
};

/** A control some rule demands, with every rule that demands it. */
interface Requirement {
  readonly need: Need;
  readonly type: 'encryption' | 'access_control';
  /** e.g. `regulated data`, `soc2 encryption_at_rest`, `data_residency.encryption_required`. */
  readonly sources: readonly string[];
}

interface RequirementCheck extends Requirement {
  readonly met: boolean;
  /** Why it is not met; empty when met. */
  readonly reason: string;
}

/** Whether the deployment has a control; undefined facts have none (nothing can be confirmed). */
function hasControl(facts: DeploymentFacts | undefined, need: Need): boolean {
  if (!facts) return false;
  switch (need) {
    case 'encryption_at_rest':
      return facts.encryption_at_rest.enabled;
    case 'encryption_in_transit':
      return facts.encryption_in_transit;
    case 'aes_256':
      return facts.encryption_at_rest.enabled && facts.encryption_at_rest.algorithm === 'aes_256';
    case 'authentication':
      return facts.access_control.authentication !== 'none';
    case 'role_based_access':
      return facts.access_control.role_based;
    case 'mfa':
      return facts.access_control.mfa_enforced;
    case 'access_logging':
      return facts.access_logging;
  }
}

/** The controls one requirement of a framework policy demands; organizational ones demand none. */
function needsOfRequirement(key: string, value: boolean | number | string): Need[] {
  const text = typeof value === 'string' ? value.toLowerCase() : '';
  switch (key) {
    case 'encryption_at_rest':
      return value === true ? ['encryption_at_rest'] : [];
    case 'encryption_in_transit':
      return value === true ? ['encryption_in_transit'] : [];
    case 'phi_encryption':
      return value === true ? ['encryption_at_rest', 'encryption_in_transit'] : [];
    case 'encryption':
      if (value === true) return ['encryption_at_rest', 'encryption_in_transit'];
      if (text === 'aes_256' || text === 'aes-256') return ['encryption_at_rest', 'aes_256'];
      return text ? ['encryption_at_rest'] : [];
    case 'access_control':
    case 'access_controls':
      if (text === 'mfa_required' || text === 'mfa') return ['authentication', 'mfa'];
      if (text === 'rbac') return ['authentication', 'role_based_access'];
      return value === true || text ? ['authentication'] : [];
    case 'access_logging':
    case 'audit_trails':
      return value === true ? ['access_logging'] : [];
    default:
      // change_management, breach_notification, data_minimization ...: organizational controls a
      // deployment's configuration cannot show.
      return [];
  }
}

class NeedSet {
  readonly #sources = new Map<Need, string[]>();

  add(need: Need, source: string): void {
    const sources = this.#sources.get(need);
    if (!sources) this.#sources.set(need, [source]);
    else if (!sources.includes(source)) sources.push(source);
  }

  addAll(requirements: readonly Requirement[]): void {
    for (const r of requirements) for (const source of r.sources) this.add(r.need, source);
  }

  list(): Requirement[] {
    return [...this.#sources].map(([need, sources]) => ({ need, type: NEED_TYPE[need], sources }));
  }
}

/** Checks requirements against the deployment; each unmet one says what demands it and what is missing. */
export function checkRequirements(
  requirements: readonly Requirement[],
  facts: DeploymentFacts | undefined,
): RequirementCheck[] {
  return requirements.map((r) => {
    const met = hasControl(facts, r.need);
    const lack = facts
      ? `the deployment (${facts.source}) ${LACK_TEXT[r.need]}`
      : 'the deployment declares no controls, so it cannot be confirmed';
    return {
      ...r,
      met,
      reason: met ? '' : `${NEED_TEXT[r.need]} is required (${r.sources.join('; ')}) but ${lack}`,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// The topology, indexed once

type TransferMode = 'allowed' | 'restricted' | 'approval_required' | 'prohibited' | 'mechanism';

interface PolicyFacts {
  readonly regionId: string;
  readonly jurisdiction: string;
  readonly allowed: ReadonlySet<string>;
  /** The allowed list as written (`EU, GB, EEA`). */
  readonly allowedLabel: string;
  readonly mode: TransferMode;
  readonly mechanism: string | undefined;
  readonly adequacy: ReadonlySet<string>;
  readonly localization: boolean;
  readonly criticalLocalization: boolean;
  readonly encryptionRequired: boolean;
}

interface RegionFacts {
  readonly region: Region;
  readonly country: string;
  readonly residency: ReadonlySet<string>;
  /** Frameworks it holds: listed in its metadata and not disabled by its policy. */
  readonly frameworks: ReadonlySet<string>;
  /** Controls its policy demands for every regulated item it holds. */
  readonly regionWide: readonly Requirement[];
  /** Controls data-scoped frameworks demand, for data subject to them. */
  readonly scoped: ReadonlyMap<string, readonly Requirement[]>;
}

interface ComplianceIndex {
  readonly regions: readonly RegionFacts[];
  readonly byId: ReadonlyMap<string, RegionFacts>;
  /** ISO country -> the policies whose allowed countries hold it. */
  readonly governing: ReadonlyMap<string, readonly PolicyFacts[]>;
  /** Per deployment facts object (or NO_FACTS): query key -> assessment. */
  readonly cache: WeakMap<object, Map<string, ComplianceAssessment>>;
}

const NO_FACTS = {};
/** Distinct queries are few (classification x origin x frameworks); the bound guards odd callers. */
const MAX_CACHED_QUERIES = 2048;

// Topologies are frozen, so their compliance index is built once per topology, not per decision.
const indexes = new WeakMap<Topology, ComplianceIndex>();

function expand(topology: Topology, codes: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const code of codes) {
    if (isIsoCountry(code)) out.add(code);
    for (const member of topology.expanded_groups[code] ?? []) out.add(member);
  }
  return out;
}

function policyFacts(topology: Topology, regionId: string, policy: RegionalCompliance): PolicyFacts {
  const residency = policy.data_residency;
  const transfer = residency.cross_border_transfer;
  return {
    regionId,
    jurisdiction: policy.jurisdiction,
    allowed: expand(topology, residency.allowed_countries),
    allowedLabel: residency.allowed_countries.join(', '),
    mode: typeof transfer === 'string' ? transfer : 'mechanism',
    mechanism: typeof transfer === 'string' ? undefined : transfer.mechanism,
    adequacy: typeof transfer === 'string' ? new Set() : expand(topology, transfer.adequacy_decisions),
    localization: residency.data_localization === true,
    criticalLocalization: residency.critical_data_localization === true,
    encryptionRequired: residency.encryption_required === true,
  };
}

function regionFacts(region: Region, policy: RegionalCompliance | undefined): RegionFacts {
  const policies = (policy?.frameworks ?? {}) as Readonly<Record<string, ComplianceFrameworkPolicy>>;
  const frameworks = new Set<string>(region.compliance.filter((f) => policies[f]?.enabled !== false));
  const regionWide = new NeedSet();
  const scoped = new Map<string, Requirement[]>();
  if (policy?.data_residency.encryption_required) {
    regionWide.add('encryption_at_rest', `${policy.jurisdiction} data_residency.encryption_required`);
    regionWide.add('encryption_in_transit', `${policy.jurisdiction} data_residency.encryption_required`);
  }
  for (const [name, settings] of Object.entries(policies)) {
    if (!settings.enabled) continue;
    const needs = new NeedSet();
    for (const [key, value] of Object.entries(settings.requirements ?? {})) {
      for (const need of needsOfRequirement(key, value)) needs.add(need, `${name} ${key}`);
    }
    if (DATA_SCOPED_FRAMEWORKS.has(name)) scoped.set(name, needs.list());
    else regionWide.addAll(needs.list());
  }
  return {
    region,
    country: region.geographic_location.country,
    residency: new Set(region.residency_countries),
    frameworks,
    regionWide: regionWide.list(),
    scoped,
  };
}

function indexOf(topology: Topology): ComplianceIndex {
  let index = indexes.get(topology);
  if (index) return index;
  const regions = topology.regions.map((r) => regionFacts(r, topology.regional_compliance[r.region_id]));
  const governing = new Map<string, PolicyFacts[]>();
  for (const region of topology.regions) {
    const policy = topology.regional_compliance[region.region_id];
    if (!policy) continue;
    const facts = policyFacts(topology, region.region_id, policy);
    for (const country of facts.allowed) {
      const list = governing.get(country);
      if (list) list.push(facts);
      else governing.set(country, [facts]);
    }
  }
  index = {
    regions,
    byId: new Map(regions.map((r) => [r.region.region_id, r])),
    governing,
    cache: new WeakMap(),
  };
  indexes.set(topology, index);
  return index;
}

/** The frameworks a region holds (metadata, less any its policy disables). */
export function heldFrameworks(topology: Topology, regionId: string): ReadonlySet<string> {
  return indexOf(topology).byId.get(regionId)?.frameworks ?? new Set();
}

/**
 * The controls the deployment must have in a region for the data it holds: the region-wide ones
 * always; the baseline and the origin policies' `encryption_required` when it holds regulated data;
 * a data-scoped framework's when it holds data subject to it.
 */
export function regionRequirements(
  topology: Topology,
  regionId: string,
  holds: {
    readonly regulated: boolean;
    readonly frameworks?: readonly string[];
    readonly origin?: Origin;
  },
): Requirement[] {
  const index = indexOf(topology);
  const region = index.byId.get(regionId);
  if (!region) return [];
  const needs = new NeedSet();
  if (holds.regulated) {
    needs.add('encryption_at_rest', 'regulated data');
    needs.add('encryption_in_transit', 'regulated data');
    needs.add('authentication', 'regulated data');
    for (const policy of governingPolicies(index, holds.origin)) {
      if (policy.encryptionRequired) {
        needs.add('encryption_at_rest', `${policy.jurisdiction} data_residency.encryption_required`);
        needs.add('encryption_in_transit', `${policy.jurisdiction} data_residency.encryption_required`);
      }
    }
  }
  needs.addAll(region.regionWide);
  for (const framework of holds.frameworks ?? []) {
    if (region.frameworks.has(framework)) needs.addAll(region.scoped.get(framework) ?? []);
  }
  return needs.list();
}

function governingPolicies(index: ComplianceIndex, origin: Origin | undefined): PolicyFacts[] {
  const out = new Set<PolicyFacts>();
  for (const country of origin?.countries ?? []) {
    for (const policy of index.governing.get(country) ?? []) out.add(policy);
  }
  return [...out];
}

// ---------------------------------------------------------------------------------------------
// The verdicts

/** Later entries need more: a region's basis is the weakest link among its jurisdictions. */
const BASIS_ORDER: readonly PlacementBasis[] = [
  'unrestricted',
  'in_jurisdiction',
  'residency',
  'transfer_allowed',
  'adequacy',
  'approval',
];

const TRANSFER_BASES: ReadonlySet<PlacementBasis> = new Set(['transfer_allowed', 'adequacy', 'approval']);

function summarize(codes: readonly string[]): string {
  return codes.length <= 5
    ? codes.join(', ')
    : `${codes.slice(0, 5).join(', ')} and ${codes.length - 5} more`;
}

interface Residency {
  readonly reasons: ComplianceReason[];
  readonly basis: PlacementBasis | undefined;
  readonly approvalFor: string[];
}

function residencyVerdict(index: ComplianceIndex, query: ComplianceQuery, region: RegionFacts): Residency {
  const cls = query.data_classification;
  if (cls === 'public') return { reasons: [], basis: 'unrestricted', approvalFor: [] };
  const regulated = isRegulated(cls);
  const reasons: ComplianceReason[] = [];
  const approvalFor: string[] = [];
  let basis = 0;
  const use = (b: PlacementBasis) => {
    basis = Math.max(basis, BASIS_ORDER.indexOf(b));
  };
  const ungoverned: string[] = [];
  const governing = new Map<PolicyFacts, string[]>();
  for (const country of query.origin.countries) {
    const policies = index.governing.get(country);
    if (!policies) {
      ungoverned.push(country);
      continue;
    }
    for (const policy of policies) {
      const list = governing.get(policy);
      if (list) list.push(country);
      else governing.set(policy, [country]);
    }
  }
  const id = region.region.region_id;
  const where = `${id} (${region.country})`;
  if (ungoverned.length > 0) {
    if (!regulated) use('unrestricted');
    else {
      const outside = ungoverned.filter((c) => !region.residency.has(c));
      if (outside.length > 0) {
        reasons.push({
          type: 'data_residency',
          rule: 'residency',
          reason: `no compliance policy governs ${cls} data from ${summarize(outside)}, and ${id}'s residency (${region.region.data_residency.join(', ')}) does not include it`,
        });
      } else use('residency');
    }
  }
  const from = (countries: readonly string[]) =>
    countries.length === query.origin.countries.length ? query.origin.label : summarize(countries);
  for (const [policy, countries] of governing) {
    if (policy.allowed.has(region.country)) {
      use('in_jurisdiction');
      continue;
    }
    const what = `${cls} data from ${from(countries)}`;
    const jurisdiction = policy.jurisdiction;
    if (policy.mode === 'prohibited') {
      reasons.push({
        type: 'data_residency',
        rule: 'transfer:prohibited',
        reason: `${jurisdiction} prohibits cross-border transfers: ${what} stays in ${policy.allowedLabel}, not ${where}`,
      });
      continue;
    }
    if (!regulated) {
      use('unrestricted');
      continue;
    }
    if (policy.criticalLocalization && CRITICAL_CLASSIFICATIONS.has(cls)) {
      reasons.push({
        type: 'data_residency',
        rule: 'critical_data_localization',
        reason: `${jurisdiction} localizes critical data: ${what} stays in ${policy.allowedLabel}, not ${where}, even with an approval`,
      });
      continue;
    }
    if (policy.adequacy.has(region.country)) {
      use('adequacy');
      continue;
    }
    if (policy.localization) {
      const adequacy =
        policy.adequacy.size > 0
          ? `countries with an adequacy decision (${[...policy.adequacy].join(', ')})`
          : 'no other country';
      reasons.push({
        type: 'data_residency',
        rule: 'data_localization',
        reason: `${jurisdiction} localizes ${what} in ${policy.allowedLabel}; it may go only to ${adequacy}, not ${where}`,
      });
      continue;
    }
    if (policy.mode === 'allowed') {
      use('transfer_allowed');
      continue;
    }
    if (policy.mode === 'restricted') {
      reasons.push({
        type: 'data_residency',
        rule: 'transfer:restricted',
        reason: `${jurisdiction} restricts cross-border transfers: ${what} may not leave ${policy.allowedLabel} for ${where}`,
      });
      continue;
    }
    // approval_required, or a transfer mechanism (standard contractual clauses) whose executed
    // instrument the approval reference names.
    if (query.approval_ref !== undefined) {
      use('approval');
      if (!approvalFor.includes(jurisdiction)) approvalFor.push(jurisdiction);
      continue;
    }
    const rule = policy.mode === 'mechanism' ? `transfer:${policy.mechanism}` : 'transfer:approval_required';
    const needed =
      policy.mode === 'mechanism'
        ? `transfers outside its adequacy list only under ${policy.mechanism}`
        : 'an approval for cross-border transfers';
    reasons.push({
      type: 'data_residency',
      rule,
      reason: `${jurisdiction} requires ${needed}: ${what} to ${where} needs an approval_ref, and none was given`,
    });
  }
  return {
    reasons,
    basis: reasons.length > 0 ? undefined : BASIS_ORDER[basis],
    approvalFor: reasons.length > 0 ? [] : approvalFor,
  };
}

function verdictFor(
  index: ComplianceIndex,
  topology: Topology,
  query: ComplianceQuery,
  region: RegionFacts,
  facts: DeploymentFacts | undefined,
): RegionVerdict {
  const reasons: ComplianceReason[] = [];
  for (const framework of query.frameworks ?? []) {
    if (!region.frameworks.has(framework)) {
      reasons.push({
        type: 'framework',
        rule: `framework:${framework}`,
        reason: `lacks compliance framework ${framework}`,
      });
    }
  }
  const residency = residencyVerdict(index, query, region);
  reasons.push(...residency.reasons);
  const regulated = isRegulated(query.data_classification);
  if (regulated) {
    const requirements = regionRequirements(topology, region.region.region_id, {
      regulated,
      ...(query.frameworks ? { frameworks: query.frameworks } : {}),
      origin: query.origin,
    });
    for (const check of checkRequirements(requirements, facts)) {
      if (!check.met) reasons.push({ type: check.type, rule: check.need, reason: check.reason });
    }
  }
  const basis = residency.basis;
  return {
    region: region.region.region_id,
    compliant: reasons.length === 0,
    basis,
    reasons,
    approval_for: residency.approvalFor,
    factor: regulated && basis !== undefined && TRANSFER_BASES.has(basis) ? TRANSFER_COMPLIANCE_FACTOR : 100,
  };
}

function cacheKey(query: ComplianceQuery): string {
  return `${query.data_classification}|${query.origin.label}|${(query.frameworks ?? []).join(',')}|${
    query.approval_ref === undefined ? '' : 'approved'
  }`;
}

/**
 * Every region's verdict for the query, in topology order. Pure; memoized per topology and
 * deployment facts (verdicts depend on the approval's presence, not its text), so the router pays
 * for a query's rules once.
 */
export function assessCompliance(
  topology: Topology,
  query: ComplianceQuery,
  facts: DeploymentFacts | undefined,
): ComplianceAssessment {
  const index = indexOf(topology);
  const factsKey = facts ?? NO_FACTS;
  let cached = index.cache.get(factsKey);
  if (!cached) {
    cached = new Map();
    index.cache.set(factsKey, cached);
  }
  const key = cacheKey(query);
  const hit = cached.get(key);
  if (hit) return hit;
  const assessment = new Map(
    index.regions.map((region) => [
      region.region.region_id,
      verdictFor(index, topology, query, region, facts),
    ]),
  );
  if (cached.size >= MAX_CACHED_QUERIES) cached.clear();
  cached.set(key, assessment);
  return assessment;
}

/** The jurisdictions that govern an origin (its countries' policies), for reports. */
export function jurisdictionsOf(topology: Topology, origin: Origin): string[] {
  return [...new Set(governingPolicies(indexOf(topology), origin).map((p) => p.jurisdiction))];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
