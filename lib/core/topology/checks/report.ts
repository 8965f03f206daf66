/** What every section's checks share: how an issue is reported, the regions known, and a few list checks. */
import type { Region } from '../types.ts';

/** Records one issue at a field path; the checks go on, so one pass names every bad field. */
export type Report = (field: string, reason: string) => void;

export interface KnownRegions {
  readonly ids: ReadonlySet<string>;
  /** In file order, each id once (a duplicate id is reported on its own). */
  readonly list: readonly string[];
}

export function knownOf(regions: readonly Region[]): KnownRegions {
  const ids = new Set(regions.map((r) => r.region_id));
  return { ids, list: [...ids] };
}

export const unknownRegion = (id: string) => `unknown region "${id}"; not in regions`;

export const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/** Avoids binary-fraction noise (0.1 + 0.2) in equality checks on weights. */
export const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

/** Reports each value that appeared before in `values`, at `fieldOf(index)`; skips undefined holes. */
export function reportDuplicates(
  values: readonly (string | undefined)[],
  fieldOf: (index: number) => string,
  what: string,
  report: Report,
): void {
  const firstAt = new Map<string, number>();
  values.forEach((value, index) => {
    if (value === undefined) return;
    const first = firstAt.get(value);
    if (first === undefined) firstAt.set(value, index);
    else report(fieldOf(index), `duplicate ${what} "${value}" (first at ${fieldOf(first)})`);
  });
}

/** Reports unknown keys of a region-keyed record and, when `required`, regions without a key. */
export function checkRegionKeys(
  record: Readonly<Record<string, unknown>>,
  field: string,
  known: KnownRegions,
  report: Report,
  required: string | undefined,
): void {
  for (const id of Object.keys(record)) {
    if (!known.ids.has(id)) report(`${field}.${id}`, unknownRegion(id));
  }
  if (required === undefined) return;
  for (const id of known.list) {
    if (!(id in record)) report(field, `region "${id}" has no ${required}`);
  }
}
