/**
 * The simulator's WorkflowPort: interprets statemachines/failover.asl.json (the text
 * loadFailoverDefinition substitutes, so the phase timeouts are numbers) on the kernel's virtual
 * clock. aws-local-stepfunctions waits on real timers, so it cannot run here; this interpreter is the
 * ASL file executed, never a hand-written copy of the flow, and test/statemachine/sim-workflow.test.ts
 * checks it walks the same paths as aws-local-stepfunctions on the real definition.
 *
 * It interprets exactly what the definition uses and throws at construction on anything else (a Map
 * state, an InputPath, a JSONata expression ...), so a change to the ASL cannot be silently
 * misread:
 * - The execution's TimeoutSeconds: it fails with States.Timeout after that much virtual time.
 * - Pass: Parameters (`.$` JSONPath, `States.StringToJson`, `States.MathAdd`), ResultPath.
 * - Task: the failover function's ARN, or `lambda:invoke.waitForTaskToken` with FunctionName and
 *   Payload (`$$.Task.Token`); TimeoutSeconds / TimeoutSecondsPath (`States.Timeout` after that much
 *   virtual time; none given: no timeout, as Step Functions' 99999999 s default); Retry (ErrorEquals,
 *   IntervalSeconds, BackoffRate, MaxAttempts, JitterStrategy FULL from the kernel's random); Catch
 *   (ErrorEquals with States.ALL, States.TaskFailed, States.Timeout; ResultPath).
 * - Choice: Variable with BooleanEquals, StringEquals, Numeric* comparisons, IsPresent; Default. A
 *   Variable that names no value fails the execution (States.Runtime), as Step Functions does.
 * - Wait (Seconds, SecondsPath), Succeed, Fail.
 *
 * As Step Functions (and LocalWorkflow): a function error matches by its `name` (the Lambda error
 * type) and is caught as `{ Error: name, Cause: message }`; States.Runtime (a path that names nothing)
 * is neither retried nor caught. Executions are named by failover id; an aborted one (its
 * coordinator's process died) frees its name, so a restart resumes the failover from its record. Each `.waitForTaskToken` attempt
 * gets a fresh token (deterministic, from a counter). The start is an event of its own (StartExecution
 * returns before the first state runs). Everything runs on the kernel: no real timers, no Date.now,
 * no Math.random.
 */
import type { ExecutionOutcome, TaskInvoker } from '../adapters/local/workflow.ts';
import type { ControlDeps } from '../app/deps.ts';
import { type FailoverTaskEvent, runFailoverAction } from '../app/failover/actions.ts';
import { loadFailoverDefinition } from '../app/failover/definition.ts';
import { isActive } from '../app/failover/shared.ts';
import { NotFoundError } from '../core/errors.ts';
import { isoTime } from '../core/time.ts';
import type { Topology } from '../core/topology/types.ts';
import type { WorkflowPort } from '../ports.ts';
import type { SimKernel } from './kernel.ts';

/** What stands in for `${FailoverFunctionArn}` in the simulator. */
/**
 * Step Functions runs per region: two coordinators (two sides of a partition) each run their own
 * execution of the same name, as two regional state machines would.
 */
function executionKey(coordinator: string, failoverId: string): string {
  return `${coordinator}\u0000${failoverId}`;
}

export const SIM_FAILOVER_FUNCTION_ARN = 'arn:aws:lambda:sim:000000000000:function:cortex-failover';

const WAIT_FOR_TOKEN_RESOURCE = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
const STATE_MACHINE_NAME = 'cortex-failover';

export interface SimWorkflowOptions {
  readonly kernel: SimKernel;
  readonly topology: Topology;
  /** The ControlDeps of a region (the coordinator's runs its failovers); read when a run starts. */
  readonly depsFor: (regionId: string) => ControlDeps;
  /** The failover function as the coordinator runs it; default: runFailoverAction with its deps. */
  readonly invokerFor?: (deps: ControlDeps) => TaskInvoker;
  readonly functionArn?: string;
  /**
   * The substituted ASL text to interpret; default: loadFailoverDefinition(topology, functionArn).
   * For tests of the interpreter itself.
   */
  readonly definition?: string;
  /** Executions that end unexpectedly (not by a Fail state of the definition) are reported here. */
  readonly log?: (line: string) => void;
  /**
   * Virtual ms from a Task state's start to the function running: the state transition, the Lambda
   * invoke and the function's own calls before its first write. Default: 50 to 400 ms from the
   * kernel's seeded random source (a warm invoke and a few DynamoDB calls; now and then slower).
   */
  readonly invokeLatencyMs?: () => number;
}

export interface SimExecutionOutcome extends ExecutionOutcome {
  /** The Fail state's Cause or the uncaught error's message. */
  readonly cause?: string;
  /** Virtual epoch ms. */
  readonly started_at: number;
  readonly ended_at: number;
}

// ---- the compiled definition ------------------------------------------------------------------

interface Path {
  readonly text: string;
  /** `$$`: the context object. */
  readonly context: boolean;
  readonly segments: readonly string[];
}

type Template =
  | { readonly kind: 'value'; readonly value: unknown }
  | { readonly kind: 'path'; readonly path: Path }
  | { readonly kind: 'stringToJson'; readonly path: Path }
  | { readonly kind: 'mathAdd'; readonly path: Path; readonly add: number }
  | { readonly kind: 'object'; readonly fields: readonly (readonly [string, Template])[] };

