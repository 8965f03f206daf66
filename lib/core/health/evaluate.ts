/**
 * One observer's verdict on one target, round after round (DESIGN principle 5): asymmetric
 * hysteresis (failure_threshold / success_threshold), SLO triggers over a sliding window (error rate,
 * p99 latency) and the target's reported capacity, and the spec's decision tree (an isolated
 * component is restarted, a regional failure is failed over). Pure: time comes in on the observations.
 */
import { isServing } from '../state/records.ts';
import type { Topology } from '../topology/types.ts';
import type {
  EndpointHealth,
  HealthSignal,
  ProbeObservation,
  TargetHealth,
  Verdict,
  WindowSample,
} from './types.ts';

/** The endpoint Route 53 and our own probes treat as the region's answer: its failure is regional. */
export const HEALTH_ENDPOINT = '/health';

/** Samples kept per (observer, target): about ten rounds of three endpoints. */
export const DEFAULT_WINDOW_SIZE = 30;
/** Below this many samples error rate and p99 say too little to vote a region out. */
export const DEFAULT_MIN_SAMPLES_FOR_SLO = 10;

export interface HealthPolicy {
  readonly interval_seconds: number;
  readonly timeout_seconds: number;
  /** Failed `/health` rounds in a row before the verdict is unhealthy (and other endpoints' rounds before component_failure). */
  readonly failure_threshold: number;
  /** Clean rounds in a row before a target that failed is healthy again. */
  readonly success_threshold: number;
  readonly endpoints: readonly string[];
  /** Failed calls / calls over the window above this is unhealthy (0..1). */
  readonly error_rate_threshold: number;
  readonly latency_p99_threshold_ms: number;
  /** Reported available capacity below this is unhealthy (0..1). */
  readonly available_capacity_threshold: number;
  /** Samples kept in the window (newest last). */
  readonly window_size: number;
  /** Error rate and p99 count only once the window holds this many samples. */
  readonly min_samples_for_slo: number;
}

/** The two counts of asymmetric hysteresis: how many rounds in a row flip a verdict each way. */
export type Hysteresis = Pick<HealthPolicy, 'failure_threshold' | 'success_threshold'>;

/**
 * A verdict after one more round: up stays up until `failure_threshold` failed rounds in a row, down
 * comes back only after `success_threshold` good rounds in a row.
 */
export function upAfterRound(
  wasUp: boolean,
  failuresInRow: number,
  successesInRow: number,
  policy: Hysteresis,
): boolean {
  return wasUp ? failuresInRow < policy.failure_threshold : successesInRow >= policy.success_threshold;
}

/**
 * The health policy from the topology's `failover_policies`. The spec states the failure count twice
 * (`health_check.failure_threshold` and `automatic_failover.conditions.health_check_failures`); the
 * larger one rules, so neither is undercut.
 */
export function healthPolicyOf(
  topology: Topology,
  options: { readonly window_size?: number; readonly min_samples_for_slo?: number } = {},
): HealthPolicy {
  // A frozen topology (validated) never changes: its default policy is made once, frozen, and
  // shared (every probe round, quorum assessment and probe answer asks for it).
  const shared = options.window_size === undefined && options.min_samples_for_slo === undefined;
  if (!shared) return makeHealthPolicy(topology, options);
  // Only a frozen topology is ever kept, and it stays frozen: a kept one needs no second look.
  let policy = defaultPolicies.get(topology);
  if (!policy && Object.isFrozen(topology)) {
    policy = Object.freeze(makeHealthPolicy(topology, options));
    defaultPolicies.set(topology, policy);
  }
  return policy ?? makeHealthPolicy(topology, options);
}

const defaultPolicies = new WeakMap<Topology, HealthPolicy>();

