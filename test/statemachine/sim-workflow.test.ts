/**
 * The simulator's ASL interpreter (SimWorkflow, on virtual time) cross-checked against
 * aws-local-stepfunctions (LocalWorkflow, on real timers) on the real statemachines/failover.asl.json:
 * both run the same scripted failover function (each action answers from a script: succeed, "not
 * done, wait N s" for the polling actions, throw a named error, an approval answered or not) and must
 * walk the same state path, call the function with the same events and end the same way.
 *
 * LocalWorkflow runs at SPEED (its Wait states and retry pauses are scaled); its Task timeouts stay
 * in real time, so the topology here makes the approval window and the detection phase 1 s.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ExecutionOutcome, LocalWorkflow } from '../../lib/adapters/local/workflow.ts';
import type { ControlDeps } from '../../lib/app/deps.ts';
import type { FailoverActionResult, FailoverTaskEvent } from '../../lib/app/failover/actions.ts';
import { loadFailoverDefinition } from '../../lib/app/failover/definition.ts';
import { failoverTimings } from '../../lib/app/failover/timings.ts';
import { failoverWorkflowBounds } from '../../lib/app/failover/workflow-bounds.ts';
import { NotFoundError } from '../../lib/core/errors.ts';
import type { FailoverAction, FailoverRecord, FailoverStatus } from '../../lib/core/failover/types.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { createLocalWorkflow } from '../../lib/runtime/local-workflow.ts';
import { createKernel, type SimKernel } from '../../lib/sim/kernel.ts';
import { SIM_FAILOVER_FUNCTION_ARN, type SimExecutionOutcome, SimWorkflow } from '../../lib/sim/workflow.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';

/** Simulated ms per real ms for LocalWorkflow: a 10 s drain poll takes 10 ms. */
const SPEED = 1000;
const ID = 'fo-sim-1';
const COORDINATOR = 'eu-west-1';
/** Long enough for any execution here to end (the operator window is 24 h). */
const HORIZON_MS = 48 * 3600_000;

function testTopology(): Topology {
  const json = defaultTopologyJson();
  json.failover_policies.automatic_failover.decision_timeout_seconds = 1;
  json.failover_policies.failover_sequence.find(
    (s: { step: string }) => s.step === 'detection',
  ).timeout_seconds = 1;
  return validateTopology(json);
}

const topology = testTopology();
const timings = failoverTimings(topology);

// ---- the scripted failover function ----------------------------------------------------------------

type Reply =
  | { readonly kind: 'ok'; readonly result?: Partial<FailoverActionResult> }
  | { readonly kind: 'throw'; readonly name: string }
  /** await_approval / await_operator: answers the task token after `seconds` (virtual). */
  | { readonly kind: 'answer'; readonly approved: boolean; readonly seconds: number }
  /** Never answers (the task token, or the call itself). */
  | { readonly kind: 'hang' };

/** Each call of an action takes the next reply; once they are used up, the action's default. */
type Script = Partial<Record<FailoverAction, readonly Reply[]>>;

const ok = (result: Partial<FailoverActionResult> = {}): Reply => ({ kind: 'ok', result });
const fail = (name: string): Reply => ({ kind: 'throw', name });
const poll = (seconds: number): Reply => ok({ done: false, wait_seconds: seconds });
const approve = (seconds = 0.25): Reply => ({ kind: 'answer', approved: true, seconds });
const decline = (seconds = 0.25): Reply => ({ kind: 'answer', approved: false, seconds });
const silent: Reply = { kind: 'answer', approved: true, seconds: Number.POSITIVE_INFINITY };
const hang: Reply = { kind: 'hang' };

/** The task token is per execution locally and per attempt in the simulator: compared as a placeholder. */
interface Call {
  readonly action: FailoverAction;
  readonly event: FailoverTaskEvent;
  /** Virtual ms since the start (simulator only). */
  readonly at?: number;
}

/** What the real actions answer when the script says nothing: everything succeeds at once. */
function defaultReply(event: FailoverTaskEvent): Partial<FailoverActionResult> {
  if (event.action === 'rollback') {
    const cancelled = ['ApprovalDeclined', 'FailureNotConfirmed'].includes(event.error?.Error ?? '');
    return { status: (cancelled ? 'cancelled' : 'rolled_back') satisfies FailoverStatus };
  }
  if (event.action === 'complete') return { status: event.outcome === 'failed' ? 'failed' : 'completed' };
  if (event.action === 'await_approval' || event.action === 'await_operator') return { waiting: true };
  return { done: true, wait_seconds: 0, approval_required: false, operator_required: false };
}

interface ScriptRuntime {
  readonly later: (ms: number, run: () => void) => void;
  readonly answer: (token: string, approved: boolean) => Promise<void>;
  readonly now?: () => number;
}

