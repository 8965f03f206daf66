/**
 * The target's side of a peer's bundled probe round (lib/core/health/probe-bundle.ts): which paths
 * were asked, and each one answered by its own route, side by side, until the answer must leave.
 */
import { BUNDLE_RETURN_MARGIN_MS, type BundleAnswer, type BundlePart } from '../core/health/probe-bundle.ts';

/** What a route answered: its status and, as JSON text, its body. */
export interface RouteAnswer {
  readonly status: number;
  readonly body?: string;
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
