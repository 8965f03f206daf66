/**
 * Health observations and verdicts. Every region probes every region (and witnesses probe the
 * regions); each observer keeps one TargetHealth per target in its own replica, so after
 * replication every region can count the votes (DESIGN principle 3).
 */
import type { RegionStatus } from '../state/records.ts';

/** One call of one endpoint of one target by one observer. */
export interface ProbeObservation {
  readonly observer: string;
  readonly target: string;
  readonly endpoint: string;
  /** true: answered 2xx within the timeout. `/health` answering 503 is not ok. */
  readonly ok: boolean;
  /** HTTP status, absent when the call failed before an answer (refused, timeout, reset). */
  readonly status?: number;
  /** Why it failed: `timeout`, `refused`, `http 503`, ...; absent when ok. */
  readonly error?: string;
  readonly latency_ms: number;
  /** Epoch ms (simulated time locally). */
  readonly at: number;
  /** From `/coordination/status`: the target's own view of itself. */
  readonly reported_status?: RegionStatus;
  /** From `/coordination/status`: available fraction of the target's scarcest resource (0..1). */
  readonly available_capacity?: number;
  /** From `/coordination/status`: the target's own replication heartbeat (see lib/ports.ts Heartbeat). */
  readonly reported_heartbeat?: { readonly seq: number; readonly at: number };
  /** From `/coordination/status`: what the target's replica holds of the other regions' statuses. */
  readonly reported_peers?: readonly ReportedPeerStatus[];
}

/** One region's status as another region's replica holds it (its `/coordination/status` `peers`). */
export interface ReportedPeerStatus {
  readonly region: string;
  readonly status: RegionStatus;
  readonly epoch: number;
  /** Its role there (`primary` after a promotion); absent from a peer that does not report it. */
  readonly role?: string;
}

/**
 * What a verdict rests on, for operators and for the rules that act on it:
 * - `unreachable`: no answer of any kind for failure_threshold rounds (transport level);
 * - `health_check`: `/health` answered an error the region's own status does not explain;
 * - `error_rate`, `latency`: SLO breaches over the window;
 * - `saturated`: available capacity below the threshold. Load, not failure: never a failover vote.
 */
export type HealthSignal = 'unreachable' | 'health_check' | 'error_rate' | 'latency' | 'saturated';

/**
 * An observer's verdict on a target:
 * - `healthy`: success_threshold clean rounds in a row (or never failed);
 * - `suspect`: failing, but fewer than failure_threshold rounds, or recovering;
 * - `unhealthy`: failure_threshold failed rounds in a row, or an SLO condition breached (error rate,
 *   p99 latency, available capacity): this observer votes for failover;
 * - `component_failure`: `/health` answers but another endpoint has failed failure_threshold rounds:
 *   restart the component, no failover (the spec's decision tree).
 */
export type Verdict = 'healthy' | 'suspect' | 'unhealthy' | 'component_failure';

export interface EndpointHealth {
  readonly consecutive_failures: number;
  readonly last_ok: boolean;
  readonly last_error?: string;
}

/** One sample of the sliding window behind error rate and p99. */
export interface WindowSample {
  readonly at: number;
  readonly ok: boolean;
  readonly latency_ms: number;
  /** The endpoint called: lets the SLO checks tell a breach `/health` shares from an isolated component's. */
  readonly endpoint?: string;
  /**
   * The target answered (any HTTP status). Calls that got no answer (refused, timeout) are counted by
   * the consecutive-failure hysteresis, not by the error rate: a region flapping up and down faster
   * than the thresholds must not be failed over through its error rate.
   */
  readonly answered?: boolean;
}