type ResultPath =
  | { readonly kind: 'replace' }
  | { readonly kind: 'discard' }
  | { readonly kind: 'set'; readonly path: Path };

type Seconds = { readonly seconds: number } | { readonly path: Path };

interface Retrier {
  readonly errorEquals: readonly string[];
  readonly intervalSeconds: number;
  readonly backoffRate: number;
  readonly maxAttempts: number;
  readonly fullJitter: boolean;
}

interface Catcher {
  readonly errorEquals: readonly string[];
  readonly resultPath: ResultPath;
  readonly next: string;
}

type Operator =
  | 'BooleanEquals'
  | 'StringEquals'
  | 'NumericEquals'
  | 'NumericLessThan'
  | 'NumericLessThanEquals'
  | 'NumericGreaterThan'
  | 'NumericGreaterThanEquals'
  | 'IsPresent';

const OPERAND_TYPE: Readonly<Record<Operator, 'boolean' | 'string' | 'number'>> = {
  BooleanEquals: 'boolean',
  StringEquals: 'string',
  NumericEquals: 'number',
  NumericLessThan: 'number',
  NumericLessThanEquals: 'number',
  NumericGreaterThan: 'number',
  NumericGreaterThanEquals: 'number',
  IsPresent: 'boolean',
};

interface ChoiceRule {
  readonly variable: Path;
  readonly operator: Operator;
  readonly operand: boolean | string | number;
  readonly next: string;
}

type CompiledState =
  | {
      readonly type: 'Pass';
      readonly parameters?: Template;
      readonly resultPath: ResultPath;
      readonly next?: string;
    }
  | {
      readonly type: 'Task';
      readonly waitForToken: boolean;
      readonly parameters?: Template;
      readonly timeout?: Seconds;
      readonly resultPath: ResultPath;
      readonly retry: readonly Retrier[];
      readonly catch: readonly Catcher[];
      readonly next?: string;
    }
  | { readonly type: 'Choice'; readonly rules: readonly ChoiceRule[]; readonly default?: string }
  | { readonly type: 'Wait'; readonly wait: Seconds; readonly next?: string }
  | { readonly type: 'Succeed' }
  | { readonly type: 'Fail'; readonly error?: string; readonly cause?: string };

interface CompiledMachine {
  readonly startAt: string;
  readonly timeoutSeconds?: number;
  readonly states: ReadonlyMap<string, CompiledState>;
}

/** Fields each state type may carry besides Type, Comment and QueryLanguage. */
const FIELDS: Readonly<Record<string, readonly string[]>> = {
  Pass: ['Parameters', 'ResultPath', 'Next', 'End'],
  Task: [
    'Resource',
    'Parameters',
    'ResultPath',
    'TimeoutSeconds',
    'TimeoutSecondsPath',
    'Retry',
    'Catch',
    'Next',
    'End',
  ],
  Choice: ['Choices', 'Default'],
  Wait: ['Seconds', 'SecondsPath', 'Next', 'End'],
  Succeed: [],
  Fail: ['Error', 'Cause'],
};

const RETRIER_FIELDS = ['ErrorEquals', 'IntervalSeconds', 'BackoffRate', 'MaxAttempts', 'JitterStrategy'];
const CATCHER_FIELDS = ['ErrorEquals', 'ResultPath', 'Next'];

class DefinitionError extends Error {
  constructor(where: string, what: string) {
    super(`SimWorkflow: ${where}: ${what}`);
    this.name = 'DefinitionError';
  }
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function onlyFields(raw: Json, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) throw new DefinitionError(where, `field ${key} is not supported`);
  }
}

/** The ASL text compiled, or a DefinitionError naming the first state or field it cannot interpret. */
function compileDefinition(text: string, functionArn: string): CompiledMachine {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new DefinitionError('definition', `not JSON (${(error as Error).message})`);
  }
  if (!isObject(raw)) throw new DefinitionError('definition', 'not an object');
  onlyFields(raw, ['Comment', 'QueryLanguage', 'TimeoutSeconds', 'StartAt', 'States'], 'definition');
  const timeout = compileSeconds(raw, 'TimeoutSeconds', 'TimeoutSecondsPath', 1, 'definition');
  if (timeout && !('seconds' in timeout))
    throw new DefinitionError('definition', 'TimeoutSeconds must be a number');
  if (raw.QueryLanguage !== undefined && raw.QueryLanguage !== 'JSONPath') {
    throw new DefinitionError('definition', `QueryLanguage ${String(raw.QueryLanguage)} (JSONPath only)`);
  }
  if (typeof raw.StartAt !== 'string') throw new DefinitionError('definition', 'StartAt is missing');
  if (!isObject(raw.States)) throw new DefinitionError('definition', 'States is missing');
  const states = new Map<string, CompiledState>();
  for (const [name, state] of Object.entries(raw.States)) {
    states.set(name, compileState(name, state, functionArn));
  }
  const exists = (target: string | undefined, where: string) => {
    if (target !== undefined && !states.has(target)) throw new DefinitionError(where, `no state ${target}`);
  };
  exists(raw.StartAt, 'StartAt');
  for (const [name, state] of states) {
    const where = `state ${name}`;
    if (state.type === 'Choice') {
      for (const rule of state.rules) exists(rule.next, where);
      exists(state.default, where);
    } else if (state.type === 'Task') {
      exists(state.next, where);
      for (const catcher of state.catch) exists(catcher.next, where);
    } else if (state.type === 'Pass' || state.type === 'Wait') {
      exists(state.next, where);
    }
  }
  return { startAt: raw.StartAt, states, ...(timeout ? { timeoutSeconds: timeout.seconds } : {}) };
}

