/**
 * One request per peer and round instead of one per probed path. A region's health concern answers
 * `/health`, `/api/v1/ping` and `/coordination/status` together on PROBE_BUNDLE_PATH: each part as
 * its own route answers it (status, body) with the time it took there, and the probe turns each part
 * back into the observation that path's own request would have made. The evaluation is unchanged:
 * one observation per endpoint, each with its own status, latency and reason. Route 53's checkers
 * keep requesting `/health` on its own (they cannot sign, and read one status code).
 */
import type { ProbeObservation } from './types.ts';

/** The route that answers the bundled paths together (IAM-signed, as `/coordination/status`). */
export const PROBE_BUNDLE_PATH = '/coordination/probe';

/** The paths the bundle answers: the health concern's own routes. */
export const BUNDLED_PATHS: readonly string[] = ['/health', '/api/v1/ping', '/coordination/status'];

/**
 * Time a bundle keeps for its answer's way back: a part still running this long before the caller's
 * timeout is that part's timeout, so one hung part cannot turn the others into timeouts too.
 */
export const BUNDLE_RETURN_MARGIN_MS = 1_000;

/** A bundle's timeout_ms: what the caller waits, within what the health function may run. */
export const BUNDLE_TIMEOUT_RANGE_MS = { min: 100, max: 30_000 } as const;

/** One path's answer inside a bundle. */
export interface BundlePart {
  readonly path: string;
  /** The status its own route answers; absent: it had not answered by the bundle's deadline. */
  readonly status?: number;
  /** Milliseconds it took at the target (up to the deadline when it had not answered). */
  readonly ms: number;
  /** Its own route's body, for `/coordination/status` (the probe reads the target's status from it). */
  readonly body?: unknown;
}

/** The bundle's answer: its parts, in the order asked, and the time the target spent on all of them. */
export interface BundleAnswer {
  readonly parts: readonly BundlePart[];
  readonly ms: number;
}

/**
 * Which of a round's endpoints go in one bundle and which are requested on their own: the bundle
 * carries the paths it answers when there are at least two of them (one alone is its own request).
 */
export function splitForBundle(endpoints: readonly string[]): {
  readonly bundled: readonly string[];
  readonly separate: readonly string[];
} {
  const unique = [...new Set(endpoints)];
  const bundled = unique.filter((e) => BUNDLED_PATHS.includes(e));
  if (bundled.length < 2) return { bundled: [], separate: unique };
  return { bundled, separate: unique.filter((e) => !BUNDLED_PATHS.includes(e)) };
}

/** The paths one probe round requests of each peer (what API Gateway answers and bills). */
export function probeRequestPaths(endpoints: readonly string[]): string[] {
  const { bundled, separate } = splitForBundle(endpoints);
  return bundled.length > 0 ? [PROBE_BUNDLE_PATH, ...separate] : [...separate];
}

/**
 * The latency a part's own request would have measured: the bundle's round trip less the target's
 * time on the whole bundle, plus this part's own time there (the parts run side by side).
 */
export function partLatencyMs(roundTripMs: number, bundleMs: number, partMs: number): number {
  const network = Math.max(0, roundTripMs - bundleMs);
  return Math.round((network + Math.max(0, partMs)) * 10) / 10;
}

/** What every call of a round ended with when one cause decided them all (refused, cut, timed out). */
export type RoundOutcome = Omit<ProbeObservation, 'observer' | 'target' | 'endpoint' | 'at'>;

/**
 * One observation per endpoint, each with the same outcome: a round that failed before any path was
 * answered on its own still reports every path, so each endpoint's hysteresis counts it.
 */
export function eachEndpoint(
  call: { readonly observer: string; readonly target: string; readonly at: number },
  endpoints: readonly string[],
  outcome: RoundOutcome,
): ProbeObservation[] {
  return endpoints.map((endpoint) => ({
    observer: call.observer,
    target: call.target,
    endpoint,
    at: call.at,
    ...outcome,
  }));
}