function makeHealthPolicy(
  topology: Topology,
  options: { readonly window_size?: number; readonly min_samples_for_slo?: number },
): HealthPolicy {
  const { health_check, automatic_failover } = topology.failover_policies;
  const { conditions } = automatic_failover;
  return {
    interval_seconds: health_check.interval_seconds,
    timeout_seconds: health_check.timeout_seconds,
    failure_threshold: Math.max(health_check.failure_threshold, conditions.health_check_failures),
    success_threshold: health_check.success_threshold,
    endpoints: [...health_check.endpoints],
    error_rate_threshold: conditions.error_rate_threshold,
    latency_p99_threshold_ms: conditions.latency_p99_threshold_ms,
    available_capacity_threshold: conditions.available_capacity_threshold,
    window_size: options.window_size ?? DEFAULT_WINDOW_SIZE,
    min_samples_for_slo: options.min_samples_for_slo ?? DEFAULT_MIN_SAMPLES_FOR_SLO,
  };
}

/**
 * Folds one round (one observation per endpoint of ONE target by ONE observer) into the observer's
 * view of that target.
 *
 * - A round fails (the regional signal) when its `/health` call failed: timeout, refused, non-2xx.
 *   A 503 that the target's own reported status explains (it says it is fenced, draining or failed)
 *   is an answer, not a failure: the target is not serving by its status, and voting it out for that
 *   would feed one region's status into another's verdict (the cascade DESIGN principle 3 forbids).
 *   A round without a `/health` call fails only when every call failed.
 * - reachable (transport level, the only thing quorum counts): false after failure_threshold rounds
 *   in a row with no answer at all, true again after success_threshold rounds in a row with one.
 * - unhealthy: unreachable, or failure_threshold failed rounds in a row; or, with
 *   min_samples_for_slo samples, error rate (in a round that fails a call) or p99 above its
 *   threshold. An error-rate or p99 breach that `/health`'s own samples do not share while `/health`
 *   answers is an isolated component (the spec's decision tree): no failover vote.
 * - saturated: reported capacity below its threshold. Load, not failure (DESIGN principle 5): it is
 *   reported beside the verdict and never makes a target unhealthy.
 * - success_threshold clean rounds in a row drop the failed calls from the window.
 * - component_failure: `/health` answers but another endpoint failed failure_threshold rounds in a row.
 * - healthy: never failed, or success_threshold clean rounds in a row; otherwise suspect (a target
 *   recovering from unhealthy passes through suspect too).
 * - in a row means rounds in a row: a previous view older than viewFreshForMs is not continued
 *   (continuedView).
 */
export function applyRound(
  last: TargetHealth | undefined,
  observed: readonly ProbeObservation[],
  policy: HealthPolicy,
): TargetHealth {
  const first = checkedRound(last, observed);
  const prev = continuedView(last, observed, policy);
  const read = readRound(prev, observed);
  const { round } = read;
  const counts = countRound(prev, round, policy);
  const endpoints = foldEndpoints(prev, round);
  // success_threshold clean rounds end an episode: its failed calls leave the window, so an outage
  // already judged by the counts does not hold a recovered target out, nor make its next blip fatal.
  const endsEpisode = counts.allOk && counts.consecutive_successes === policy.success_threshold;
  const window = newestSamples(
    prev?.window ?? [],
    samplesOf(round),
    Math.max(1, policy.window_size),
    endsEpisode,
  );
  const state: RoundState = {
    ...counts,
    round,
    endpoints,
    window,
    error_rate: errorRate(window),
    p99_ms: p99(window),
  };

  const available_capacity =
    lastDefined(read.newest, (o) => o.available_capacity) ?? prev?.available_capacity;
  const reportedPeers = lastDefined(read.newest, (o) => o.reported_peers);
  const reportsObserver = reportedPeers?.find((p) => p.region === first.observer) ?? prev?.reports_observer;
  const reported_heartbeat = highestHeartbeat(prev?.reported_heartbeat, round);

  const breaches = judgeBreaches(state, policy);
  const saturated =
    available_capacity !== undefined && available_capacity < policy.available_capacity_threshold;
  if (saturated) breaches.signals.push('saturated');
  const notes = notesOf(state, policy, saturated ? available_capacity : undefined, read);
  const decided = decideVerdict(prev, state, breaches, policy);

  let updated_at = Number.NEGATIVE_INFINITY;
  for (const o of round) if (o.at > updated_at) updated_at = o.at;
  // Built field by field in one fixed order (conditional spreads cost a copy each, every round of
  // every observer): optional fields only when defined, as the stored view has them.
  const view: { -readonly [K in keyof TargetHealth]?: TargetHealth[K] } = {
    observer: first.observer,
    target: first.target,
    consecutive_failures: state.consecutive_failures,
    consecutive_successes: state.consecutive_successes,
    endpoints,
    window,
    error_rate: state.error_rate,
    p99_ms: state.p99_ms,
  };
  if (available_capacity !== undefined) view.available_capacity = available_capacity;
  if (read.reported_status !== undefined) view.reported_status = read.reported_status;
  if (reported_heartbeat !== undefined) view.reported_heartbeat = reported_heartbeat;
  view.verdict = decided.verdict;
  view.reasons = [...decided.reasons, ...notes];
  view.reachable = state.reachable;
  view.consecutive_unanswered = state.consecutive_unanswered;
  view.consecutive_answered = state.consecutive_answered;
  view.saturated = saturated;
  view.signals = breaches.signals;
  if (reportsObserver !== undefined) view.reports_observer = reportsObserver;
  view.rounds = (prev?.rounds ?? 0) + 1;
  view.updated_at = updated_at;
  return view as TargetHealth;
}