function compileState(name: string, raw: unknown, functionArn: string): CompiledState {
  const where = `state ${name}`;
  if (!isObject(raw)) throw new DefinitionError(where, 'not an object');
  const type = raw.Type;
  const fields = typeof type === 'string' && Object.hasOwn(FIELDS, type) ? FIELDS[type] : undefined;
  if (!fields) {
    throw new DefinitionError(where, `Type ${String(type)} is not supported by the simulator's interpreter`);
  }
  onlyFields(raw, ['Type', 'Comment', 'QueryLanguage', ...fields], where);
  if (raw.QueryLanguage !== undefined && raw.QueryLanguage !== 'JSONPath') {
    throw new DefinitionError(where, `QueryLanguage ${String(raw.QueryLanguage)} (JSONPath only)`);
  }
  switch (type) {
    case 'Pass':
      return {
        type,
        ...(raw.Parameters === undefined
          ? {}
          : { parameters: compileTemplate(raw.Parameters, `${where} Parameters`, false) }),
        resultPath: compileResultPath(raw, where),
        ...compileNext(raw, where),
      };
    case 'Task':
      return compileTask(where, raw, functionArn);
    case 'Choice': {
      if (!Array.isArray(raw.Choices) || raw.Choices.length === 0) {
        throw new DefinitionError(where, 'Choices must be a non-empty array');
      }
      if (raw.Default !== undefined && typeof raw.Default !== 'string') {
        throw new DefinitionError(where, 'Default must be a state name');
      }
      return {
        type,
        rules: raw.Choices.map((rule, i) => compileRule(rule, `${where} Choices[${i}]`)),
        ...(raw.Default === undefined ? {} : { default: raw.Default }),
      };
    }
    case 'Wait': {
      const wait = compileSeconds(raw, 'Seconds', 'SecondsPath', 0, where);
      if (!wait) throw new DefinitionError(where, 'needs Seconds or SecondsPath');
      return { type, wait, ...compileNext(raw, where) };
    }
    case 'Succeed':
      return { type };
    default: {
      if (raw.Error !== undefined && typeof raw.Error !== 'string') {
        throw new DefinitionError(where, 'Error must be a string');
      }
      if (raw.Cause !== undefined && typeof raw.Cause !== 'string') {
        throw new DefinitionError(where, 'Cause must be a string');
      }
      return {
        type: 'Fail',
        ...(raw.Error === undefined ? {} : { error: raw.Error }),
        ...(raw.Cause === undefined ? {} : { cause: raw.Cause }),
      };
    }
  }
}

function compileTask(where: string, raw: Json, functionArn: string): CompiledState {
  const waitForToken = raw.Resource === WAIT_FOR_TOKEN_RESOURCE;
  if (waitForToken) {
    const parameters = raw.Parameters;
    if (!isObject(parameters)) throw new DefinitionError(where, 'waitForTaskToken needs Parameters');
    onlyFields(parameters, ['FunctionName', 'Payload'], `${where} Parameters`);
    if (parameters.FunctionName !== functionArn) {
      throw new DefinitionError(where, `calls ${String(parameters.FunctionName)}, not the failover function`);
    }
    if (!isObject(parameters.Payload)) throw new DefinitionError(where, 'waitForTaskToken needs a Payload');
  } else if (raw.Resource !== functionArn) {
    throw new DefinitionError(where, `Resource ${String(raw.Resource)} is not the failover function`);
  }
  const retry = raw.Retry ?? [];
  const catchers = raw.Catch ?? [];
  if (!Array.isArray(retry)) throw new DefinitionError(where, 'Retry must be an array');
  if (!Array.isArray(catchers)) throw new DefinitionError(where, 'Catch must be an array');
  const timeout = compileSeconds(raw, 'TimeoutSeconds', 'TimeoutSecondsPath', 1, where);
  return {
    type: 'Task',
    waitForToken,
    ...(raw.Parameters === undefined
      ? {}
      : { parameters: compileTemplate(raw.Parameters, `${where} Parameters`, waitForToken) }),
    ...(timeout ? { timeout } : {}),
    resultPath: compileResultPath(raw, where),
    retry: retry.map((r, i) => compileRetrier(r, `${where} Retry[${i}]`, i === retry.length - 1)),
    catch: catchers.map((c, i) => compileCatcher(c, `${where} Catch[${i}]`, i === catchers.length - 1)),
    ...compileNext(raw, where),
  };
}

function compileNext(raw: Json, where: string): { next?: string } {
  if (raw.End === true) {
    if (raw.Next !== undefined) throw new DefinitionError(where, 'has both Next and End');
    return {};
  }
  if (raw.End !== undefined) throw new DefinitionError(where, 'End must be true when given');
  if (typeof raw.Next !== 'string') throw new DefinitionError(where, 'needs Next or End');
  return { next: raw.Next };
}

function compileSeconds(
  raw: Json,
  field: string,
  pathField: string,
  min: number,
  where: string,
): Seconds | undefined {
  const seconds = raw[field];
  const path = raw[pathField];
  if (seconds !== undefined && path !== undefined) {
    throw new DefinitionError(where, `has both ${field} and ${pathField}`);
  }
  if (seconds !== undefined) {
    if (!Number.isInteger(seconds) || (seconds as number) < min) {
      throw new DefinitionError(where, `${field} must be an integer >= ${min}`);
    }
    return { seconds: seconds as number };
  }
  if (path !== undefined) return { path: compilePath(path, `${where} ${pathField}`, false) };
  return undefined;
}