/** What one observer knows of one target, kept across rounds. */
export interface TargetHealth {
  readonly observer: string;
  readonly target: string;
  /** Rounds whose `/health` call failed, in a row. */
  readonly consecutive_failures: number;
  /** Rounds whose every endpoint answered, in a row. */
  readonly consecutive_successes: number;
  readonly endpoints: Readonly<Record<string, EndpointHealth>>;
  /** Bounded window of every endpoint call (newest last). */
  readonly window: readonly WindowSample[];
  /** Failed calls / calls over the window (0..1). */
  readonly error_rate: number;
  /** p99 latency over the window, ms. */
  readonly p99_ms: number;
  readonly available_capacity?: number;
  readonly reported_status?: RegionStatus;
  /** The highest heartbeat the target reported on `/coordination/status` (highest seq kept). */
  readonly reported_heartbeat?: { readonly seq: number; readonly at: number };
  readonly verdict: Verdict;
  /** Why the verdict is what it is, for operators. */
  readonly reasons: readonly string[];
  /**
   * Transport-level reachability, the only thing quorum and fencing count (DESIGN principle 3): an
   * answer of any kind (503, fenced, slow, erroring) proves it. It turns false after
   * failure_threshold rounds in a row without any answer and true again after success_threshold
   * rounds in a row with one. Absent in views written before it existed: read with reachableOf.
   */
  readonly reachable?: boolean;
  /** Rounds in a row in which no call got any answer. */
  readonly consecutive_unanswered?: number;
  /** Rounds in a row in which some call got an answer. */
  readonly consecutive_answered?: number;
  /** Available capacity below the threshold: load (no new work, rebalance, alarm), never a failure. */
  readonly saturated?: boolean;
  /** What the verdict and the saturation rest on. */
  readonly signals?: readonly HealthSignal[];
  /** What the target's replica holds of this observer's own status (reconciliation after a partition). */
  readonly reports_observer?: ReportedPeerStatus;
  readonly rounds: number;
  /** Epoch ms of the last round. */
  readonly updated_at: number;
}

/** What a region concludes from every observer's views (pure: lib/core/health/quorum.ts). */
export interface Assessment {
  /** The region that assessed. */
  readonly observer: string;
  /** Voting members: serving regions plus witnesses. */
  readonly members: readonly string[];
  /** Members this observer reaches (itself included). */
  readonly reachable: readonly string[];
  /**
   * Regions a majority of the observers with a fresh view of them can reach (this observer's own
   * view included): who may coordinate. Every observer whose replica holds the same views names the
   * same coordinator, so two sides of a cut between two regions do not both coordinate one failover.
   */
  readonly reachable_by_majority: readonly string[];
  /**
   * Members that answered this observer's latest round (itself included; a witness by its fresh view
   * of the observer), without the hysteresis `reachable` keeps. A failover starts only while they are
   * a majority: in the rounds after a cut, both sides still count each other reachable, and each
   * would start the same failover with its own target (simulator seed 2005285).
   */
  readonly answering: readonly string[];
  /**
   * Regions this replica holds out of service that may still coordinate by their own replica: none
   * of their rounds has replicated here since their status changed, and a majority of fresh views
   * does not say it cannot reach them. No region after one of them in failover order coordinates
   * in its place (coordinatorFor).
   */
  readonly unheard: readonly string[];
  /**
   * Regions whose newest answer (a fresh view whose latest round got one) reports their own status
   * failed, draining or shut down, whatever this replica holds, and whose latest round here is fresh
   * (what they started before they knew is here too): they only observe, so none coordinates unless
   * unheard (coordinatorFor).
   */
  readonly observing: readonly string[];
  /** This observer cannot reach a majority of members: it must fence itself and declare nothing. */
  readonly cut_off: boolean;
  /** Why cut_off is what it is (including the two-member tie rule when it applied). */
  readonly cut_off_reason?: string;
  /** Regions a majority of their observers declare unhealthy (empty when cut off). Never for load alone. */
  readonly failed: readonly FailedRegion[];
  /**
   * Regions a majority of the voters with a fresh view see below the capacity threshold: load, not
   * failure (no new work, rebalancing, an alarm; never a failover). Empty when cut off.
   */
  readonly saturated: readonly string[];
  /** Regions with an isolated component failing (restart events, no failover). */
  readonly component_failures: readonly { readonly region: string; readonly endpoints: readonly string[] }[];
  /** Per target, how each observer votes (for GET /v1/regions and the dashboard). */
  readonly votes: Readonly<Record<string, Readonly<Record<string, Verdict | 'stale'>>>>;
}

export interface FailedRegion {
  readonly region: string;
  /** Observers voting unhealthy / observers counted. */
  readonly votes_unhealthy: number;
  readonly voters: number;
  readonly reasons: readonly string[];
  /** A majority of the voters cannot reach it at all (else it answers, and SLO verdicts failed it). */
  readonly unreachable: boolean;
  /** The signals the voters against it report. */
  readonly signals: readonly HealthSignal[];
  /** The region that should start the failover (highest priority serving, reachable). */
  readonly coordinator: string;
}