function scripted(script: Script, runtime: ScriptRuntime) {
  const calls: Call[] = [];
  const used = new Map<FailoverAction, number>();
  const start = runtime.now?.();
  const invoke = async (raw: unknown): Promise<unknown> => {
    const event = raw as FailoverTaskEvent;
    const n = used.get(event.action) ?? 0;
    used.set(event.action, n + 1);
    calls.push({
      action: event.action,
      event: event.task_token === undefined ? event : { ...event, task_token: '<token>' },
      ...(runtime.now && start !== undefined ? { at: runtime.now() - start } : {}),
    });
    const reply = script[event.action]?.[n] ?? ok();
    const result = {
      action: event.action,
      failover_id: event.failover_id,
      outcome: 'succeeded',
      detail: 'scripted',
      ...defaultReply(event),
    };
    switch (reply.kind) {
      case 'throw': {
        const error = new Error(`scripted ${reply.name} in ${event.action}`);
        error.name = reply.name;
        throw error;
      }
      case 'hang':
        return new Promise(() => {});
      case 'answer': {
        const token = event.task_token;
        if (!token) throw new Error(`${event.action} got no task token`);
        if (Number.isFinite(reply.seconds)) {
          // A token nobody waits on any more (timed out) is not the script's concern.
          runtime.later(
            reply.seconds * 1000,
            () => void runtime.answer(token, reply.approved).catch(() => {}),
          );
        }
        return { ...result, outcome: 'waiting', waiting: true };
      }
      default:
        return { ...result, ...reply.result };
    }
  };
  return { invoke, calls };
}

// ---- the two workflows under the same script -------------------------------------------------------

/** ControlDeps as far as a workflow reads them: the failover record in the coordinator's replica. */
function depsWith(records: Map<string, FailoverRecord>) {
  return (regionId: string) =>
    ({
      regionId,
      topology,
      state: { getFailover: async (id: string) => records.get(id) },
    }) as unknown as ControlDeps;
}

const running = (id = ID) => ({ failover_id: id, status: 'running' }) as unknown as FailoverRecord;

interface Run {
  readonly outcome: ExecutionOutcome;
  readonly calls: readonly Call[];
}

const openLocal: LocalWorkflow[] = [];

afterEach(async () => {
  for (const workflow of openLocal.splice(0)) await workflow.close();
});

/** Every local execution ends within a deadline: a stuck wait fails the test, not the suite. */
async function withDeadline<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function runLocal(script: Script): Promise<Run> {
  let workflow: LocalWorkflow | undefined;
  const fn = scripted(script, {
    later: (ms, run) => setTimeout(run, ms / SPEED),
    answer: (token, approved) => (workflow as LocalWorkflow).answerApproval(token, approved),
  });
  workflow = createLocalWorkflow({
    topology,
    depsFor: depsWith(new Map([[ID, running()]])),
    invokerFor: () => fn.invoke,
    speed: SPEED,
  });
  openLocal.push(workflow);
  await workflow.startFailover({ failover_id: ID, coordinator: COORDINATOR });
  const outcome = await withDeadline(workflow.settled(ID), `local execution ${ID}`);
  return { outcome, calls: fn.calls };
}

interface SimRun extends Run {
  readonly outcome: SimExecutionOutcome;
  readonly kernel: SimKernel;
  readonly workflow: SimWorkflow;
}

function simHarness(script: Script, seed = 7, records = new Map([[ID, running()]])) {
  const kernel = createKernel({ seed });
  let workflow: SimWorkflow | undefined;
  const fn = scripted(script, {
    later: (ms, run) => kernel.at(ms, run),
    answer: (token, approved) => (workflow as SimWorkflow).answerApproval(token, approved),
    now: () => kernel.now(),
  });
  workflow = new SimWorkflow({
    kernel,
    topology,
    depsFor: depsWith(records),
    invokerFor: () => fn.invoke,
    // Compared step for step with aws-local-stepfunctions, which invokes at once.
    invokeLatencyMs: () => 0,
  });
  return { kernel, workflow, calls: fn.calls, records };
}

async function runSim(script: Script, seed = 7): Promise<SimRun> {
  const { kernel, workflow, calls } = simHarness(script, seed);
  await workflow.startFailover({ failover_id: ID, coordinator: COORDINATOR });
  await kernel.run(kernel.now() + HORIZON_MS);
  const outcome = workflow.outcome(ID);
  if (!outcome) throw new Error(`simulated execution ${ID} still runs after ${HORIZON_MS} ms`);
  expect(workflow.running()).toEqual([]);
  return { outcome, calls, kernel, workflow };
}

const withoutTimes = (calls: readonly Call[]) => calls.map(({ action, event }) => ({ action, event }));

