/**
 * The domain's error hierarchy. Each error has a stable `code` and carries the data an operator
 * needs; only the HTTP edge (functions/shared/http.ts) maps them to status codes.
 */

export interface FieldIssue {
  /** Dotted path of the bad field, e.g. `requirements.max_latency_ms` or `regions[1].tier`. */
  readonly field: string;
  readonly reason: string;
}

export abstract class CortexError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that is malformed or breaks a rule; nothing was changed. */
export class ValidationError extends CortexError {
  readonly code = 'VALIDATION_FAILED';
  readonly details: readonly FieldIssue[];
  constructor(message: string, details: readonly FieldIssue[]) {
    super(message);
    this.details = details;
  }
}

/** A topology file that cannot be used; `details` names each bad field. */
export class TopologyError extends CortexError {
  readonly code = 'TOPOLOGY_INVALID';
  readonly details: readonly FieldIssue[];
  constructor(details: readonly FieldIssue[]) {
    super(
      `topology is invalid: ${details
        .slice(0, 5)
        .map((d) => `${d.field}: ${d.reason}`)
        .join('; ')}${details.length > 5 ? ` (and ${details.length - 5} more)` : ''}`,
    );
    this.details = details;
  }
}

export class NotFoundError extends CortexError {
  readonly code = 'NOT_FOUND';
  readonly resource: string;
  readonly id: string;
  constructor(resource: string, id: string) {
    super(`${resource} ${id} not found`);
    this.resource = resource;
    this.id = id;
  }
}

/** A request that contradicts what is already recorded (same id, different content). */
export class ConflictError extends CortexError {
  readonly code: string;
  readonly current: unknown;
  constructor(code: string, message: string, current?: unknown) {
    super(message);
    this.code = code;
    this.current = current;
  }
}

/** No region satisfies the task; `excluded` says why for each. */
export class NoEligibleRegionError extends CortexError {
  readonly code = 'NO_ELIGIBLE_REGION';
  readonly excluded: readonly { region: string; reasons: readonly string[] }[];
  constructor(excluded: readonly { region: string; reasons: readonly string[] }[]) {
    super('no region satisfies the task requirements');
    this.excluded = excluded;
  }
}

/** This region is fenced, draining or failed and must not act for the platform. */
export class RegionNotServingError extends CortexError {
  readonly code = 'REGION_NOT_SERVING';
  readonly region: string;
  readonly status: string;
  constructor(region: string, status: string) {
    super(`region ${region} is ${status} and does not route tasks`);
    this.region = region;
    this.status = status;
  }
}

/**
 * The strongly consistent (MRSC) table cannot answer here and now: this region is cut off from the
 * majority of its replicas, or another region kept writing the same item (DynamoDB's
 * ReplicatedWriteConflictException after the SDK's retries). Retryable; 503 on the API.
 */
export class StateUnavailableError extends CortexError {
  readonly code = 'STATE_UNAVAILABLE';
  readonly table: string;
  readonly region: string;
  constructor(table: string, region: string, reason: string, options?: { cause?: unknown }) {
    super(`${table} is unavailable from ${region}: ${reason}`, options);
    this.table = table;
    this.region = region;
  }
}

/** The request body is larger than the API accepts. */
export class PayloadTooLargeError extends CortexError {
  readonly code = 'PAYLOAD_TOO_LARGE';
  readonly limit: number;
  constructor(limit: number) {
    super(`request body exceeds ${limit} bytes`);
    this.limit = limit;
  }
}

/**
 * A failover step that cannot go on. `name` is what the workflow's Retry and Catch match on
 * (statemachines/failover.asl.json): `TransientError` is retried, the others roll back or cancel.
 */
export class FailoverStepError extends CortexError {
  readonly code = 'FAILOVER_STEP_FAILED';
  constructor(name: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = name;
  }
}

/** No region can take a failed region's work (a 422 like NoEligibleRegionError, `excluded` per region). */
export class NoTargetRegionError extends NoEligibleRegionError {
  readonly failedRegion: string;
  constructor(failedRegion: string, excluded: readonly { region: string; reasons: readonly string[] }[]) {
    super(excluded);
    this.failedRegion = failedRegion;
    this.message = `no region can take over from ${failedRegion}`;
  }
}

/** An error's message, or the thrown value as text: what reports and logs show of a failure. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Another region's replica could not be reached (partition, region down): nothing was read or written. */
export class ReplicaUnreachableError extends CortexError {
  readonly code = 'REPLICA_UNREACHABLE';
  readonly from: string;
  readonly to: string;
  constructor(from: string, to: string) {
    super(`${from} cannot reach the replica in ${to}`);
    this.from = from;
    this.to = to;
  }
}

/**
 * An operator's change to a failover record (abort, approve, decline) is made in the replica of the
 * failover's coordinator, and this region cannot reach it (partition, region down): nothing was
 * written. The copy here may be stale (principle 4: a write on a stale replica would replace the
 * coordinator's newer record everywhere). Retryable; 503 on the API.
 */
export class CoordinatorUnreachableError extends CortexError {
  readonly code = 'COORDINATOR_UNREACHABLE';
  readonly failoverId: string;
  readonly coordinator: string;
  readonly region: string;
  constructor(
    failoverId: string,
    coordinator: string,
    region: string,
    seenHere: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${region} cannot reach ${coordinator}, the coordinator of ${failoverId}, whose replica holds the record: nothing was changed (the record here says ${seenHere} and may be stale); retry, or ask ${coordinator}'s API`,
      options,
    );
    this.failoverId = failoverId;
    this.coordinator = coordinator;
    this.region = region;
  }
}

/** Servers offer the capability, but none may serve it now (a 422 like NoEligibleRegionError, `excluded` per server). */
export class McpServerUnavailableError extends NoEligibleRegionError {
  readonly capability: string;
  constructor(
    capability: string,
    reason: string,
    excluded: readonly { region: string; reasons: readonly string[] }[],
  ) {
    super(excluded);
    this.capability = capability;
    this.message = reason;
  }
}