function compileResultPath(raw: Json, where: string): ResultPath {
  if (!('ResultPath' in raw) || raw.ResultPath === '$') return { kind: 'replace' };
  if (raw.ResultPath === null) return { kind: 'discard' };
  const path = compilePath(raw.ResultPath, `${where} ResultPath`, false);
  if (path.context) throw new DefinitionError(where, 'ResultPath cannot write the context object');
  return { kind: 'set', path };
}

/** `$`, `$.a.b`, `$$.Task.Token`: the dotted paths the definition uses; no filters, no indexes. */
function compilePath(raw: unknown, where: string, allowTaskToken: boolean): Path {
  if (typeof raw !== 'string' || !/^\$\$?(\.[A-Za-z_][A-Za-z0-9_-]*)*$/.test(raw)) {
    throw new DefinitionError(where, `path ${JSON.stringify(raw)} is not a supported JSONPath ($.a.b)`);
  }
  const context = raw.startsWith('$$');
  const segments = raw
    .slice(context ? 2 : 1)
    .split('.')
    .filter((s) => s !== '');
  if (context && segments[0] === 'Task' && !allowTaskToken) {
    throw new DefinitionError(where, `${raw} exists only in a .waitForTaskToken Task`);
  }
  return { text: raw, context, segments };
}

function compileTemplate(raw: unknown, where: string, allowTaskToken: boolean): Template {
  if (Array.isArray(raw)) {
    if (JSON.stringify(raw).includes('.$"')) {
      throw new DefinitionError(where, 'paths inside arrays are not supported');
    }
    return { kind: 'value', value: raw };
  }
  if (!isObject(raw)) return { kind: 'value', value: raw };
  const fields: (readonly [string, Template])[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const at = `${where}.${key}`;
    if (!key.endsWith('.$')) {
      fields.push([key, compileTemplate(value, at, allowTaskToken)]);
      continue;
    }
    if (typeof value !== 'string') throw new DefinitionError(at, 'a .$ field takes a string');
    const name = key.slice(0, -2);
    fields.push([
      name,
      value.startsWith('States.')
        ? compileIntrinsic(value, at, allowTaskToken)
        : { kind: 'path', path: compilePath(value, at, allowTaskToken) },
    ]);
  }
  return { kind: 'object', fields };
}

/**
 * `States.StringToJson('<literal>')` (parsed now, so a bad substitution fails here) or of a path;
 * `States.MathAdd(<path>, <integer>)` (the loop counters).
 */
function compileIntrinsic(text: string, where: string, allowTaskToken: boolean): Template {
  const call = /^States\.([A-Za-z]+)\((.*)\)$/s.exec(text);
  if (call?.[1] === 'MathAdd') {
    const args = /^\s*([^,\s]+)\s*,\s*(-?\d+)\s*$/.exec(call[2] ?? '');
    if (!args) throw new DefinitionError(where, `${text}: States.MathAdd(<path>, <integer>) only`);
    return { kind: 'mathAdd', path: compilePath(args[1], where, allowTaskToken), add: Number(args[2]) };
  }
  if (call?.[1] !== 'StringToJson') {
    throw new DefinitionError(
      where,
      `intrinsic ${text} is not supported (States.StringToJson, States.MathAdd only)`,
    );
  }
  const arg = (call[2] ?? '').trim();
  const literal = /^'((?:[^'\\]|\\.)*)'$/s.exec(arg);
  if (literal) {
    const unescaped = (literal[1] ?? '').replace(/\\(.)/gs, '$1');
    try {
      return { kind: 'value', value: JSON.parse(unescaped) };
    } catch {
      throw new DefinitionError(where, `States.StringToJson of ${arg}: not JSON`);
    }
  }
  return { kind: 'stringToJson', path: compilePath(arg, where, allowTaskToken) };
}

function compileErrorEquals(raw: unknown, where: string, last: boolean): string[] {
  if (!Array.isArray(raw) || raw.length === 0 || !raw.every((e) => typeof e === 'string')) {
    throw new DefinitionError(where, 'ErrorEquals must be a non-empty array of error names');
  }
  // As Step Functions validates: States.ALL stands alone, in the last retrier or catcher.
  if (raw.includes('States.ALL') && (raw.length > 1 || !last)) {
    throw new DefinitionError(where, 'States.ALL must be alone and last');
  }
  return raw;
}

function compileRetrier(raw: unknown, where: string, last: boolean): Retrier {
  if (!isObject(raw)) throw new DefinitionError(where, 'not an object');
  onlyFields(raw, RETRIER_FIELDS, where);
  const number = (field: string, fallback: number, ok: (n: number) => boolean): number => {
    const value = raw[field] ?? fallback;
    if (typeof value !== 'number' || !ok(value))
      throw new DefinitionError(where, `${field} ${String(value)}`);
    return value;
  };
  const jitter = raw.JitterStrategy ?? 'NONE';
  if (jitter !== 'FULL' && jitter !== 'NONE') {
    throw new DefinitionError(where, `JitterStrategy ${String(jitter)}`);
  }
  return {
    errorEquals: compileErrorEquals(raw.ErrorEquals, where, last),
    intervalSeconds: number('IntervalSeconds', 1, (n) => Number.isInteger(n) && n >= 1),
    backoffRate: number('BackoffRate', 2, (n) => n >= 1),
    maxAttempts: number('MaxAttempts', 3, (n) => Number.isInteger(n) && n >= 0),
    fullJitter: jitter === 'FULL',
  };
}