/** Runs both and asserts they agree; answers the simulator's run for further checks. */
async function crossCheck(script: Script): Promise<SimRun> {
  const local = await runLocal(script);
  const sim = await runSim(script);
  expect(sim.outcome.path).toEqual(local.outcome.path);
  expect(sim.outcome.status).toBe(local.outcome.status);
  expect(sim.outcome.error).toBe(local.outcome.error);
  expect(withoutTimes(sim.calls)).toEqual(withoutTimes(local.calls));
  return sim;
}

const actions = (calls: readonly Call[]) => calls.map((c) => c.action);
const callsOf = (calls: readonly Call[], action: FailoverAction) => calls.filter((c) => c.action === action);

const DETECTION = ['Configure', 'VerifyFailure', 'AssessImpact', 'NotifyOperators', 'ApprovalRequired'];
const PREPARATION = ['IdentifyTargetRegion', 'TargetFound', 'VerifyTargetCapacity', 'PrepareDataSync'];
const EXECUTION = [
  'DrainConnections',
  'Drained',
  'SyncCriticalState',
  'Synced',
  'UpdateDnsRouting',
  'RedirectTraffic',
];
const VALIDATION = [
  'VerifyHealth',
  'Promoted',
  'ValidateFunctionality',
  'MonitorMetrics',
  'Complete',
  'Completed',
];
const HAPPY_PATH = [...DETECTION, ...PREPARATION, ...EXECUTION, ...VALIDATION];