/** The round's hysteresis counts: answers (reachability) and failures (the verdict), each in a row. */
interface RoundCounts {
  readonly reachable: boolean;
  readonly consecutive_unanswered: number;
  readonly consecutive_answered: number;
  /** The regional signal: `/health` failed (or, without a `/health` call, every call did). */
  readonly healthFailed: boolean;
  readonly allOk: boolean;
  readonly consecutive_failures: number;
  readonly consecutive_successes: number;
}

/** What the round establishes before any judgement: its counts, the endpoints and the window. */
interface RoundState extends RoundCounts {
  /** The round's calls, a 503 the target's own status explains counted as an answer. */
  readonly round: readonly ProbeObservation[];
  readonly endpoints: Record<string, EndpointHealth>;
  readonly window: WindowSample[];
  readonly error_rate: number;
  readonly p99_ms: number;
}

/** The reasons to vote the target out, their signals, and breaches that are an isolated component's. */
interface Breaches {
  readonly unhealthy: string[];
  readonly signals: HealthSignal[];
  readonly componentSymptoms: string[];
}

/**
 * How long a view speaks for the present: three rounds. An older one is stale: the quorum counts
 * nothing of it (quorum.ts) and the next round does not continue its runs (continuedView).
 */
export function viewFreshForMs(policy: Pick<HealthPolicy, 'interval_seconds'>): number {
  return 3 * policy.interval_seconds * 1000;
}

/**
 * The previous view as this round continues it. Counts in a row are rounds in a row, so a view older
 * than viewFreshForMs (its observer was down, or a witness could read back only an old copy across a
 * partition) restarts them: the failure counts from zero, and reachability unknown, which is down
 * until success_threshold answered rounds prove a path (a serving observer counts a member that
 * answered its latest round anyway). Continued across the gap, a target that failed before it and
 * recovered meanwhile was unhealthy again at the first round without an answer, and a peer lost
 * meanwhile still counted as reached for two rounds: a region back from an outage inside a
 * partition, on its side with the witness (whose copy was as old), held a quorum of that and failed
 * over a region the majority had already failed over, under the same failover id with another target
 * (simulator seed 907017). The verdict, what the target reported and the round count carry over.
 */
function continuedView(
  prev: TargetHealth | undefined,
  observed: readonly ProbeObservation[],
  policy: HealthPolicy,
): TargetHealth | undefined {
  if (!prev) return undefined;
  let first = Number.POSITIVE_INFINITY;
  for (const o of observed) if (o.at < first) first = o.at;
  if (first - prev.updated_at <= viewFreshForMs(policy)) return prev;
  return {
    ...prev,
    consecutive_failures: 0,
    consecutive_successes: 0,
    consecutive_unanswered: 0,
    consecutive_answered: 0,
    reachable: false,
    endpoints: {},
    window: [],
  };
}

