/**
 * The `country_groups` section and the places other sections name: a place is an ISO 3166-1 alpha-2
 * country code or a group the topology defines (EU, EEA, APAC ...); groups may contain groups.
 */
import { COUNTRIES, isIsoCountry } from '../../geo/countries.ts';
import { normalizeCountryCode } from '../residency.ts';
import { type Report, reportDuplicates } from './report.ts';

interface CountryGroups {
  /** Normalized group name -> normalized members. */
  readonly members: Record<string, string[]>;
  /** Normalized group name -> sorted unique ISO codes. */
  readonly expanded: Record<string, string[]>;
}

/** Normalized group name -> the key the file wrote it as, for field paths. */
type RawKeys = ReadonlyMap<string, string>;

export function checkCountryGroups(raw: Record<string, string[]>, report: Report): CountryGroups {
  const { members, rawKeyOf } = groupNames(raw, report);
  checkMembers(members, rawKeyOf, report);
  return { members, expanded: expandGroups(members, rawKeyOf, report) };
}

/** Normalizes the group names; a name that is a country code, or is written twice, is reported. */
function groupNames(
  raw: Record<string, string[]>,
  report: Report,
): { members: Record<string, string[]>; rawKeyOf: RawKeys } {
  const members: Record<string, string[]> = {};
  const rawKeyOf = new Map<string, string>();
  for (const [rawName, rawMembers] of Object.entries(raw)) {
    const field = `country_groups.${rawName}`;
    const name = normalizeCountryCode(rawName);
    if (isIsoCountry(name)) {
      report(field, `group name "${rawName}" is a country code (${name}); a group needs a name of its own`);
      continue;
    }
    const earlier = rawKeyOf.get(name);
    if (earlier !== undefined) {
      report(field, `duplicate group "${name}" (also written as "${earlier}")`);
      continue;
    }
    rawKeyOf.set(name, rawName);
    members[name] = rawMembers.map(normalizeCountryCode);
  }
  return { members, rawKeyOf };
}

/** Every member is a country or a defined group, and appears once. */
function checkMembers(members: Record<string, string[]>, rawKeyOf: RawKeys, report: Report): void {
  for (const [name, list] of Object.entries(members)) {
    const field = `country_groups.${rawKeyOf.get(name) ?? name}`;
    list.forEach((member, index) => {
      if (!isIsoCountry(member) && members[member] === undefined) {
        report(`${field}[${index}]`, unknownPlace(member));
      }
    });
    reportDuplicates(list, (index) => `${field}[${index}]`, 'member', report);
  }
}

/** Each group's countries, depth first; a group met again while it is being expanded closes a cycle (reported once). */
function expandGroups(
  members: Record<string, string[]>,
  rawKeyOf: RawKeys,
  report: Report,
): Record<string, string[]> {
  const expandedSets = new Map<string, Set<string>>();
  const visiting: string[] = [];
  const reportedCycles = new Set<string>();
  const expand = (name: string): Set<string> => {
    const done = expandedSets.get(name);
    if (done) return done;
    const at = visiting.indexOf(name);
    if (at >= 0) {
      const cycle = [...visiting.slice(at), name];
      const key = [...new Set(cycle)].sort().join(',');
      if (!reportedCycles.has(key)) {
        reportedCycles.add(key);
        report(`country_groups.${rawKeyOf.get(name) ?? name}`, `group cycle: ${cycle.join(' -> ')}`);
      }
      return new Set();
    }
    visiting.push(name);
    const out = new Set<string>();
    for (const member of members[name] ?? []) {
      if (isIsoCountry(member)) out.add(member);
      else if (members[member] !== undefined) for (const code of expand(member)) out.add(code);
    }
    visiting.pop();
    expandedSets.set(name, out);
    return out;
  };
  const expanded: Record<string, string[]> = {};
  for (const name of Object.keys(members)) expanded[name] = [...expand(name)].sort();
  return expanded;
}

function unknownPlace(code: string): string {
  return `unknown country or group "${code}"; expected an ISO 3166-1 alpha-2 code or a group defined in country_groups`;
}

let countryNames: Map<string, string> | undefined;

/** English country name (any case) -> ISO code; the spec writes `Switzerland` in one list. */
function countryCodeByName(name: string): string | undefined {
  countryNames ??= new Map([...COUNTRIES].map(([code, info]) => [info.name.toLowerCase(), code]));
  return countryNames.get(name.trim().toLowerCase());
}

/** Resolves the places other sections name against the topology's groups, reporting unknown ones. */
export class PlaceResolver {
  readonly #groups: Readonly<Record<string, readonly string[]>>;

  constructor(groups: Readonly<Record<string, readonly string[]>>) {
    this.#groups = groups;
  }

  /** A country code or group, normalized; reports and returns undefined when it is neither. */
  place(raw: string, field: string, report: Report, options: { names?: boolean } = {}): string | undefined {
    const code = normalizeCountryCode(raw);
    if (isIsoCountry(code) || this.#groups[code] !== undefined) return code;
    const byName = options.names ? countryCodeByName(raw) : undefined;
    if (byName !== undefined) return byName;
    report(field, unknownPlace(raw));
    return undefined;
  }

  places(raw: readonly string[], field: string, report: Report, options: { names?: boolean } = {}): string[] {
    const resolved = raw.map((entry, index) => this.place(entry, `${field}[${index}]`, report, options));
    reportDuplicates(resolved, (index) => `${field}[${index}]`, 'entry', report);
    return resolved.filter((code) => code !== undefined);
  }

  /** Sorted unique ISO codes of a list of resolved codes and groups. */
  countries(codes: readonly string[]): string[] {
    const out = new Set<string>();
    for (const code of codes) {
      if (isIsoCountry(code)) out.add(code);
      else for (const member of this.#groups[code] ?? []) out.add(member);
    }
    return [...out].sort();
  }
}