describe('SimWorkflow walks the failover definition as aws-local-stepfunctions does', () => {
  it('the happy path: every step once, in the definition order, to Completed', async () => {
    // Invariant: the interpreter follows the ASL's Next/Choice/Default wiring, not a copy of the flow.
    const sim = await crossCheck({});
    expect(sim.outcome.path).toEqual(HAPPY_PATH);
    expect(sim.outcome.status).toBe('succeeded');
    expect(actions(sim.calls)).toEqual([
      'verify_failure',
      'assess_impact',
      'notify_operators',
      'identify_target_region',
      'verify_target_capacity',
      'prepare_data_sync',
      'drain_connections',
      'sync_critical_state',
      'update_dns_routing',
      'redirect_traffic',
      'verify_health',
      'validate_functionality',
      'monitor_metrics',
      'complete',
    ]);
    expect(sim.calls[0]?.event).toEqual({ action: 'verify_failure', failover_id: ID });
  });

  it('by default each Task starts its function 50 to 400 ms of virtual time after the state is entered', async () => {
    // Invariant: the orchestration takes virtual time as Step Functions and Lambda do, so what the
    // campaigns and the logic tests measure of it is not zero by construction.
    const kernel = createKernel({ seed: 3 });
    let workflow: SimWorkflow | undefined;
    const fn = scripted(
      {},
      {
        later: (ms, run) => kernel.at(ms, run),
        answer: (token, approved) => (workflow as SimWorkflow).answerApproval(token, approved),
        now: () => kernel.now(),
      },
    );
    workflow = new SimWorkflow({
      kernel,
      topology,
      depsFor: depsWith(new Map([[ID, running()]])),
      invokerFor: () => fn.invoke,
    });
    const start = kernel.now();
    await workflow.startFailover({ failover_id: ID, coordinator: 'eu-west-1' });
    await kernel.run(start + 60 * 60_000);
    expect((await workflow.settled(ID)).status).toBe('succeeded');
    const at = fn.calls.map((c) => c.at as number);
    const gaps = at.map((t, i) => t - (i === 0 ? 0 : (at[i - 1] as number)));
    expect(gaps[0]).toBeGreaterThanOrEqual(50);
    expect(gaps[0]).toBeLessThanOrEqual(400);
    // Between two calls with no Wait state between them: one invoke latency.
    const [verify, assess] = callsOf(fn.calls, 'verify_failure').concat(callsOf(fn.calls, 'assess_impact'));
    const gap = (assess?.at as number) - (verify?.at as number);
    expect(gap).toBeGreaterThanOrEqual(50);
    expect(gap).toBeLessThanOrEqual(400);
  });

  it('the drain, sync and promotion polling loops wait the answered seconds of virtual time', async () => {
    // Invariant: Wait (SecondsPath) loops back to the polling Task and costs exactly that virtual time.
    const drain = timings.drain_poll_seconds;
    const sync = timings.sync_poll_seconds;
    const promotion = timings.promotion_poll_seconds;
    const sim = await crossCheck({
      drain_connections: [poll(drain), poll(drain)],
      sync_critical_state: [poll(sync)],
      verify_health: [poll(promotion)],
    });
    expect(sim.outcome.path).toEqual([
      ...DETECTION,
      ...PREPARATION,
      ...['DrainConnections', 'Drained', 'CountDrainPoll', 'DrainWait'],
      ...['DrainConnections', 'Drained', 'CountDrainPoll', 'DrainWait'],
      ...['DrainConnections', 'Drained', 'SyncCriticalState', 'Synced', 'CountSyncPoll', 'SyncWait'],
      ...['SyncCriticalState', 'Synced', 'UpdateDnsRouting', 'RedirectTraffic'],
      ...['VerifyHealth', 'Promoted', 'CountPromotionPoll', 'PromotionWait'],
      ...VALIDATION,
    ]);
    const gaps = (action: FailoverAction) => {
      const at = callsOf(sim.calls, action).map((c) => c.at as number);
      return at.slice(1).map((t, i) => t - (at[i] as number));
    };
    expect(gaps('drain_connections')).toEqual([drain * 1000, drain * 1000]);
    expect(gaps('sync_critical_state')).toEqual([sync * 1000]);
    expect(gaps('verify_health')).toEqual([promotion * 1000]);
    expect(sim.outcome.ended_at - sim.outcome.started_at).toBe((2 * drain + sync + promotion) * 1000);
  });

  it('a TransientError is retried with jittered backoff, then the step succeeds', async () => {
    // Invariant: Retry re-runs the same state (no new state entered) within IntervalSeconds x BackoffRate^n.
    const sim = await crossCheck({ verify_failure: [fail('TransientError'), fail('TransientError')] });
    expect(sim.outcome.path).toEqual(HAPPY_PATH);
    const at = callsOf(sim.calls, 'verify_failure').map((c) => c.at as number);
    expect(at).toHaveLength(3);
    const [first, second, third] = at as [number, number, number];
    expect(second - first).toBeLessThanOrEqual(1000);
    expect(third - second).toBeLessThanOrEqual(2000);
    // Same seed, same jitter: the simulator replays.
    const again = await runSim({ verify_failure: [fail('TransientError'), fail('TransientError')] });
    expect(again.calls.map((c) => c.at)).toEqual(sim.calls.map((c) => c.at));
  });

  it('a TransientError past MaxAttempts is caught by States.ALL and rolls back', async () => {
    // Invariant: when the matching retrier's attempts are spent, Catch takes over (1 call + 3 retries).
    const sim = await crossCheck({ verify_failure: Array(4).fill(fail('TransientError')) });
    expect(sim.outcome.path).toEqual([
      'Configure',
      'VerifyFailure',
      'Rollback',
      'RollbackOutcome',
      'RolledBack',
    ]);
    expect(callsOf(sim.calls, 'verify_failure')).toHaveLength(4);
    expect(sim.outcome.error).toBe('FailoverRolledBack');
  });

  it('a TargetRegionFailure is caught, Rollback gets the error, and the execution ends RolledBack', async () => {
    // Invariant: Catch matches the Lambda error type by name and hands { Error, Cause } to Rollback.
    const sim = await crossCheck({ verify_target_capacity: [fail('TargetRegionFailure')] });
    expect(sim.outcome.path).toEqual([
      ...DETECTION,
      'IdentifyTargetRegion',
      'TargetFound',
      'VerifyTargetCapacity',
      'Rollback',
      'RollbackOutcome',
      'RolledBack',
    ]);
    expect(sim.outcome).toMatchObject({ status: 'failed', error: 'FailoverRolledBack' });
    expect(callsOf(sim.calls, 'rollback')[0]?.event.error).toEqual({
      Error: 'TargetRegionFailure',
      Cause: 'scripted TargetRegionFailure in verify_target_capacity',
    });
  });

  it('a step that never answers times out (States.Timeout) after its phase budget and rolls back', async () => {
    // Invariant: TimeoutSecondsPath reads the Configure state's numbers; the timeout is virtual time.
    const sim = await crossCheck({ assess_impact: [hang] });
    expect(sim.outcome.path).toEqual([
      'Configure',
      'VerifyFailure',
      'AssessImpact',
      'Rollback',
      'RollbackOutcome',
      'RolledBack',
    ]);
    expect(callsOf(sim.calls, 'rollback')[0]?.event.error?.Error).toBe('States.Timeout');
    const rollbackAt = callsOf(sim.calls, 'rollback')[0]?.at;
    expect(rollbackAt).toBe(timings.phase_timeout_seconds.detection * 1000);
  });

  describe('manual approval (.waitForTaskToken)', () => {
    const approval: Script = { notify_operators: [ok({ approval_required: true })] };

    it('approved: the approval task resolves and the failover goes on', async () => {
      // Invariant: the token reaches the function in the payload; answerApproval(token, true) resumes.
      const sim = await crossCheck({ ...approval, await_approval: [approve()] });
      expect(sim.outcome.path).toEqual([
        ...DETECTION,
        'AwaitApproval',
        ...PREPARATION,
        ...EXECUTION,
        ...VALIDATION,
      ]);
      expect(callsOf(sim.calls, 'await_approval')[0]?.event.task_token).toBe('<token>');
    });

    it('declined: ApprovalDeclined is caught and the failover is cancelled', async () => {
      // Invariant: a decline fails the task with ApprovalDeclined (caught like any step error).
      const sim = await crossCheck({ ...approval, await_approval: [decline()] });
      expect(sim.outcome.path).toEqual([
        ...DETECTION,
        'AwaitApproval',
        'Rollback',
        'RollbackOutcome',
        'Cancelled',
      ]);
      expect(sim.outcome.status).toBe('succeeded');
      expect(callsOf(sim.calls, 'rollback')[0]?.event.error?.Error).toBe('ApprovalDeclined');
    });

    it('unanswered: the approval window ends in States.Timeout and a rollback', async () => {
      // Invariant: nobody answering is bounded by the approval timeout, on virtual time.
      const sim = await crossCheck({ ...approval, await_approval: [silent] });
      expect(sim.outcome.path).toEqual([
        ...DETECTION,
        'AwaitApproval',
        'Rollback',
        'RollbackOutcome',
        'RolledBack',
      ]);
      expect(callsOf(sim.calls, 'rollback')[0]?.event.error?.Error).toBe('States.Timeout');
      const awaited = callsOf(sim.calls, 'await_approval')[0]?.at as number;
      expect((callsOf(sim.calls, 'rollback')[0]?.at as number) - awaited).toBe(
        timings.approval_timeout_seconds * 1000,
      );
    });
  });

  it('operator_required waits for an operator; approve plans again from IdentifyTargetRegion', async () => {
    // Invariant: the AwaitOperator task loops back to IdentifyTargetRegion, which runs again.
    const sim = await crossCheck({
      identify_target_region: [ok({ operator_required: true })],
      await_operator: [approve(600)],
    });
    expect(sim.outcome.path).toEqual([
      ...DETECTION,
      'IdentifyTargetRegion',
      'TargetFound',
      'OperatorRoundsLeft',
      'AwaitOperator',
      'CountOperatorRound',
      ...PREPARATION,
      ...EXECUTION,
      ...VALIDATION,
    ]);
    expect(callsOf(sim.calls, 'identify_target_region').map((c) => c.at)).toEqual([0, 600_000]);
  });

  describe('every loop ends at its bound (a step that never says done)', () => {
    const bounds = failoverWorkflowBounds(topology);
    const rolledBack = ['Rollback', 'RollbackOutcome', 'RolledBack'];

    it.each([
      ['drain_connections', 'DrainConnections', 'Drained', 'DrainLimitReached', bounds.drain_polls],
      ['sync_critical_state', 'SyncCriticalState', 'Synced', 'SyncLimitReached', bounds.sync_polls],
      ['verify_health', 'VerifyHealth', 'Promoted', 'PromotionLimitReached', bounds.promotion_polls],
    ] as const)(
      '%s: after its most polls, WaitLimitExceeded rolls back',
      async (action, task, choice, limit, polls) => {
        // Invariant: a polling loop waits at most its bound's rounds, then rolls back naming the loop.
        const sim = await crossCheck({ [action]: Array(polls + 5).fill(poll(1)) });
        expect(callsOf(sim.calls, action)).toHaveLength(polls + 1);
        expect(sim.outcome.path.slice(-6)).toEqual([task, choice, limit, ...rolledBack]);
        expect(sim.outcome).toMatchObject({ status: 'failed', error: 'FailoverRolledBack' });
        expect(callsOf(sim.calls, 'rollback')[0]?.event.error).toMatchObject({ Error: 'WaitLimitExceeded' });
        expect(callsOf(sim.calls, 'rollback')[0]?.event.error?.Cause).toContain(action);
      },
    );

    it('await_operator: an approval that frees nothing asks again, at most operator_rounds times', async () => {
      // Invariant: the operator loop (IdentifyTargetRegion -> AwaitOperator) is bounded too.
      const rounds = bounds.operator_rounds;
      const sim = await crossCheck({
        identify_target_region: Array(rounds + 2).fill(ok({ operator_required: true })),
        await_operator: Array(rounds + 2).fill(approve(60)),
      });
      expect(callsOf(sim.calls, 'await_operator')).toHaveLength(rounds);
      expect(callsOf(sim.calls, 'identify_target_region')).toHaveLength(rounds + 1);
      expect(sim.outcome.path.slice(-7)).toEqual([
        'IdentifyTargetRegion',
        'TargetFound',
        'OperatorRoundsLeft',
        'OperatorLimitReached',
        ...rolledBack,
      ]);
      expect(callsOf(sim.calls, 'rollback')[0]?.event.error).toMatchObject({ Error: 'WaitLimitExceeded' });
    });

    it("a wait the step made too long ends at the execution's TimeoutSeconds (virtual time)", async () => {
      // Invariant: no execution outlives its budget, whatever a step answers.
      const seconds = failoverWorkflowBounds(topology).execution_timeout_seconds;
      const { kernel, workflow } = simHarness({ drain_connections: [poll(10 * seconds)] });
      await workflow.startFailover({ failover_id: ID, coordinator: COORDINATOR });
      await kernel.run(kernel.now() + 2 * seconds * 1000);
      const outcome = workflow.outcome(ID);
      expect(outcome).toMatchObject({ status: 'failed', error: 'States.Timeout' });
      expect(outcome?.path.at(-1)).toBe('DrainWait');
      expect((outcome?.ended_at as number) - (outcome?.started_at as number)).toBe(seconds * 1000);
      expect(workflow.running()).toEqual([]);
    });
  });

  it("LocalWorkflow runs a topology whose execution TimeoutSeconds is past Node's longest timer", async () => {
    // Invariant: a 40-day approval window does not make aws-local-stepfunctions time out at once.
    const json = defaultTopologyJson();
    json.failover_policies.automatic_failover.decision_timeout_seconds = 40 * 86_400;
    const long = validateTopology(json);
    expect(failoverWorkflowBounds(long).execution_timeout_seconds * 1000).toBeGreaterThan(2 ** 31);
    // One drain poll: a Wait that outlasts the 1 ms an overflowing timer would fire after.
    const fn = scripted({ drain_connections: [poll(10)] }, { later: () => {}, answer: async () => {} });
    const workflow = createLocalWorkflow({
      topology: long,
      depsFor: depsWith(new Map([[ID, running()]])),
      invokerFor: () => fn.invoke,
      speed: SPEED,
    });
    openLocal.push(workflow);
    await workflow.startFailover({ failover_id: ID, coordinator: COORDINATOR });
    const outcome = await withDeadline(workflow.settled(ID), `local execution ${ID}`);
    expect(outcome).toMatchObject({ status: 'succeeded' });
    expect(outcome.path.at(-1)).toBe('Completed');
  });

  it("the approval window is the topology's decision_timeout_seconds, on virtual time", async () => {
    // Invariant: the window comes from the failover policy through the substitutions, not a constant.
    const json = defaultTopologyJson();
    json.failover_policies.automatic_failover.decision_timeout_seconds = 1800;
    const slow = validateTopology(json);
    const kernel = createKernel({ seed: 11 });
    let workflow: SimWorkflow | undefined;
    const fn = scripted(
      { notify_operators: [ok({ approval_required: true })], await_approval: [silent] },
      {
        later: (ms, run) => kernel.at(ms, run),
        answer: (token, approved) => (workflow as SimWorkflow).answerApproval(token, approved),
        now: () => kernel.now(),
      },
    );
    workflow = new SimWorkflow({
      kernel,
      topology: slow,
      depsFor: (regionId) =>
        ({
          regionId,
          topology: slow,
          state: { getFailover: async () => running() },
        }) as unknown as ControlDeps,
      invokerFor: () => fn.invoke,
      invokeLatencyMs: () => 0,
    });
    await workflow.startFailover({ failover_id: ID, coordinator: COORDINATOR });
    await kernel.run(kernel.now() + HORIZON_MS);
    const awaited = callsOf(fn.calls, 'await_approval')[0]?.at as number;
    const rollback = callsOf(fn.calls, 'rollback')[0];
    expect(rollback?.event.error?.Error).toBe('States.Timeout');
    expect((rollback?.at as number) - awaited).toBe(1800 * 1000);
  });

  it('an error in Rollback is caught and the failover is marked failed (MarkFailed -> Failed)', async () => {
    // Invariant: a rollback that cannot finish never ends silently: MarkFailed records it.
    const sim = await crossCheck({
      verify_target_capacity: [fail('TargetRegionFailure')],
      rollback: [fail('RollbackBroken')],
    });
    expect(sim.outcome.path.slice(-4)).toEqual(['VerifyTargetCapacity', 'Rollback', 'MarkFailed', 'Failed']);
    expect(sim.outcome).toMatchObject({ status: 'failed', error: 'FailoverFailed' });
    const mark = callsOf(sim.calls, 'complete')[0]?.event;
    expect(mark).toMatchObject({ outcome: 'failed', error: { Error: 'RollbackBroken' } });
  });

  it('a Rollback that keeps failing transiently is retried five times, then marked failed', async () => {
    // Invariant: Rollback's own retrier (MaxAttempts 5) is honoured before its Catch.
    const sim = await crossCheck({
      verify_target_capacity: [fail('TargetRegionFailure')],
      rollback: Array(6).fill(fail('TransientError')),
    });
    expect(callsOf(sim.calls, 'rollback')).toHaveLength(6);
    expect(sim.outcome.path.slice(-3)).toEqual(['Rollback', 'MarkFailed', 'Failed']);
  });
});

