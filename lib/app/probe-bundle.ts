/**
 * The target's side of a peer's bundled probe round (lib/core/health/probe-bundle.ts): which paths
 * were asked, and each one answered by its own route, side by side, until the answer must leave.
 */
import { ValidationError } from '../core/errors.ts';
import {
  BUNDLE_RETURN_MARGIN_MS,
  BUNDLE_TIMEOUT_RANGE_MS,
  BUNDLED_PATHS,
  type BundleAnswer,
  type BundlePart,
} from '../core/health/probe-bundle.ts';

/** What a route answered: its status and, as JSON text, its body. */
export interface RouteAnswer {
  readonly status: number;
  readonly body?: string;
}

/** `paths` (comma-separated bundled paths) and `timeout_ms`, strictly: anything else is a 400 naming it. */
export function bundleQuery(query: Readonly<Record<string, string | undefined>>): {
  paths: string[];
  timeoutMs: number;
} {
  const issues: { field: string; reason: string }[] = [];
  for (const name of Object.keys(query)) {
    if (name !== 'paths' && name !== 'timeout_ms') issues.push({ field: name, reason: 'unknown parameter' });
  }
  const paths = (query.paths ?? '').split(',').filter((p) => p !== '');
  if (paths.length === 0)
    issues.push({ field: 'paths', reason: `required: some of ${BUNDLED_PATHS.join(', ')}` });
  for (const path of paths) {
    if (!BUNDLED_PATHS.includes(path))
      issues.push({
        field: 'paths',
        reason: `"${path.slice(0, 100)}" is not one of ${BUNDLED_PATHS.join(', ')}`,
      });
  }
  if (new Set(paths).size !== paths.length) issues.push({ field: 'paths', reason: 'names a path twice' });
  const raw = query.timeout_ms;
  const timeoutMs = Number(raw);
  const { min, max } = BUNDLE_TIMEOUT_RANGE_MS;
  if (raw === undefined || !/^\d{1,6}$/.test(raw) || timeoutMs < min || timeoutMs > max) {
    issues.push({ field: 'timeout_ms', reason: `must be whole milliseconds from ${min} to ${max}` });
  }
  if (issues.length > 0) throw new ValidationError('invalid query', issues);
  return { paths, timeoutMs };
}

/**
 * Every asked path answered by `serve` (its own route, its errors already mapped to their status),
 * side by side; a part not done `BUNDLE_RETURN_MARGIN_MS` before the caller's timeout is answered
 * without a status, so the answer still travels back in time and the other parts keep theirs.
 * `monotonic` reads elapsed milliseconds (never a wall clock: durations must not jump).
 */
export async function answerBundle(options: {
  readonly paths: readonly string[];
  readonly timeoutMs: number;
  readonly serve: (path: string) => Promise<RouteAnswer>;
  readonly monotonic: () => number;
}): Promise<BundleAnswer> {
  const { paths, timeoutMs, serve, monotonic } = options;
  const deadlineMs = Math.max(timeoutMs / 2, timeoutMs - BUNDLE_RETURN_MARGIN_MS);
  const started = monotonic();
  const elapsed = (since: number) => Math.round((monotonic() - since) * 10) / 10;
  const part = async (path: string): Promise<BundlePart> => {
    const begun = monotonic();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), deadlineMs);
    });
    const result = await Promise.race([serve(path), late]);
    clearTimeout(timer);
    const ms = elapsed(begun);
    if (result === undefined) return { path, ms };
    const { status } = result;
    // The probe reads the target's status from the status document: it travels with its part.
    const withBody = path === '/coordination/status' && status >= 200 && status < 300;
    return withBody ? { path, status, ms, body: JSON.parse(result.body ?? 'null') } : { path, status, ms };
  };
  const parts = await Promise.all(paths.map(part));
  return { parts, ms: elapsed(started) };
}