function compileCatcher(raw: unknown, where: string, last: boolean): Catcher {
  if (!isObject(raw)) throw new DefinitionError(where, 'not an object');
  onlyFields(raw, CATCHER_FIELDS, where);
  if (typeof raw.Next !== 'string') throw new DefinitionError(where, 'needs Next');
  return {
    errorEquals: compileErrorEquals(raw.ErrorEquals, where, last),
    resultPath: compileResultPath(raw, where),
    next: raw.Next,
  };
}

function compileRule(raw: unknown, where: string): ChoiceRule {
  if (!isObject(raw)) throw new DefinitionError(where, 'not an object');
  const operators = Object.keys(raw).filter((k) => k !== 'Variable' && k !== 'Next');
  const operator = operators[0];
  if (operators.length !== 1 || operator === undefined || !Object.hasOwn(OPERAND_TYPE, operator)) {
    throw new DefinitionError(
      where,
      `comparison ${operators.join(', ') || '(none)'} is not supported (${Object.keys(OPERAND_TYPE).join(', ')})`,
    );
  }
  const operand = raw[operator];
  const expected = OPERAND_TYPE[operator as Operator];
  if (typeof operand !== expected) throw new DefinitionError(where, `${operator} takes a ${expected}`);
  if (typeof raw.Next !== 'string') throw new DefinitionError(where, 'needs Next');
  return {
    variable: compilePath(raw.Variable, `${where} Variable`, false),
    operator: operator as Operator,
    operand: operand as boolean | string | number,
    next: raw.Next,
  };
}

// ---- evaluation -------------------------------------------------------------------------------

/** An error a state raises: matched by Retry and Catch by name unless it is a States.Runtime. */
class StateError extends Error {
  /** False for States.Runtime: Step Functions neither retries nor catches it. */
  readonly catchable: boolean;
  constructor(name: string, message: string, catchable = true) {
    super(message);
    this.name = name;
    this.catchable = catchable;
  }
}

const runtimeError = (message: string) => new StateError('States.Runtime', message, false);

function read(path: Path, input: unknown, context: unknown): unknown {
  let value = path.context ? context : input;
  for (const segment of path.segments) {
    if (!isObject(value) || !Object.hasOwn(value, segment)) return undefined;
    value = value[segment];
  }
  return value;
}

function readDefined(path: Path, input: unknown, context: unknown): unknown {
  const value = read(path, input, context);
  if (value === undefined) throw runtimeError(`path ${path.text} does not point to a value`);
  return value;
}

function evaluate(template: Template, input: unknown, context: unknown): unknown {
  switch (template.kind) {
    case 'value':
      return template.value;
    case 'path':
      return readDefined(template.path, input, context);
    case 'stringToJson': {
      const text = readDefined(template.path, input, context);
      if (typeof text !== 'string')
        throw runtimeError(`States.StringToJson of ${template.path.text}: not a string`);
      try {
        return JSON.parse(text);
      } catch {
        throw runtimeError(`States.StringToJson of ${template.path.text}: not JSON`);
      }
    }
    case 'mathAdd': {
      const value = readDefined(template.path, input, context);
      if (!Number.isInteger(value))
        throw runtimeError(`States.MathAdd of ${template.path.text}: not an integer`);
      return (value as number) + template.add;
    }
    case 'object':
      return Object.fromEntries(template.fields.map(([key, t]) => [key, evaluate(t, input, context)]));
  }
}

/** Writes `result` into a copy of `input` (the input itself is never changed). */
function applyResultPath(resultPath: ResultPath, input: unknown, result: unknown): unknown {
  if (resultPath.kind === 'discard') return input;
  if (resultPath.kind === 'replace') return result;
  const set = (target: unknown, segments: readonly string[]): unknown => {
    const [head, ...rest] = segments;
    if (head === undefined) return result;
    if (!isObject(target)) {
      throw new StateError(
        'States.ResultPathMatchFailure',
        `ResultPath ${resultPath.path.text} cannot be set`,
      );
    }
    return { ...target, [head]: set(Object.hasOwn(target, head) ? target[head] : {}, rest) };
  };
  return set(input, resultPath.path.segments);
}

function secondsOf(wait: Seconds, input: unknown, min: number): number {
  if ('seconds' in wait) return wait.seconds;
  const value = readDefined(wait.path, input, undefined);
  if (!Number.isInteger(value) || (value as number) < min) {
    throw runtimeError(`${wait.path.text} is ${JSON.stringify(value)}, not an integer >= ${min}`);
  }
  return value as number;
}

function choose(rules: readonly ChoiceRule[], input: unknown): string | undefined {
  for (const rule of rules) {
    const value = read(rule.variable, input, undefined);
    if (rule.operator === 'IsPresent') {
      if ((value !== undefined) === rule.operand) return rule.next;
      continue;
    }
    if (value === undefined) throw runtimeError(`Choice Variable ${rule.variable.text} names no value`);
    if (matchesRule(rule, value)) return rule.next;
  }
  return undefined;
}

function matchesRule(rule: ChoiceRule, value: unknown): boolean {
  if (typeof value !== typeof rule.operand) return false;
  switch (rule.operator) {
    case 'NumericLessThan':
      return (value as number) < (rule.operand as number);
    case 'NumericLessThanEquals':
      return (value as number) <= (rule.operand as number);
    case 'NumericGreaterThan':
      return (value as number) > (rule.operand as number);
    case 'NumericGreaterThanEquals':
      return (value as number) >= (rule.operand as number);
    default:
      return value === rule.operand;
  }
}