/** The round's first observation, once the round and `prev` are known to be one observer's view of one target. */
function checkedRound(
  prev: TargetHealth | undefined,
  observed: readonly ProbeObservation[],
): ProbeObservation {
  const first = observed[0];
  if (!first) throw new RangeError('applyRound: a round holds at least one observation');
  for (const o of observed) {
    if (o.observer !== first.observer || o.target !== first.target) {
      throw new RangeError(
        `applyRound: one round is one observer's view of one target; got ${first.observer}->${first.target} and ${o.observer}->${o.target}`,
      );
    }
  }
  if (prev && (prev.observer !== first.observer || prev.target !== first.target)) {
    throw new RangeError(
      `applyRound: previous view is ${prev.observer}->${prev.target}, round is ${first.observer}->${first.target}`,
    );
  }
  return first;
}

/** The round in time order, the target's own reported status, and the round as judged against that status. */
function readRound(prev: TargetHealth | undefined, observed: readonly ProbeObservation[]) {
  // A round's observations usually arrive in time order already (a stable sort keeps them as they are).
  const newest = inTimeOrder(observed) ? observed : [...observed].sort((a, b) => a.at - b.at);
  const reported_status = lastDefined(newest, (o) => o.reported_status) ?? prev?.reported_status;
  // The target says it does not serve: its /health 503 is that statement, not a failure.
  const notServingByOwnStatus = reported_status !== undefined && !isServing(reported_status);
  const explained = (o: ProbeObservation) =>
    notServingByOwnStatus && o.endpoint === HEALTH_ENDPOINT && o.status === 503;
  const round = notServingByOwnStatus
    ? observed.map((o) => (explained(o) ? { ...o, ok: true } : o))
    : observed;
  return { newest, reported_status, round, explainsA503: observed.some(explained) };
}

/** Reachability and failure counts after this round, each continuing `prev`'s run or starting over. */
function countRound(
  prev: TargetHealth | undefined,
  round: readonly ProbeObservation[],
  policy: HealthPolicy,
): RoundCounts {
  const answeredRound = round.some((o) => o.status !== undefined);
  const consecutive_unanswered = answeredRound ? 0 : (prev?.consecutive_unanswered ?? 0) + 1;
  const consecutive_answered = answeredRound ? (prev?.consecutive_answered ?? 0) + 1 : 0;
  const wasReachable = prev === undefined ? true : reachableOf(prev);
  const reachable = upAfterRound(wasReachable, consecutive_unanswered, consecutive_answered, policy);

  const healthCalls = round.filter((o) => o.endpoint === HEALTH_ENDPOINT);
  const healthFailed = healthCalls.length > 0 ? healthCalls.some((o) => !o.ok) : round.every((o) => !o.ok);
  const allOk = round.every((o) => o.ok);
  return {
    reachable,
    consecutive_unanswered,
    consecutive_answered,
    healthFailed,
    allOk,
    consecutive_failures: healthFailed ? (prev?.consecutive_failures ?? 0) + 1 : 0,
    consecutive_successes: allOk ? (prev?.consecutive_successes ?? 0) + 1 : 0,
  };
}

/** Each endpoint's state after the round: a failed call extends its run of failures, a clean one ends it. */
function foldEndpoints(
  prev: TargetHealth | undefined,
  round: readonly ProbeObservation[],
): Record<string, EndpointHealth> {
  const endpoints: Record<string, EndpointHealth> = { ...prev?.endpoints };
  groupByEndpoint(round).forEach((calls, endpoint) => {
    const failedCall = calls.find((o) => !o.ok);
    endpoints[endpoint] = failedCall
      ? {
          consecutive_failures: (prev?.endpoints[endpoint]?.consecutive_failures ?? 0) + 1,
          last_ok: false,
          last_error: describeError(failedCall),
        }
      : { consecutive_failures: 0, last_ok: true };
  });
  return endpoints;
}

/** The round's calls as window samples. */
function samplesOf(round: readonly ProbeObservation[]): WindowSample[] {
  return round.map(
    (o): WindowSample => ({
      at: o.at,
      ok: o.ok,
      latency_ms: o.latency_ms,
      endpoint: o.endpoint,
      answered: o.status !== undefined,
    }),
  );
}

