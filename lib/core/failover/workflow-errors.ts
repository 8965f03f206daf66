/**
 * The failover workflow's error contract, in one place: the names the failover function's errors
 * carry (its Lambda error type, which statemachines/failover.asl.json's Retry and Catch match), what
 * the workflow does with each, the names the workflow raises itself, and the one retry policy every
 * Task follows. test/statemachine/definition.test.ts holds the ASL to these lists, so the definition,
 * the function and the rollback cannot drift apart.
 */

/** How the workflow treats a step's error. */
export type StepErrorHandling =
  /** Retried with backoff (RETRY_POLICY); when the attempts are spent, rolled back. */
  | 'retried'
  /** Caught at once: Rollback restores what the failover changed, the record ends rolled_back. */
  | 'rolled_back'
  /** Caught at once: Rollback finds nothing changed on purpose, the record ends cancelled. */
  | 'cancelled'
  /**
   * The record is final or another coordinator took it over: Rollback changes nothing and the
   * execution ends as the record says.
   */
  | 'ends_execution';

/** Every error name the failover function (and the approval's token answer) may fail a step with. */
export const STEP_ERRORS = {
  TransientError: 'retried',
  NoTargetRegion: 'rolled_back',
  TargetRegionFailure: 'rolled_back',
  DataSyncFailure: 'rolled_back',
  ValidationFailure: 'rolled_back',
  OperatorAbort: 'rolled_back',
  ApprovalDeclined: 'cancelled',
  FailureNotConfirmed: 'cancelled',
  FailoverFinished: 'ends_execution',
} as const satisfies Record<string, StepErrorHandling>;

export type StepErrorName = keyof typeof STEP_ERRORS;

export const STEP_ERROR_NAMES = Object.keys(STEP_ERRORS) as readonly StepErrorName[];

/** Why a failover ended early: the errors that end it (a spent TransientError too), as recorded. */
export const FAILOVER_ERROR_NAMES = [
  'TransientError',
  'NoTargetRegion',
  'TargetRegionFailure',
  'DataSyncFailure',
  'ValidationFailure',
  'OperatorAbort',
  'ApprovalDeclined',
] as const satisfies readonly StepErrorName[];

export type FailoverErrorName = (typeof FAILOVER_ERROR_NAMES)[number];

/**
 * Lambda's own transient errors (the service, throttling, the SDK client): retried like
 * TransientError, as AWS advises for every Lambda task.
 */
export const LAMBDA_SERVICE_ERROR_NAMES = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;

/**
 * The one Retry block of every Task state. Rollback gets more attempts: a rollback that gives up
 * leaves statuses as the failover set them (MarkFailed, an operator's job), unless it gave up on an
 * error this block retries: then MarkFailed leaves the record running for its coordinator to resume.
 */
export const RETRY_POLICY = {
  ErrorEquals: [
    ...STEP_ERROR_NAMES.filter((name) => STEP_ERRORS[name] === 'retried'),
    ...LAMBDA_SERVICE_ERROR_NAMES,
  ],
  IntervalSeconds: 1,
  BackoffRate: 2,
  MaxAttempts: 3,
  JitterStrategy: 'FULL',
} as const;

/** The Rollback task's retry budget in the ASL; exported so the definition test holds the two equal. */
export const ROLLBACK_MAX_ATTEMPTS = 5;

/**
 * Errors the workflow raises itself. WaitLimitExceeded: a polling or operator loop reached its
 * bound (the step broke its own max wait: a bug or a stopped clock), rolled back like any
 * unexpected error. The Fail states end the execution with FailoverRolledBack or FailoverFailed.
 */
export const WORKFLOW_ERROR_NAMES = ['WaitLimitExceeded'] as const;

/** The Fail states' error names: what a caller of the execution reads; the definition test holds the ASL to them. */
export const EXECUTION_FAILURE_NAMES = ['FailoverRolledBack', 'FailoverFailed'] as const;
