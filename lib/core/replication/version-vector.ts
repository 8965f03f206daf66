/**
 * Version vectors (region -> counter) for active-active data (spec: Deployment Patterns,
 * `data_consistency.conflict_resolution: vector_clock`). A region increments its own entry on each
 * write it makes; a version that descends from another has seen it, two versions where neither
 * descends from the other were written concurrently and both are kept (siblings) until a write that
 * descends from both (a merge) resolves them. DynamoDB global tables keep only the last writer, so
 * this is what makes such a conflict visible instead of silently lost.
 *
 * Missing entries count as 0, so `{}` and `{ "us-east-1": 0 }` are the same vector.
 */
import { REGION_ID_PATTERN } from '../topology/types.ts';

export type VersionVector = Readonly<Record<string, number>>;

/** How `a` relates to `b`: `before` means `b` has seen everything `a` has (and more). */
type VectorOrdering = 'equal' | 'before' | 'after' | 'concurrent';

export function compareVectors(a: VersionVector, b: VersionVector): VectorOrdering {
  let less = false;
  let greater = false;
  for (const region of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[region] ?? 0;
    const y = b[region] ?? 0;
    if (x < y) less = true;
    else if (x > y) greater = true;
    if (less && greater) return 'concurrent';
  }
  if (less) return 'before';
  if (greater) return 'after';
  return 'equal';
}

/** `a` has seen everything `b` has (equal or after). */
export function descends(a: VersionVector, b: VersionVector): boolean {
  const order = compareVectors(a, b);
  return order === 'equal' || order === 'after';
}

/** The entry-wise maximum: a vector that has seen everything either has. */
export function mergeVectors(...vectors: readonly VersionVector[]): VersionVector {
  const out: Record<string, number> = {};
  for (const vector of vectors) {
    for (const [region, counter] of Object.entries(vector)) {
      if (counter > (out[region] ?? 0)) out[region] = counter;
    }
  }
  return sortedVector(out);
}

/**
 * One write's identity: the region that made it and that region's counter for it. A version is its
 * dot plus the context its writer had seen (dotted version vectors): a stale write by a region whose
 * counter is already ahead still cannot claim to have seen that region's writes it did not see, which
 * a plain vector (context with the region's entry bumped) would wrongly claim.
 */
export interface Dot {
  readonly region: string;
  readonly counter: number;
}

interface DottedVersion {
  readonly dot: Dot;
  /** What the writer had seen when it wrote. */
  readonly context: VersionVector;
}

/** The version's clock as a plain vector: its context with its own dot (what a reader has then seen). */
export function clockOf(version: DottedVersion): VersionVector {
  return mergeVectors(version.context, { [version.dot.region]: version.dot.counter });
}

/** A reader (or writer) whose context is `context` has seen `version`. */
export function hasSeen(context: VersionVector, version: DottedVersion): boolean {
  return (context[version.dot.region] ?? 0) >= version.dot.counter;
}

/**
 * The versions no other version has seen (the siblings), in input order, each write once. One result
 * means no conflict.
 */
export function siblingsOf<T extends DottedVersion>(versions: readonly T[]): T[] {
  const out: T[] = [];
  const dots = new Set<string>();
  for (const candidate of versions) {
    const dot = `${candidate.dot.region}:${candidate.dot.counter}`;
    if (dots.has(dot)) continue;
    if (
      versions.some(
        (other) => other !== candidate && !sameDot(other, candidate) && hasSeen(other.context, candidate),
      )
    ) {
      continue;
    }
    dots.add(dot);
    out.push(candidate);
  }
  return out;
}

function sameDot(a: DottedVersion, b: DottedVersion): boolean {
  return a.dot.region === b.dot.region && a.dot.counter === b.dot.counter;
}

/** A stable text form (`ap-south-1:2,us-east-1:3`, zero entries dropped): equal vectors, equal keys. */
export function vectorKey(vector: VersionVector): string {
  return Object.entries(sortedVector(vector))
    .map(([region, counter]) => `${region}:${counter}`)
    .join(',');
}

/** Positive integer counters only, regions in order (zero entries dropped). */
export function sortedVector(vector: Readonly<Record<string, number>>): VersionVector {
  const out: Record<string, number> = {};
  for (const region of Object.keys(vector).sort()) {
    const counter = vector[region] ?? 0;
    if (counter > 0) out[region] = counter;
  }
  return out;
}

/** Why `value` is not a version vector (an object of region -> integer >= 0), or undefined when it is. */
export function vectorProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return 'must be an object of region id -> counter';
  }
  for (const [region, counter] of Object.entries(value)) {
    if (!REGION_ID_PATTERN.test(region)) return `"${region}" is not a region id`;
    if (typeof counter !== 'number' || !Number.isSafeInteger(counter) || counter < 0) {
      return `counter of ${region} must be an integer >= 0`;
    }
  }
  return undefined;
}