/** Failure counts and SLO breaches that vote the target out, apart from those `/health` does not share. */
function judgeBreaches(state: RoundState, policy: HealthPolicy): Breaches {
  const breaches: Breaches = { unhealthy: [], signals: [], componentSymptoms: [] };
  const { unhealthy, signals } = breaches;
  const threshold = policy.failure_threshold;
  if (state.consecutive_failures >= threshold) {
    signals.push(state.reachable ? 'health_check' : 'unreachable');
    unhealthy.push(
      `${HEALTH_ENDPOINT} failed ${rounds(state.consecutive_failures)} in a row (${state.endpoints[HEALTH_ENDPOINT]?.last_error ?? 'no answer'})`,
    );
  }
  if (!state.reachable && state.consecutive_unanswered >= threshold) {
    if (!signals.includes('unreachable')) signals.push('unreachable');
    unhealthy.push(`unreachable: no answer of any kind for ${rounds(state.consecutive_unanswered)} in a row`);
  }
  if (state.window.length >= policy.min_samples_for_slo) judgeSlo(state, policy, breaches);
  return breaches;
}

/** Error rate and p99 over a window big enough to say something, each judged only in a round that shows it. */
function judgeSlo(state: RoundState, policy: HealthPolicy, breaches: Breaches): void {
  const { window, round } = state;
  // Samples without an endpoint (none written by this code) count as /health's: the safe side.
  // Filtered only when a breach asks (most rounds breach nothing).
  let healthWindow: WindowSample[] | undefined;
  const sharedByHealth = (breached: (samples: readonly WindowSample[]) => boolean) => {
    if (state.healthFailed) return true;
    healthWindow ??= window.filter((s) => s.endpoint === undefined || s.endpoint === HEALTH_ENDPOINT);
    return healthWindow.length === 0 || breached(healthWindow);
  };
  const record = (shared: boolean, signal: HealthSignal, reason: string) => {
    if (shared) {
      breaches.signals.push(signal);
      breaches.unhealthy.push(reason);
    } else {
      breaches.componentSymptoms.push(
        `${reason}, not on ${HEALTH_ENDPOINT}: isolated component, no failover`,
      );
    }
  };
  // Judged in rounds that fail a call: a clean round says the errors are not happening now, and
  // a recovering target's way back is success_threshold's to decide.
  if (!state.allOk && state.error_rate > policy.error_rate_threshold) {
    const answered = window.filter(isAnswered);
    const failedCalls = answered.filter((s) => !s.ok).length;
    const reason = `error rate ${percent(state.error_rate)} above ${percent(policy.error_rate_threshold)} (${failedCalls} of ${answered.length} answered calls failed)`;
    record(
      sharedByHealth((samples) => errorRate(samples) > policy.error_rate_threshold),
      'error_rate',
      reason,
    );
  }
  // Judged in rounds that are slow themselves: a window still holding an episode's slow answers
  // says nothing of a target that answers fast again (found by the simulator: a failover started
  // minutes after a slow region had recovered).
  const slowNow = round.some((o) => o.ok && o.latency_ms > policy.latency_p99_threshold_ms);
  if (slowNow && state.p99_ms > policy.latency_p99_threshold_ms) {
    const reason = `p99 ${Math.round(state.p99_ms)} ms above ${policy.latency_p99_threshold_ms} ms`;
    record(
      sharedByHealth((samples) => p99(samples) > policy.latency_p99_threshold_ms),
      'latency',
      reason,
    );
  }
}

/** What the verdict does not say but an operator should read: load, a path coming back, a 503 the target explains. */
function notesOf(
  state: RoundState,
  policy: HealthPolicy,
  saturatedCapacity: number | undefined,
  read: { readonly reported_status?: string | undefined; readonly explainsA503: boolean },
): string[] {
  const notes: string[] = [];
  if (saturatedCapacity !== undefined) {
    notes.push(
      `saturated: available capacity ${percent(saturatedCapacity)} below ${percent(policy.available_capacity_threshold)} (load, not failure: no new work, no failover)`,
    );
  }
  if (!state.reachable && state.consecutive_answered > 0) {
    notes.push(
      `answering again: reachable after ${policy.success_threshold} rounds with an answer (${state.consecutive_answered} so far)`,
    );
  }
  if (read.explainsA503) {
    notes.push(`not serving by its own status (${read.reported_status}): /health answers 503`);
  }
  return notes;
}

