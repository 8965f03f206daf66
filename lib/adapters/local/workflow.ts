/**
 * The local WorkflowPort: runs statemachines/failover.asl.json in aws-local-stepfunctions with the
 * failover function's handler in place of the Lambda, as the coordinator region runs it. The local
 * composition root (lib/runtime/local-workflow.ts) gives it the substituted definition, the
 * simulated durations and the task function: an adapter runs no use case of its own.
 *
 * How it imitates Step Functions:
 * - Executions are named by failover id: a second start of the same id is a no-op while it runs or
 *   after it ran, and so is a start for a record that is no longer running (a restart).
 * - `.waitForTaskToken`: the approval Task's local handler registers a promise under a fresh token,
 *   invokes the handler (which stores the token on the record) and returns that promise;
 *   `answerApproval` resolves it (approved) or rejects it with an `ApprovalDeclined` error.
 * - Time: Wait states and Retry pauses are given as overrides scaled by `speed` (simulated seconds
 *   / speed = real seconds), so a 10 s drain poll takes 10 ms at speed 1000 while the handler, on the
 *   simulated clock, still counts 10 s. Overrides are fixed per run, so a retry pause is the first
 *   interval each time (no backoff locally). Task timeouts stay in real time: they bound a handler
 *   call, and the approval waits for a person.
 * - The interpreter resolves `TimeoutSecondsPath` against the Task's Parameters output, Step
 *   Functions against the state input; the paths are replaced by the numbers they name here.
 */