describe('SimWorkflow as a WorkflowPort', () => {
  it('a second start of a running or finished failover is a no-op', async () => {
    // Invariant: one execution per failover at a time; a finished failover is not run again.
    const { kernel, workflow, calls, records } = simHarness({});
    await workflow.startFailover({ failover_id: ID, coordinator: COORDINATOR });
    await workflow.startFailover({ failover_id: ID, coordinator: COORDINATOR });
    expect(workflow.running()).toEqual([ID]);
    await kernel.run(kernel.now() + HORIZON_MS);
    const first = workflow.outcome(ID);
    // The function's last step wrote the record final.
    records.set(ID, { ...(records.get(ID) as FailoverRecord), status: 'completed' });
    await workflow.startFailover({ failover_id: ID, coordinator: COORDINATOR });
    await kernel.run(kernel.now() + HORIZON_MS);
    expect(callsOf(calls, 'verify_failure')).toHaveLength(1);
    expect(workflow.outcome(ID)).toBe(first);
    await expect(workflow.settled(ID)).resolves.toBe(first);
  });

  it('an execution that ended with its record still active is run again from the record', async () => {
    // Invariant: a failover is never stranded by an execution whose last writes failed (the state
    // was unavailable): a start runs it again, as the Step Functions adapter does under a new name.
    const { kernel, workflow, calls } = simHarness({});
    await workflow.startFailover({ failover_id: ID, coordinator: COORDINATOR });
    await kernel.run(kernel.now() + HORIZON_MS);
    expect(workflow.outcome(ID)?.status).toBe('succeeded');
    await workflow.startFailover({ failover_id: ID, coordinator: COORDINATOR });
    expect(workflow.running()).toEqual([ID]);
    await kernel.run(kernel.now() + HORIZON_MS);
    expect(callsOf(calls, 'verify_failure')).toHaveLength(2);
  });

  it('starting for a record that is no longer active starts nothing', async () => {
    // Invariant: a restart does not run a finished failover again.
    const done = new Map([[ID, { failover_id: ID, status: 'completed' } as unknown as FailoverRecord]]);
    const { kernel, workflow, calls } = simHarness({}, 7, done);
    await workflow.startFailover({ failover_id: ID, coordinator: COORDINATOR });
    await kernel.run(kernel.now() + HORIZON_MS);
    expect(calls).toEqual([]);
    expect(workflow.running()).toEqual([]);
    await expect(workflow.settled(ID)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('close aborts a waiting execution: no further state, no further call, its token answers nothing', async () => {
    // Invariant: an aborted execution stops before its next state and never calls the function again.
    const { kernel, workflow, calls } = simHarness({
      notify_operators: [ok({ approval_required: true })],
      await_approval: [silent],
    });
    await workflow.startFailover({ failover_id: ID, coordinator: COORDINATOR });
    await kernel.run(kernel.now() + 100);
    expect(workflow.running()).toEqual([ID]);
    await workflow.close();
    const outcome = workflow.outcome(ID);
    expect(outcome).toMatchObject({ status: 'aborted', path: [...DETECTION, 'AwaitApproval'] });
    const before = calls.length;
    await kernel.run(kernel.now() + HORIZON_MS);
    expect(calls).toHaveLength(before);
    expect(workflow.running()).toEqual([]);
    await expect(workflow.answerApproval('sim-task-token:fo-sim-1:1', true)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(workflow.startFailover({ failover_id: 'other', coordinator: COORDINATOR })).rejects.toThrow(
      /closed/,
    );
  });

  it('abort during a Wait state stops the drain loop before its next poll', async () => {
    // Invariant: an aborted execution never calls the function again, even after its wait ends.
    const { kernel, workflow, calls } = simHarness({ drain_connections: Array(10).fill(poll(10)) });
    await workflow.startFailover({ failover_id: ID, coordinator: COORDINATOR });
    await kernel.run(kernel.now() + 15_000);
    expect(callsOf(calls, 'drain_connections')).toHaveLength(2);
    expect(workflow.abort(ID)).toBe(true);
    await kernel.run(kernel.now() + HORIZON_MS);
    expect(callsOf(calls, 'drain_connections')).toHaveLength(2);
    expect(workflow.outcome(ID)?.status).toBe('aborted');
    expect(workflow.outcome(ID)?.path.at(-1)).toBe('DrainWait');
    expect(workflow.abort(ID)).toBe(false);
  });

  it("a crashed coordinator's executions stop; a restart resumes the failover as a new execution", async () => {
    // Invariant: an aborted execution frees its name (the process that ran it is gone), a finished one does not.
    const { kernel, workflow, calls } = simHarness({ drain_connections: [poll(10)] });
    await workflow.startFailover({ failover_id: ID, coordinator: COORDINATOR });
    await kernel.run(kernel.now() + 5_000);
    expect(workflow.abortCoordinatedBy('ap-south-1')).toEqual([]);
    expect(workflow.abortCoordinatedBy(COORDINATOR)).toEqual([ID]);
    await kernel.run(kernel.now() + 60_000);
    expect(workflow.outcome(ID)?.status).toBe('aborted');
    const before = calls.length;
    await workflow.startFailover({ failover_id: ID, coordinator: COORDINATOR });
    await kernel.run(kernel.now() + HORIZON_MS);
    expect(workflow.outcome(ID)).toMatchObject({ status: 'succeeded', path: HAPPY_PATH });
    expect(actions(calls.slice(before))[0]).toBe('verify_failure');
  });

  it('starts no real timer: without the kernel running, nothing happens', async () => {
    // Invariant: the simulator's workflow advances only on virtual time.
    const { workflow, calls } = simHarness({});
    await workflow.startFailover({ failover_id: ID, coordinator: COORDINATOR });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toEqual([]);
    expect(workflow.running()).toEqual([ID]);
  });
});

describe('SimWorkflow refuses what it does not interpret', () => {
  const definition = () => JSON.parse(loadFailoverDefinition(topology, SIM_FAILOVER_FUNCTION_ARN));
  const build = (text: string) =>
    new SimWorkflow({
      kernel: createKernel({ seed: 1 }),
      topology,
      depsFor: depsWith(new Map()),
      definition: text,
    });

  it('the real definition compiles', () => {
    // Invariant: everything statemachines/failover.asl.json uses is interpreted.
    expect(() => build(JSON.stringify(definition()))).not.toThrow();
  });

  it('a Map state fails construction, naming the state and its type', () => {
    // Invariant: an unsupported state type is loud at construction, never misread at run time.
    const d = definition();
    d.States.Fanout = { Type: 'Map', ItemsPath: '$.regions', ItemProcessor: {}, Next: 'Completed' };
    expect(() => build(JSON.stringify(d))).toThrow(/state Fanout: Type Map is not supported/);
  });

  it('an unsupported field, comparison or query language fails construction, naming it', () => {
    // Invariant: a field the interpreter would ignore is an error, not a silent difference.
    const withInputPath = definition();
    withInputPath.States.VerifyFailure.InputPath = '$.failover';
    expect(() => build(JSON.stringify(withInputPath))).toThrow(/state VerifyFailure: field InputPath/);

    const withMatches = definition();
    withMatches.States.RollbackOutcome.Choices[0] = {
      Variable: '$.result.status',
      StringMatches: 'canc*',
      Next: 'Cancelled',
    };
    expect(() => build(JSON.stringify(withMatches))).toThrow(
      /RollbackOutcome Choices\[0\]: comparison StringMatches/,
    );

    const jsonata = definition();
    jsonata.QueryLanguage = 'JSONata';
    expect(() => build(JSON.stringify(jsonata))).toThrow(/QueryLanguage JSONata/);

    const maxDelay = definition();
    maxDelay.States.Complete.Retry[0].MaxDelaySeconds = 10;
    expect(() => build(JSON.stringify(maxDelay))).toThrow(/state Complete Retry\[0\]: field MaxDelaySeconds/);

    const otherFunction = definition();
    otherFunction.States.Complete.Resource = 'arn:aws:lambda:sim:000000000000:function:other';
    expect(() => build(JSON.stringify(otherFunction))).toThrow(
      /state Complete: Resource .*not the failover function/,
    );
  });

  it('a dangling Next fails construction', () => {
    // Invariant: every transition of the definition lands on a state.
    const d = definition();
    d.States.Complete.Next = 'Nowhere';
    expect(() => build(JSON.stringify(d))).toThrow(/state Complete: no state Nowhere/);
  });
});

describe('SimWorkflow runs the real failover function by default', () => {
  it('an execution whose record never reaches the replica retries, then ends Failed (TransientError)', async () => {
    // Invariant: the default invoker is runFailoverAction with the coordinator's deps.
    const kernel = createKernel({ seed: 3 });
    const records = new Map([[ID, running()]]);
    const reads: string[] = [];
    const workflow = new SimWorkflow({
      kernel,
      topology,
      depsFor: (regionId) =>
        ({
          regionId,
          topology,
          clock: kernel,
          state: {
            getFailover: async (id: string) => {
              reads.push(id);
              // The workflow's own check sees the record; the function's reads find none.
              return reads.length === 1 ? records.get(id) : undefined;
            },
          },
        }) as unknown as ControlDeps,
    });
    await workflow.startFailover({ failover_id: ID, coordinator: COORDINATOR });
    await kernel.run(kernel.now() + HORIZON_MS);
    expect(workflow.outcome(ID)?.path).toEqual([
      'Configure',
      'VerifyFailure',
      'Rollback',
      'MarkFailed',
      'Failed',
    ]);
    // The start's check, then each call reads the record: verify_failure 1 + 3 retries, rollback
    // 1 + 5, MarkFailed 1 + 3.
    expect(reads).toHaveLength(1 + 4 + 6 + 4);
  });
});