/** The spec's decision tree: unhealthy, an isolated component, healthy (kept or recovered), else suspect. */
function decideVerdict(
  prev: TargetHealth | undefined,
  state: RoundState,
  breaches: Breaches,
  policy: HealthPolicy,
): { verdict: Verdict; reasons: string[] } {
  const { componentSymptoms } = breaches;
  if (breaches.unhealthy.length > 0) return { verdict: 'unhealthy', reasons: breaches.unhealthy };
  const failingComponents = failingComponentsOf(state.endpoints, policy.failure_threshold);
  if (!state.healthFailed && failingComponents.length > 0) {
    return {
      verdict: 'component_failure',
      reasons: [
        ...failingComponents.map(
          ([endpoint, health]) =>
            `${endpoint} failed ${rounds(health.consecutive_failures)} in a row (${health.last_error ?? 'no answer'}) while ${HEALTH_ENDPOINT} answers: isolated component, restart, no failover`,
        ),
        ...componentSymptoms,
      ],
    };
  }
  if (state.allOk && componentSymptoms.length === 0 && (!prev || prev.verdict === 'healthy')) {
    return { verdict: 'healthy', reasons: ['every endpoint answered'] };
  }
  if (
    state.allOk &&
    componentSymptoms.length === 0 &&
    state.consecutive_successes >= policy.success_threshold
  ) {
    return {
      verdict: 'healthy',
      reasons: [`recovered: ${rounds(state.consecutive_successes)} in a row with every endpoint answering`],
    };
  }
  return { verdict: 'suspect', reasons: suspectReasons(state, componentSymptoms, policy) };
}

/** Endpoints other than `/health` that failed `threshold` rounds in a row: components to restart. */
function failingComponentsOf(
  endpoints: Record<string, EndpointHealth>,
  threshold: number,
): [string, EndpointHealth][] {
  const failing: [string, EndpointHealth][] = [];
  for (const endpoint in endpoints) {
    const health = endpoints[endpoint] as EndpointHealth;
    if (endpoint !== HEALTH_ENDPOINT && health.consecutive_failures >= threshold) {
      failing.push([endpoint, health]);
    }
  }
  return failing;
}

/** Why a target is suspect: what has failed so far and, when it answers again, how far it has recovered. */
function suspectReasons(
  state: RoundState,
  componentSymptoms: readonly string[],
  policy: HealthPolicy,
): string[] {
  const reasons = [...componentSymptoms];
  if (state.healthFailed) {
    reasons.unshift(
      `${HEALTH_ENDPOINT} failed ${rounds(state.consecutive_failures)} in a row (${state.endpoints[HEALTH_ENDPOINT]?.last_error ?? 'no answer'}); unhealthy at ${policy.failure_threshold}`,
    );
  }
  for (const [endpoint, health] of Object.entries(state.endpoints)) {
    if (endpoint === HEALTH_ENDPOINT || health.consecutive_failures === 0) continue;
    reasons.push(
      `${endpoint} failed ${rounds(health.consecutive_failures)} in a row (${health.last_error ?? 'no answer'})`,
    );
  }
  if (state.allOk) {
    reasons.push(`recovering: ${state.consecutive_successes} of ${policy.success_threshold} clean rounds`);
  }
  return reasons;
}

function inTimeOrder(observed: readonly ProbeObservation[]): boolean {
  for (let i = 1; i < observed.length; i++) {
    if ((observed[i] as ProbeObservation).at < (observed[i - 1] as ProbeObservation).at) return false;
  }
  return true;
}

