/**
 * Runs a DR runbook's definition (statemachines/regional-dr.asl.json, network-partition.asl.json) in
 * aws-local-stepfunctions with the DR function's handler in place of the Lambda. The composition
 * root gives the substituted text, the task function and how to sleep:
 *
 * - Wait states become Task states whose local handler sleeps the state's seconds through `sleep`
 *   and passes its input on, so the local plane waits in simulated time (`--speed`) and the
 *   simulator on its virtual clock, where the interpreter's own timers would wait in real time.
 * - Retry pauses are not waited (a DR step's retry is for a store that did not answer once).
 * - The execution's TimeoutSeconds is left to the caller's deadline: locally it would be real time.
 */
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { TaskInvoker } from './workflow.ts';

interface RunbookRunOptions {
  /** The definition's text with its substitutions applied. */
  readonly definition: string;
  /** The function every Task state calls (the definition's `${DrFunctionArn}`). */
  readonly functionArn: string;
  readonly invoke: TaskInvoker;
  /** Sleeps `ms` of the runtime's time (simulated locally, virtual in the simulator). */
  readonly sleep: (ms: number) => Promise<void>;
  /** The execution's name (the DR id). */
  readonly name: string;
  readonly input: unknown;
}

export interface RunbookOutcome {
  readonly status: 'succeeded' | 'failed';
  readonly output?: unknown;
  /** The Fail state's Error, or the uncaught error's name. */
  readonly error?: string;
  /** The caught error of the step that failed (`$.error` of the state that reached the Fail state). */
  readonly cause?: string;
  /** State names in the order they were entered. */
  readonly path: readonly string[];
}

const WAIT_RESOURCE = 'arn:aws:lambda:local:000000000000:function:runbook-wait';

export async function runRunbook(options: RunbookRunOptions): Promise<RunbookOutcome> {
  const definition = JSON.parse(options.definition) as StateMachineDefinition;
  delete definition.TimeoutSeconds;
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  const retryOverrides: Record<string, number[]> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === 'Wait') {
      const seconds = state.Seconds;
      if (seconds === undefined) throw new Error(`runRunbook: Wait state ${name} has no Seconds`);
      const { Next, End } = state as { Next?: string; End?: boolean };
      (definition.States as Record<string, unknown>)[name] = {
        Type: 'Task',
        Resource: WAIT_RESOURCE,
        ...(Next === undefined ? {} : { Next }),
        ...(End === undefined ? {} : { End }),
      };
      handlers[name] = async (input) => {
        await options.sleep(seconds * 1000);
        return input;
      };
    } else if (state.Type === 'Task') {
      if (state.Resource !== options.functionArn)
        throw new Error(`runRunbook: ${name} calls ${String(state.Resource)}, not the DR function`);
      handlers[name] = (input) => options.invoke(input);
      if (state.Retry) retryOverrides[name] = state.Retry.map(() => 0);
    } else if (state.Type === 'Parallel') {
      for (const branch of state.Branches) {
        for (const [inner, innerState] of Object.entries(branch.States)) {
          if (innerState.Type !== 'Task') continue;
          handlers[inner] = (input) => options.invoke(input);
          if (innerState.Retry) retryOverrides[inner] = innerState.Retry.map(() => 0);
        }
      }
    }
  }
  const machine = new StateMachine(definition, { validationOptions: { checkArn: false } });
  const run = machine.run(options.input as Parameters<StateMachine['run']>[0], {
    overrides: {
      taskResourceLocalHandlers: handlers as NonNullable<
        NonNullable<Parameters<StateMachine['run']>[1]>['overrides']
      >['taskResourceLocalHandlers'],
      retryIntervalOverrides: retryOverrides,
    },
    context: { Execution: { Name: options.name } },
  });
  const path: string[] = [];
  let lastError: string | undefined;
  const logged = (async () => {
    for await (const event of run.eventLogs) {
      if (event.type === 'StateEntered') {
        path.push(event.state.name);
        const input = event.state.input as { error?: { Error?: string; Cause?: string } } | undefined;
        if (input?.error?.Cause) lastError = `${input.error.Error}: ${input.error.Cause}`;
      }
    }
  })().catch(() => undefined);
  try {
    const output = await run.result;
    await logged;
    return { status: 'succeeded', output, path };
  } catch (error) {
    await logged;
    const cause = (error as { cause?: unknown }).cause;
    const name = cause instanceof Error ? cause.name : error instanceof Error ? error.name : 'Error';
    return { status: 'failed', error: name, ...(lastError ? { cause: lastError } : {}), path };
  }
}