import { randomUUID } from 'node:crypto';
import { ExecutionAbortedError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { NotFoundError } from '../../core/errors.ts';
import type { WorkflowPort } from '../../ports.ts';

/** What stands in for `${FailoverFunctionArn}` locally. */
export const LOCAL_FAILOVER_FUNCTION_ARN = 'arn:aws:lambda:local:000000000000:function:cortex-failover';

const WAIT_FOR_TOKEN_RESOURCE = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

export type TaskInvoker = (event: unknown) => Promise<unknown>;

interface LocalWorkflowOptions {
  /** The definition's text with its substitutions applied. */
  readonly definition: string;
  /** The function every Task state calls (the definition's `${FailoverFunctionArn}`). */
  readonly functionArn: string;
  /** Simulated seconds of each Task's `TimeoutSecondsPath` (`$.timeouts.<name>`), by name. */
  readonly timeouts: Readonly<Record<string, number>>;
  /** Simulated seconds of each Wait state that takes them from its input (`SecondsPath`), by state name. */
  readonly polls: Readonly<Record<string, number>>;
  /**
   * Whether a start of `failoverId` by `coordinator` runs: false once the failover has ended (its
   * record is final). Asked at each start that finds no execution of that id running.
   */
  readonly shouldRun: (failoverId: string, coordinator: string) => Promise<boolean>;
  /** The failover function as `coordinator` runs it; asked once per execution, when it starts. */
  readonly invokerFor: (coordinator: string) => TaskInvoker;
  /** Simulated ms per real ms (the local clock's speed); default 1. */
  readonly speed?: number;
  /** Executions that end unexpectedly (not by a Fail state of the definition) are reported here. */
  readonly log?: (line: string) => void;
}

export interface ExecutionOutcome {
  readonly failover_id: string;
  /** `failed` also when the definition ends in its RolledBack or Failed state. */
  readonly status: 'succeeded' | 'failed' | 'aborted';
  /** The Fail state's Error (FailoverRolledBack, FailoverFailed) or the uncaught error's name. */
  readonly error?: string;
  readonly output?: unknown;
  /** State names in the order they were entered, retries and loops included. */
  readonly path: readonly string[];
}

interface Execution {
  readonly coordinator: string;
  readonly abort: () => void;
  readonly done: Promise<ExecutionOutcome>;
  readonly tokens: Set<string>;
  finished: boolean;
}

interface PendingApproval {
  readonly resolve: (output: unknown) => void;
  readonly reject: (error: Error) => void;
}

type States = StateMachineDefinition['States'];

export class LocalWorkflow implements WorkflowPort {
  readonly #options: LocalWorkflowOptions;
  readonly #machine: StateMachine;
  readonly #states: States;
  readonly #waitOverrides: Record<string, number>;
  readonly #retryOverrides: Record<string, number[]>;
  readonly #executions = new Map<string, Execution>();
  readonly #approvals = new Map<string, PendingApproval>();
  #closed = false;

  constructor(options: LocalWorkflowOptions) {
    const speed = options.speed ?? 1;
    if (!Number.isFinite(speed) || speed <= 0)
      throw new RangeError(`LocalWorkflow: speed must be > 0, got ${speed}`);
    this.#options = options;
    const { functionArn, timeouts, polls } = options;
    const definition = JSON.parse(options.definition) as StateMachineDefinition;
    // The interpreter times the execution with one setTimeout, which holds at most 2^31-1 ms (24.8
    // days) and fires at once past it: a longer TimeoutSeconds is left to the Task timeouts here.
    if ((definition.TimeoutSeconds ?? 0) * 1000 > 2 ** 31 - 1) delete definition.TimeoutSeconds;
    this.#waitOverrides = {};
    this.#retryOverrides = {};
    for (const [name, state] of Object.entries(definition.States)) {
      if (state.Type === 'Task') {
        const path = state.TimeoutSecondsPath;
        if (path !== undefined) {
          const seconds = timeouts[path.replace(/^\$\.timeouts\./, '')];
          if (seconds === undefined)
            throw new Error(`LocalWorkflow: ${name} has an unknown TimeoutSecondsPath ${path}`);
          delete state.TimeoutSecondsPath;
          state.TimeoutSeconds = seconds;
        }
        const resource =
          state.Resource === WAIT_FOR_TOKEN_RESOURCE
            ? (state.Parameters as { FunctionName?: unknown } | undefined)?.FunctionName
            : state.Resource;
        if (resource !== functionArn)
          throw new Error(`LocalWorkflow: ${name} calls ${String(resource)}, not the failover function`);
        if (state.Retry) {
          this.#retryOverrides[name] = state.Retry.map(
            (retrier) => ((retrier.IntervalSeconds ?? 1) * 1000) / speed,
          );
        }
      } else if (state.Type === 'Wait') {
        const seconds = state.Seconds ?? polls[name];
        if (seconds === undefined)
          throw new Error(`LocalWorkflow: no simulated duration known for Wait state ${name}`);
        this.#waitOverrides[name] = (seconds * 1000) / speed;
      }
    }
    this.#states = definition.States;
    this.#machine = new StateMachine(definition);
  }

  async startFailover(input: { readonly failover_id: string; readonly coordinator: string }): Promise<void> {
    if (this.#closed) throw new Error('LocalWorkflow is closed');
    const id = input.failover_id;
    if (this.#isRunning(id)) return;
    // Ended (it ran before, here or elsewhere): nothing to start. An execution that ended while its
    // record stayed active (its last writes failed: the state was unavailable) is run again, as the
    // Step Functions adapter starts a new execution under the next name: the record is the progress.
    if (!(await this.#options.shouldRun(id, input.coordinator))) return;
    if (this.#isRunning(id)) return;
    this.#run(id, input.coordinator);
  }

  async answerApproval(token: string, approved: boolean): Promise<void> {
    const pending = this.#approvals.get(token);
    if (!pending) throw new NotFoundError('approval task', `${token.slice(0, 16)}...`);
    this.#approvals.delete(token);
    if (approved) {
      pending.resolve({ approved: true });
    } else {
      const declined = new Error('An operator declined the failover.');
      declined.name = 'ApprovalDeclined';
      pending.reject(declined);
    }
  }

  #isRunning(failoverId: string): boolean {
    const execution = this.#executions.get(failoverId);
    return execution !== undefined && !execution.finished;
  }

  /** Resolves when the execution of `failoverId` has ended (started by this workflow). */
  settled(failoverId: string): Promise<ExecutionOutcome> {
    const execution = this.#executions.get(failoverId);
    if (!execution) return Promise.reject(new NotFoundError('execution', failoverId));
    return execution.done;
  }

  /** Ids of the executions still running. */
  running(): string[] {
    return [...this.#executions].filter(([, e]) => !e.finished).map(([id]) => id);
  }

  /** Aborts every running execution (approvals waiting are dropped) and waits for them to end. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#abort([...this.#executions.values()], 'the local workflow closed');
  }

  /**
   * Aborts the running executions `coordinator` runs, as a region's outage ends the Step Functions
   * executions in it: each record stays as its last step left it, and a survivor's probe round takes
   * the failover over (or the region resumes it once it is back). A start of the same id runs again.
   */
  async abortCoordinatedBy(coordinator: string): Promise<void> {
    const theirs = [...this.#executions.values()].filter((e) => e.coordinator === coordinator);
    await this.#abort(theirs, `${coordinator} is down`);
  }

  async #abort(executions: readonly Execution[], why: string): Promise<void> {
    const running = executions.filter((e) => !e.finished);
    for (const execution of running) {
      for (const token of execution.tokens) {
        const pending = this.#approvals.get(token);
        this.#approvals.delete(token);
        pending?.reject(new Error(why));
      }
      execution.abort();
    }
    await Promise.all(running.map((e) => e.done));
  }

  #run(failoverId: string, coordinator: string): void {
    const invoke = this.#options.invokerFor(coordinator);
    const tokens = new Set<string>();
    const token = randomUUID();
    const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [name, state] of Object.entries(this.#states)) {
      if (state.Type !== 'Task') continue;
      handlers[name] =
        state.Resource === WAIT_FOR_TOKEN_RESOURCE
          ? (input) => this.#awaitToken(invoke, input, token, tokens)
          : (input) => invoke(input);
    }
    const run = this.#machine.run(
      { failover_id: failoverId, coordinator },
      {
        overrides: {
          taskResourceLocalHandlers: handlers as NonNullable<
            NonNullable<Parameters<StateMachine['run']>[1]>['overrides']
          >['taskResourceLocalHandlers'],
          waitTimeOverrides: this.#waitOverrides,
          retryIntervalOverrides: this.#retryOverrides,
        },
        noThrowOnAbort: true,
        context: {
          Execution: {
            Id: `arn:aws:states:local:000000000000:execution:cortex-failover:${failoverId}`,
            Name: failoverId,
          },
          Task: { Token: token },
        },
      },
    );
    const path: string[] = [];
    const logged = (async () => {
      for await (const event of run.eventLogs) {
        if (event.type === 'StateEntered') path.push(event.state.name);
      }
    })().catch(() => undefined);

    const execution: Execution = {
      coordinator,
      abort: run.abort,
      tokens,
      finished: false,
      done: run.result.then(
        async (output): Promise<ExecutionOutcome> => {
          await logged;
          // noThrowOnAbort: an aborted run answers null; the definition always outputs an object.
          return output === null
            ? { failover_id: failoverId, status: 'aborted', path }
            : { failover_id: failoverId, status: 'succeeded', output, path };
        },
        async (error: unknown): Promise<ExecutionOutcome> => {
          await logged;
          if (error instanceof ExecutionAbortedError)
            return { failover_id: failoverId, status: 'aborted', path };
          const cause = (error as { cause?: unknown }).cause;
          const name = cause instanceof Error ? cause.name : error instanceof Error ? error.name : 'Error';
          if (name !== 'FailoverRolledBack') {
            this.#options.log?.(
              `failover ${failoverId}: execution failed with ${name}: ${(cause as Error)?.message ?? error}`,
            );
          }
          return { failover_id: failoverId, status: 'failed', error: name, path };
        },
      ),
    };
    void execution.done.then(() => {
      execution.finished = true;
      for (const t of tokens) this.#approvals.delete(t);
    });
    this.#executions.set(failoverId, execution);
  }

  /** `.waitForTaskToken` imitated: register, invoke with the token in the payload, wait for the answer. */
  async #awaitToken(
    invoke: TaskInvoker,
    input: unknown,
    token: string,
    tokens: Set<string>,
  ): Promise<unknown> {
    const payload = (input as { Payload?: unknown }).Payload;
    const answer = new Promise<unknown>((resolve, reject) => {
      this.#approvals.set(token, { resolve, reject });
    });
    tokens.add(token);
    // Handled below; without this a decline that arrives before we await would be "unhandled".
    answer.catch(() => undefined);
    try {
      await invoke(payload);
    } catch (error) {
      this.#approvals.delete(token);
      throw error;
    }
    return answer;
  }
}