/** The last `size` samples of the previous window followed by the round's (only the ok ones when the round ends an episode). */
function newestSamples(
  previous: readonly WindowSample[],
  round: readonly WindowSample[],
  size: number,
  okOnly: boolean,
): WindowSample[] {
  // Spread first: a stored window is a frozen array, and V8's slice and filter walk frozen arrays
  // on a slow generic path (ten times slower); a spread copies it fast into a plain one.
  const all = [...previous, ...round];
  const kept = okOnly ? all.filter((s) => s.ok) : all;
  return kept.length > size ? kept.slice(-size) : kept;
}

const isAnswered = (s: WindowSample) => s.answered !== false;

/**
 * Whether `view`'s observer reaches its target at the transport level. A view written before the
 * field existed counts as reachable: it cannot fence anyone by itself, and the next round rewrites it.
 */
export function reachableOf(view: TargetHealth): boolean {
  return view.reachable ?? true;
}

/**
 * Failed answers / answers (0 when nothing answered): the error rate of a service that responds.
 * Calls with no answer at all are the failure threshold's business (see WindowSample.answered).
 */
export function errorRate(samples: readonly WindowSample[]): number {
  let answered = 0;
  let failed = 0;
  for (const sample of samples) {
    if (!isAnswered(sample)) continue;
    answered += 1;
    if (!sample.ok) failed += 1;
  }
  return answered === 0 ? 0 : failed / answered;
}

/**
 * p99 latency of the answered calls, interpolated between ranks (numpy's default). Failed calls are
 * counted by the error rate instead: a timeout's latency is the timeout, not the service's. With a
 * window of 30, interpolation keeps one slow answer from being the p99 by itself; two are.
 */
export function p99(samples: readonly WindowSample[]): number {
  const latencies: number[] = [];
  for (const sample of samples) if (sample.ok) latencies.push(sample.latency_ms);
  if (latencies.length === 0) return 0;
  const rank = 0.99 * (latencies.length - 1);
  const low = Math.floor(rank);
  // Only the values from rank `low` up count: a window's two largest, not the whole window sorted
  // (every round of every observer computes this).
  const [lower = 0, upper = lower] = largest(latencies, latencies.length - low);
  return lower + (upper - lower) * (rank - low);
}

/**
 * The `count` largest of `values`, ascending: an insertion into a list that never grows past `count`,
 * moving its items in place (a splice and a shift per value cost more than the whole p99).
 */
function largest(values: readonly number[], count: number): number[] {
  const top: number[] = [];
  if (count <= 0) return top;
  for (const value of values) {
    if (top.length === count) {
      if (value <= (top[0] as number)) continue;
      // The smallest goes; the items below the new one move down a place.
      let at = 0;
      while (at + 1 < count && (top[at + 1] as number) < value) {
        top[at] = top[at + 1] as number;
        at++;
      }
      top[at] = value;
    } else {
      let at = top.length;
      top.push(value);
      while (at > 0 && (top[at - 1] as number) > value) {
        top[at] = top[at - 1] as number;
        at--;
      }
      top[at] = value;
    }
  }
  return top;
}

function groupByEndpoint(round: readonly ProbeObservation[]): Map<string, ProbeObservation[]> {
  const groups = new Map<string, ProbeObservation[]>();
  for (const o of round) {
    const calls = groups.get(o.endpoint);
    if (calls) calls.push(o);
    else groups.set(o.endpoint, [o]);
  }
  return groups;
}

function describeError(o: ProbeObservation): string {
  return o.error ?? (o.status !== undefined ? `http ${o.status}` : 'no answer');
}

function lastDefined<T>(sorted: readonly ProbeObservation[], pick: (o: ProbeObservation) => T | undefined) {
  let found: T | undefined;
  for (const o of sorted) found = pick(o) ?? found;
  return found;
}

function highestHeartbeat(
  prev: TargetHealth['reported_heartbeat'],
  round: readonly ProbeObservation[],
): TargetHealth['reported_heartbeat'] {
  let best = prev;
  for (const o of round) {
    const heartbeat = o.reported_heartbeat;
    if (heartbeat && (!best || heartbeat.seq > best.seq)) best = { seq: heartbeat.seq, at: heartbeat.at };
  }
  return best;
}

function rounds(n: number): string {
  return n === 1 ? '1 round' : `${n} rounds`;
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 1000) / 10}%`;
}