function errorMatches(errorEquals: readonly string[], error: StateError): boolean {
  if (!error.catchable) return false;
  return errorEquals.some(
    (name) =>
      name === error.name ||
      name === 'States.ALL' ||
      (name === 'States.TaskFailed' && error.name !== 'States.Timeout'),
  );
}

/** What crosses the Lambda boundary is JSON: no shared objects, no undefined fields. */
function viaJson(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

function asStateError(error: unknown): StateError {
  if (error instanceof StateError) return error;
  if (error instanceof Error) return new StateError(error.name || 'Error', error.message);
  return new StateError('Error', String(error));
}

/** Per topology and function ARN: its failover definition compiled (a campaign builds a world per schedule). */
const failoverMachines = new WeakMap<Topology, Map<string, CompiledMachine>>();

/** The topology's failover definition compiled, once: a compiled machine is read, never changed. */
function failoverMachine(topology: Topology, functionArn: string): CompiledMachine {
  let byArn = failoverMachines.get(topology);
  if (!byArn) {
    byArn = new Map();
    failoverMachines.set(topology, byArn);
  }
  let machine = byArn.get(functionArn);
  if (!machine) {
    machine = compileDefinition(loadFailoverDefinition(topology, functionArn), functionArn);
    byArn.set(functionArn, machine);
  }
  return machine;
}

// ---- executions -------------------------------------------------------------------------------

/** Rejects an execution's pending awaits when it is aborted. */
const ABORTED: unique symbol = Symbol('aborted');

interface Execution {
  readonly id: string;
  readonly coordinator: string;
  readonly input: { readonly failover_id: string; readonly coordinator: string };
  readonly path: string[];
  readonly startedAt: number;
  readonly tokens: Set<string>;
  readonly timers: Set<() => void>;
  /** Never resolves; rejects with ABORTED when the execution is aborted. */
  readonly aborting: Promise<never>;
  readonly abort: () => void;
  aborted: boolean;
  outcome?: SimExecutionOutcome;
  done: Promise<SimExecutionOutcome>;
}

interface PendingApproval {
  readonly resolve: (output: unknown) => void;
  readonly reject: (error: Error) => void;
}

type TaskState = Extract<CompiledState, { type: 'Task' }>;

export class SimWorkflow implements WorkflowPort {
  readonly #options: SimWorkflowOptions;
  readonly #kernel: SimKernel;
  readonly #machine: CompiledMachine;
  readonly #functionArn: string;
  readonly #executions = new Map<string, Execution>();
  readonly #approvals = new Map<string, PendingApproval>();
  #tokens = 0;
  #closed = false;

  constructor(options: SimWorkflowOptions) {
    this.#options = options;
    this.#kernel = options.kernel;
    this.#functionArn = options.functionArn ?? SIM_FAILOVER_FUNCTION_ARN;
    this.#machine =
      options.definition === undefined
        ? failoverMachine(options.topology, this.#functionArn)
        : compileDefinition(options.definition, this.#functionArn);
  }

  async startFailover(input: { readonly failover_id: string; readonly coordinator: string }): Promise<void> {
    if (this.#closed) throw new Error('SimWorkflow is closed');
    const id = input.failover_id;
    if (this.#holdsName(input.coordinator, id)) return;
    const deps = this.#options.depsFor(input.coordinator);
    const record = await deps.state.getFailover(id);
    // A final record ran before: nothing to start. An execution that ended while its record stayed
    // active (its last writes failed: the state was unavailable) is run again, as the Step Functions
    // adapter starts a new execution under the next name: the record is the progress.
    if (record && !isActive(record)) return;
    if (this.#holdsName(input.coordinator, id)) return;
    this.#start(id, input.coordinator, deps);
  }

  /**
   * A running execution holds the failover. An aborted one does not (its process died: a restart
   * resumes the failover from its record), nor does one that ended (a start runs it again when its
   * record is still active).
   */
  #holdsName(coordinator: string, id: string): boolean {
    const execution = this.#executions.get(executionKey(coordinator, id));
    return execution !== undefined && !execution.aborted && execution.outcome === undefined;
  }

  /** The latest execution named `failoverId`, in whichever region it ran. */
  #latest(failoverId: string): Execution | undefined {
    let found: Execution | undefined;
    for (const execution of this.#executions.values()) if (execution.id === failoverId) found = execution;
    return found;
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

  /** Resolves when the (latest) execution of `failoverId` has ended (started by this workflow). */
  settled(failoverId: string): Promise<SimExecutionOutcome> {
    const execution = this.#latest(failoverId);
    if (!execution) return Promise.reject(new NotFoundError('execution', failoverId));
    return execution.done;
  }

  /** The outcome of an execution that has ended; undefined while it runs or when there is none. */
  outcome(failoverId: string): SimExecutionOutcome | undefined {
    return this.#latest(failoverId)?.outcome;
  }

  /** Ids of the executions still running. */
  running(): string[] {
    return [...this.#executions.values()].filter((e) => !e.outcome).map((e) => e.id);
  }

  /**
   * Aborts one execution (its coordinator's process died): it stops before its next state and never
   * calls the function again. False when it is not running.
   */
  abort(failoverId: string): boolean {
    let stopped = false;
    for (const execution of this.#executions.values()) {
      if (execution.id !== failoverId || execution.outcome) continue;
      execution.abort();
      stopped = true;
    }
    return stopped;
  }

  /** Aborts the running executions `regionId` coordinates (its process died); answers their ids. */
  abortCoordinatedBy(regionId: string): string[] {
    const stopped = [...this.#executions.values()].filter((e) => !e.outcome && e.coordinator === regionId);
    for (const execution of stopped) execution.abort();
    return stopped.map((e) => e.id);
  }

  /** Aborts every running execution (approvals waiting are dropped) and waits for them to end. */
  async close(): Promise<void> {
    this.#closed = true;
    const running = [...this.#executions.values()].filter((e) => !e.outcome);
    for (const execution of running) execution.abort();
    await Promise.all(running.map((e) => e.done));
  }

  #start(id: string, coordinator: string, deps: ControlDeps): void {
    const invoke = (this.#options.invokerFor ?? defaultInvoker)(deps);
    let rejectAborting: (reason: unknown) => void = () => {};
    const aborting = new Promise<never>((_, reject) => {
      rejectAborting = reject;
    });
    // Raced against every wait; nobody awaits it alone.
    aborting.catch(() => undefined);
    const execution: Execution = {
      id,
      coordinator,
      input: { failover_id: id, coordinator },
      path: [],
      startedAt: this.#kernel.now(),
      tokens: new Set(),
      timers: new Set(),
      aborting,
      aborted: false,
      abort: () => {
        if (execution.aborted) return;
        execution.aborted = true;
        // Ended now, not when its pending awaits unwind: outcome() and running() tell at once.
        this.#end(execution, { status: 'aborted' });
        rejectAborting(ABORTED);
      },
      done: undefined as unknown as Promise<SimExecutionOutcome>,
    };
    if (this.#machine.timeoutSeconds !== undefined) {
      // Cancelled with the execution's other timers when it ends first.
      this.#timer(execution, this.#machine.timeoutSeconds * 1000, () => {
        if (execution.outcome) return;
        execution.aborted = true;
        this.#end(execution, {
          status: 'failed',
          error: 'States.Timeout',
          cause: 'execution TimeoutSeconds',
        });
        rejectAborting(ABORTED);
      });
    }
    // StartExecution returns before the first state runs: the run begins as an event of its own.
    execution.done = this.#race(execution, new Promise<void>((resolve) => this.#timer(execution, 0, resolve)))
      .then(() => this.#execute(execution, invoke))
      .catch((error: unknown) => this.#uncaught(execution, error));
    this.#executions.set(executionKey(coordinator, id), execution);
  }

  async #execute(execution: Execution, invoke: TaskInvoker): Promise<SimExecutionOutcome> {
    let name = this.#machine.startAt;
    let input: unknown = execution.input;
    for (;;) {
      if (execution.aborted) return this.#end(execution, { status: 'aborted' });
      const state = this.#machine.states.get(name) as CompiledState;
      execution.path.push(name);
      let next: string | undefined;
      switch (state.type) {
        case 'Pass':
          input = applyResultPath(
            state.resultPath,
            input,
            state.parameters ? evaluate(state.parameters, input, this.#context(execution, name)) : input,
          );
          next = state.next;
          break;
        case 'Task': {
          const ran = await this.#task(execution, name, state, input, invoke);
          input = ran.output;
          next = ran.next;
          break;
        }
        case 'Choice':
          next = choose(state.rules, input) ?? state.default;
          if (next === undefined) {
            throw new StateError('States.NoChoiceMatched', `no choice of ${name} matched`, false);
          }
          break;
        case 'Wait':
          await this.#sleep(execution, secondsOf(state.wait, input, 0) * 1000);
          next = state.next;
          break;
        case 'Succeed':
          return this.#end(execution, { status: 'succeeded', output: input });
        case 'Fail':
          return this.#end(execution, {
            status: 'failed',
            ...(state.error === undefined ? {} : { error: state.error }),
            ...(state.cause === undefined ? {} : { cause: state.cause }),
          });
      }
      if (next === undefined) return this.#end(execution, { status: 'succeeded', output: input });
      name = next;
    }
  }

  /** Runs a Task with its retries; answers the output and the next state, or throws what it did not catch. */
  async #task(
    execution: Execution,
    name: string,
    state: TaskState,
    input: unknown,
    invoke: TaskInvoker,
  ): Promise<{ output: unknown; next: string | undefined }> {
    const attempts = state.retry.map(() => 0);
    for (let retryCount = 0; ; retryCount += 1) {
      // An aborted execution never calls the function again.
      if (execution.aborted) throw ABORTED;
      try {
        const result = await this.#attempt(execution, name, state, input, invoke, retryCount);
        return { output: applyResultPath(state.resultPath, input, result), next: state.next };
      } catch (thrown) {
        if (thrown === ABORTED) throw thrown;
        const error = asStateError(thrown);
        const index = state.retry.findIndex((r) => errorMatches(r.errorEquals, error));
        const retrier = state.retry[index];
        // The first retrier that matches decides; when its attempts are spent, Catch takes over.
        if (retrier && (attempts[index] as number) < retrier.maxAttempts) {
          const intervalMs =
            retrier.intervalSeconds * retrier.backoffRate ** (attempts[index] as number) * 1000;
          attempts[index] = (attempts[index] as number) + 1;
          await this.#sleep(
            execution,
            Math.round(retrier.fullJitter ? this.#kernel.random() * intervalMs : intervalMs),
          );
          continue;
        }
        const catcher = state.catch.find((c) => errorMatches(c.errorEquals, error));
        if (!catcher) throw error;
        return {
          output: applyResultPath(catcher.resultPath, input, { Error: error.name, Cause: error.message }),
          next: catcher.next,
        };
      }
    }
  }

  /** One call of the function (and, for `.waitForTaskToken`, the wait for its answer) within the timeout. */
  async #attempt(
    execution: Execution,
    name: string,
    state: TaskState,
    input: unknown,
    invoke: TaskInvoker,
    retryCount: number,
  ): Promise<unknown> {
    const token = state.waitForToken ? `sim-task-token:${execution.id}:${++this.#tokens}` : undefined;
    const effective = state.parameters
      ? evaluate(state.parameters, input, this.#context(execution, name, retryCount, token))
      : input;
    // Step Functions reads TimeoutSecondsPath from the state's input, before Parameters.
    const timeoutSeconds = state.timeout ? secondsOf(state.timeout, input, 1) : undefined;
    const latency = this.#options.invokeLatencyMs?.() ?? this.#kernel.int(50, 400);
    const call = this.#sleep(execution, latency).then(() =>
      token === undefined
        ? callFunction(invoke, effective)
        : this.#awaitToken(execution, invoke, (effective as { Payload?: unknown }).Payload, token),
    );
    let cancelTimeout = () => {};
    const timeout = new Promise<never>((_, reject) => {
      if (timeoutSeconds === undefined) return;
      cancelTimeout = this.#timer(execution, timeoutSeconds * 1000, () =>
        reject(new StateError('States.Timeout', 'States.Timeout')),
      );
    });
    try {
      return await this.#race(execution, Promise.race([call, timeout]));
    } finally {
      // The function may still be running (Lambda is not stopped by a timeout); its answer is dropped.
      cancelTimeout();
      if (token !== undefined) {
        this.#approvals.delete(token);
        execution.tokens.delete(token);
      }
    }
  }

  /** `.waitForTaskToken`: register, invoke with the token in the payload, wait for the answer. */
  async #awaitToken(execution: Execution, invoke: TaskInvoker, payload: unknown, token: string) {
    const answer = new Promise<unknown>((resolve, reject) => {
      this.#approvals.set(token, { resolve, reject });
    });
    execution.tokens.add(token);
    // Awaited below; without this a decline that arrives while the function runs is "unhandled".
    answer.catch(() => undefined);
    await callFunction(invoke, payload);
    return answer;
  }

  #context(execution: Execution, name: string, retryCount = 0, token?: string) {
    return {
      Execution: {
        Id: `arn:aws:states:sim:000000000000:execution:${STATE_MACHINE_NAME}:${execution.id}`,
        Name: execution.id,
        Input: execution.input,
        StartTime: isoTime(execution.startedAt),
      },
      StateMachine: {
        Id: `arn:aws:states:sim:000000000000:stateMachine:${STATE_MACHINE_NAME}`,
        Name: STATE_MACHINE_NAME,
      },
      State: { Name: name, EnteredTime: isoTime(this.#kernel.now()), RetryCount: retryCount },
      ...(token === undefined ? {} : { Task: { Token: token } }),
    };
  }

  /** Schedules `run` on the kernel unless the execution is aborted first; returns its cancel. */
  #timer(execution: Execution, delayMs: number, run: () => void): () => void {
    const cancel = this.#kernel.at(delayMs, () => {
      execution.timers.delete(cancel);
      run();
    });
    execution.timers.add(cancel);
    return () => {
      execution.timers.delete(cancel);
      cancel();
    };
  }

  #sleep(execution: Execution, ms: number): Promise<void> {
    if (ms <= 0) return this.#race(execution, Promise.resolve());
    return this.#race(execution, new Promise<void>((resolve) => this.#timer(execution, ms, resolve)));
  }

  #race<T>(execution: Execution, promise: Promise<T>): Promise<T> {
    return Promise.race([promise, execution.aborting]);
  }

  #end(
    execution: Execution,
    end: Pick<SimExecutionOutcome, 'status' | 'error' | 'cause' | 'output'>,
  ): SimExecutionOutcome {
    // The first end wins: an abort ends an execution before its pending awaits unwind.
    if (execution.outcome) return execution.outcome;
    const outcome: SimExecutionOutcome = {
      failover_id: execution.id,
      ...end,
      path: [...execution.path],
      started_at: execution.startedAt,
      ended_at: this.#kernel.now(),
    };
    execution.outcome = outcome;
    for (const cancel of execution.timers) cancel();
    execution.timers.clear();
    for (const token of execution.tokens) this.#approvals.delete(token);
    execution.tokens.clear();
    return outcome;
  }

  /** An error no state handled (or one of the interpreter itself): the execution fails with it. */
  #uncaught(execution: Execution, thrown: unknown): SimExecutionOutcome {
    if (thrown === ABORTED) return this.#end(execution, { status: 'aborted' });
    const error = asStateError(thrown);
    this.#options.log?.(`failover ${execution.id}: execution failed with ${error.name}: ${error.message}`);
    return this.#end(execution, { status: 'failed', error: error.name, cause: error.message });
  }
}

function callFunction(invoke: TaskInvoker, payload: unknown): Promise<unknown> {
  return Promise.resolve()
    .then(() => invoke(viaJson(payload)))
    .then(viaJson);
}

function defaultInvoker(deps: ControlDeps): TaskInvoker {
  return (event) => runFailoverAction(deps, event as FailoverTaskEvent);
}
