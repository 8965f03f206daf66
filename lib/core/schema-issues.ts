/**
 * zod issues -> `{ field, reason }` with plain-language reasons. zod/mini ships no messages of its
 * own ("Invalid input"), so the reasons are written here; pass `zodReason` as the parse's error map.
 */
import type { FieldIssue } from './errors.ts';

export interface ZodIssueLike {
  readonly code?: string;
  readonly path?: readonly PropertyKey[];
  readonly message: string;
  readonly input?: unknown;
  readonly expected?: string;
  readonly origin?: string;
  readonly minimum?: number | bigint;
  readonly maximum?: number | bigint;
  readonly inclusive?: boolean;
  readonly values?: readonly unknown[];
  readonly keys?: readonly string[];
  readonly format?: string;
  readonly errors?: readonly (readonly ZodIssueLike[])[];
  readonly issues?: readonly ZodIssueLike[];
}

function fieldPath(path: readonly PropertyKey[], root: string): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? root : out;
}

/** Field issues for a failed parse; `root` names the whole document (`(root)`, `(body)`). */
export function schemaIssues(issues: readonly ZodIssueLike[], root: string): FieldIssue[] {
  return structuralIssues(issues, [], root);
}

function structuralIssues(
  issues: readonly ZodIssueLike[],
  prefix: readonly PropertyKey[],
  root: string,
): FieldIssue[] {
  const out: FieldIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...(issue.path ?? [])];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys ?? [])
        out.push({ field: fieldPath([...path, key], root), reason: `unknown field "${key}"` });
    } else if (issue.code === 'invalid_union') {
      const chosen = closestAlternative(issue.errors ?? []);
      if (chosen) out.push(...structuralIssues(chosen, path, root));
      else out.push({ field: fieldPath(path, root), reason: issue.message });
    } else if (issue.code === 'invalid_key') {
      const inner = issue.issues?.[0]?.message ?? 'invalid key';
      out.push({ field: fieldPath(path, root), reason: `invalid key: ${inner}` });
    } else {
      out.push({ field: fieldPath(path, root), reason: issue.message });
    }
  }
  return out;
}

/**
 * The union alternative the author most likely meant: one whose issues lie inside the value (its
 * type matched), else the only one that did not fail on type alone.
 */
function closestAlternative(
  alternatives: readonly (readonly ZodIssueLike[])[],
): readonly ZodIssueLike[] | undefined {
  const nested = alternatives.find((issues) => issues.some((issue) => (issue.path?.length ?? 0) > 0));
  if (nested) return nested;
  const valueMismatches = alternatives.filter((issues) =>
    issues.some((issue) => issue.code !== 'invalid_type'),
  );
  return valueMismatches.length === 1 ? valueMismatches[0] : undefined;
}

const EXPECTED: Readonly<Record<string, string>> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  record: 'an object',
};

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `"${value.length > 60 ? `${value.slice(0, 60)}...` : value}"`;
  if (typeof value === 'number' && !Number.isInteger(value)) return `${value}`;
  return String(value);
}

function expectation(issue: ZodIssueLike): string {
  if (issue.code === 'invalid_type') return EXPECTED[issue.expected ?? ''] ?? issue.expected ?? 'a value';
  if (issue.code === 'invalid_value')
    return `one of ${(issue.values ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
  return 'a valid value';
}

/** The reason for each zod issue (schema-level messages take precedence over this). */
export function zodReason(issue: ZodIssueLike): string {
  const got = describeValue(issue.input);
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined
        ? `required field is missing (expected ${expectation(issue)})`
        : `expected ${expectation(issue)}, got ${got}`;
    case 'invalid_value':
      return issue.values?.length === 1
        ? `expected ${JSON.stringify(issue.values[0])}, got ${got}`
        : `expected ${expectation(issue)}, got ${got}`;
    case 'too_small':
      if (issue.origin === 'array') return `must have at least ${issue.minimum} item(s)`;
      if (issue.origin === 'string') return 'must not be empty';
      return issue.inclusive
        ? `must be at least ${issue.minimum}, got ${got}`
        : `must be greater than ${issue.minimum}, got ${got}`;
    case 'too_big':
      if (issue.origin === 'array') return `must have at most ${issue.maximum} item(s)`;
      return issue.inclusive
        ? `must be at most ${issue.maximum}, got ${got}`
        : `must be less than ${issue.maximum}, got ${got}`;
    case 'invalid_format':
      return `${got} is not in the expected format (${issue.format ?? 'pattern'})`;
    case 'invalid_union': {
      const options = (issue.errors ?? []).map((issues) => (issues[0] ? expectation(issues[0]) : 'a value'));
      return `expected ${options.join(' or ')}, got ${got}`;
    }
    default:
      return `invalid value ${got}`;
  }
}
