/**
 * statemachines/failover.asl.json read as data and held to the code: one catcher per Task, the one
 * retry policy in every Retry block, the error names it matches and raises equal to the code's
 * (lib/core/failover/workflow-errors.ts, and the app's StepErrorName), every loop bounded by a
 * counter, and an execution TimeoutSeconds from the topology's failover budget. Executing the
 * definition is sim-workflow.test.ts's and failover.test.ts's job.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  FAILOVER_DEFINITION_PATH,
  failoverDefinitionText,
  failoverSubstitutions,
  loadFailoverDefinition,
} from '../../lib/app/failover/definition.ts';
import type { StepErrorName as AppStepErrorName } from '../../lib/app/failover/shared.ts';
import { failoverTimings } from '../../lib/app/failover/timings.ts';
import { failoverWorkflowBounds } from '../../lib/app/failover/workflow-bounds.ts';
import {
  EXECUTION_FAILURE_NAMES,
  FAILOVER_ERROR_NAMES,
  LAMBDA_SERVICE_ERROR_NAMES,
  RETRY_POLICY,
  ROLLBACK_MAX_ATTEMPTS,
  STEP_ERROR_NAMES,
  STEP_ERRORS,
  type StepErrorName,
  WORKFLOW_ERROR_NAMES,
} from '../../lib/core/failover/workflow-errors.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { defaultTopologyJson, specActivePassiveDeployment } from '../fixtures/topologies.ts';

interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly [field: string]: unknown;
}
interface Catcher {
  readonly ErrorEquals: readonly string[];
  readonly ResultPath?: string;
  readonly Next: string;
}
interface ChoiceRule {
  readonly Variable: string;
  readonly Next: string;
  readonly [operator: string]: unknown;
}
interface State {
  readonly Type: string;
  readonly Next?: string;
  readonly Default?: string;
  readonly Choices?: readonly ChoiceRule[];
  readonly Retry?: readonly Retrier[];
  readonly Catch?: readonly Catcher[];
  readonly Parameters?: Record<string, unknown>;
  readonly ResultPath?: string;
  readonly Error?: string;
}

const ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:cortex-failover';
const raw = JSON.parse(readFileSync(FAILOVER_DEFINITION_PATH, 'utf8')) as { States: Record<string, State> };
const states = Object.entries(raw.States);
const tasks = states.filter(([, s]) => s.Type === 'Task');
/** The closing Tasks catch into their own next step; every other Task rolls back. */
const CLOSING: Readonly<Record<string, string>> = { Rollback: 'MarkFailed', MarkFailed: 'Failed' };

/** Step Functions' matching: a name, States.ALL, or States.TaskFailed (anything but a timeout). */
function matches(errorEquals: readonly string[], name: string): boolean {
  return errorEquals.some(
    (e) => e === name || e === 'States.ALL' || (e === 'States.TaskFailed' && name !== 'States.Timeout'),
  );
}

function topologyWith(edit: (json: ReturnType<typeof defaultTopologyJson>) => void): Topology {
  const json = defaultTopologyJson();
  edit(json);
  return validateTopology(json);
}

// The app's StepErrorName and the core's are one list: a name added to one and not the other fails
// the type-check (npm run typecheck includes the tests).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const appAndCoreAgree: Same<AppStepErrorName, StepErrorName> = true;

describe('the failover definition, deduplicated and checked', () => {
  it('gives every Task exactly one catcher: States.ALL to Rollback (the closing steps to their own)', () => {
    for (const [name, state] of tasks) {
      expect(state.Catch, name).toEqual([
        {
          ErrorEquals: ['States.ALL'],
          ResultPath:
            name === 'Rollback' ? '$.rollback_error' : name === 'MarkFailed' ? '$.mark_error' : '$.error',
          Next: CLOSING[name] ?? 'Rollback',
        },
      ]);
    }
  });

  it('gives every Task the one retry policy (Rollback with its own attempts), so copies cannot drift', () => {
    for (const [name, state] of tasks) {
      expect(state.Retry, name).toEqual([
        {
          ...RETRY_POLICY,
          ...(name === 'Rollback' ? { MaxAttempts: ROLLBACK_MAX_ATTEMPTS } : {}),
        },
      ]);
    }
  });

  it("matches exactly the code's error names: each step error retried or rolled back as the code says", () => {
    expect(appAndCoreAgree).toBe(true);
    const matched = new Set(
      tasks.flatMap(([, s]) => [...(s.Retry ?? []), ...(s.Catch ?? [])].flatMap((r) => r.ErrorEquals)),
    );
    matched.delete('States.ALL');
    expect([...matched].sort()).toEqual(
      [...STEP_ERROR_NAMES.filter((n) => STEP_ERRORS[n] === 'retried'), ...LAMBDA_SERVICE_ERROR_NAMES].sort(),
    );
    expect(FAILOVER_ERROR_NAMES.every((n) => STEP_ERROR_NAMES.includes(n))).toBe(true);

    const names = [
      ...STEP_ERROR_NAMES,
      ...LAMBDA_SERVICE_ERROR_NAMES,
      'States.Timeout',
      'Lambda.Unknown',
      'Error',
    ];
    for (const [task, state] of tasks) {
      if (CLOSING[task]) continue;
      for (const error of names) {
        const retried = (state.Retry ?? []).some((r) => matches(r.ErrorEquals, error));
        const shouldRetry =
          (STEP_ERRORS as Record<string, string>)[error] === 'retried' ||
          (LAMBDA_SERVICE_ERROR_NAMES as readonly string[]).includes(error);
        expect(retried, `${task} retries ${error}`).toBe(shouldRetry);
        // Past its retries, every error (a step's, Lambda's, a timeout, a bug) reaches Rollback.
        const catcher = (state.Catch ?? []).find((c) => matches(c.ErrorEquals, error));
        expect(catcher?.Next, `${task} catches ${error}`).toBe('Rollback');
      }
    }
  });

  it("raises only the code's names itself: WaitLimitExceeded into Rollback, FailoverRolledBack and FailoverFailed", () => {
    const raised = states
      .filter(([, s]) => s.Type === 'Pass' && s.ResultPath === '$.error')
      .map(([name, s]) => {
        expect(s.Next, name).toBe('Rollback');
        return s.Parameters?.Error;
      });
    expect([...new Set(raised)]).toEqual([...WORKFLOW_ERROR_NAMES]);
    const failures = states.filter(([, s]) => s.Type === 'Fail').map(([, s]) => s.Error);
    expect(failures.sort()).toEqual([...EXECUTION_FAILURE_NAMES].sort());
  });

  it('bounds every loop by a counter it counts down and a Choice that leaves the loop at zero', () => {
    const next = (state: State): string[] => [
      ...(state.Next ? [state.Next] : []),
      ...(state.Default ? [state.Default] : []),
      ...(state.Choices ?? []).map((c) => c.Next),
    ];
    // Every elementary cycle of the state graph (Catch edges lead to Rollback and never back).
    const cycles: string[][] = [];
    // Each cycle is found once: from its smallest state name, through larger names only.
    const walk = (start: string, path: string[]) => {
      const here = path.at(-1) as string;
      for (const to of next(raw.States[here] as State)) {
        if (to === start) cycles.push(path);
        else if (!path.includes(to) && to > start) walk(start, [...path, to]);
      }
    };
    for (const [name] of states) walk(name, [name]);
    expect(cycles.length).toBeGreaterThanOrEqual(4);

    const configured = raw.States.Configure?.Parameters?.loops as Record<string, Record<string, string>>;
    for (const cycle of cycles) {
      const label = cycle.join(' -> ');
      const counted = cycle
        .map((n) => raw.States[n] as State)
        .map((s) =>
          /^States\.MathAdd\(\$\.loops\.([a-z]+)\.left, -1\)$/.exec(String(s.Parameters?.['left.$'])),
        )
        .find((m) => m !== null)?.[1];
      expect(counted, `${label} counts down a loop`).toBeDefined();
      expect(configured[counted as string]?.['left.$'], label).toMatch(
        /^States\.StringToJson\('\$\{[A-Za-z]+\}'\)$/,
      );
      const exit = cycle
        .flatMap((n) => raw.States[n]?.Choices ?? [])
        .find((rule) => rule.Variable === `$.loops.${counted}.left` && rule.NumericLessThanEquals === 0);
      expect(exit, `${label} leaves at zero`).toBeDefined();
      expect(cycle, label).not.toContain(exit?.Next);
      expect(raw.States[exit?.Next as string], label).toMatchObject({ Type: 'Pass', Next: 'Rollback' });
    }
  });

  it('takes the loop bounds from the topology: twice what each max wait takes at its poll', () => {
    const topology = topologyWith((json) => {
      json.failover_policies.failover_sequence[2].timeout_seconds = 600;
    });
    const timings = failoverTimings(topology);
    expect(timings).toMatchObject({ drain_max_wait_seconds: 300, drain_poll_seconds: 10 });
    const bounds = failoverWorkflowBounds(topology);
    expect(bounds).toMatchObject({
      drain_polls: 61,
      sync_polls: 2 * Math.ceil(120 / 5) + 1,
      operator_rounds: 3,
    });
    expect(failoverSubstitutions(topology, ARN)).toMatchObject({
      DrainPollLimit: '61',
      SyncPollLimit: String(bounds.sync_polls),
      PromotionPollLimit: String(bounds.promotion_polls),
      OperatorRoundLimit: '3',
    });
    const configure = JSON.parse(loadFailoverDefinition(topology, ARN)).States.Configure.Parameters;
    expect(configure.loops.drain['left.$']).toBe("States.StringToJson('61')");

    // A cold standby takes 600 s to promote, polled every 10 s: 2 * (60 + 1) + 1 rounds.
    const passive = topologyWith((json) => {
      json.deployment = specActivePassiveDeployment();
    });
    expect(failoverWorkflowBounds(passive).promotion_polls).toBe(123);
  });

  it("sets the execution's TimeoutSeconds from the topology's failover budget, the approval and operator windows", () => {
    const text = failoverDefinitionText(topologyWith(() => {}));
    const deployed = JSON.parse(text);
    // Twice (30 + 60 + 300 + 120 + 300 closing) plus the 60 s approval window and three 24 h operator rounds.
    expect(deployed.TimeoutSeconds).toBe(2 * 810 + 60 + 3 * 86_400);
    expect(Object.keys(deployed).slice(0, 4)).toEqual([
      'Comment',
      'QueryLanguage',
      'TimeoutSeconds',
      'StartAt',
    ]);
    const { TimeoutSeconds: _timeout, ...rest } = deployed;
    expect(rest).toEqual(JSON.parse(readFileSync(FAILOVER_DEFINITION_PATH, 'utf8')));

    const slower = topologyWith((json) => {
      json.failover_policies.automatic_failover.decision_timeout_seconds = 900;
      json.failover_policies.failover_sequence[3].timeout_seconds = 200;
    });
    expect(JSON.parse(failoverDefinitionText(slower)).TimeoutSeconds).toBe(2 * 890 + 900 + 3 * 86_400);
    // Longer than anything the definition waits for when no step hangs, within Step Functions' year.
    const bounds = failoverWorkflowBounds(slower);
    const timings = failoverTimings(slower);
    expect(bounds.execution_timeout_seconds).toBeGreaterThan(
      timings.approval_timeout_seconds +
        bounds.operator_rounds * timings.operator_timeout_seconds +
        Object.values(timings.phase_timeout_seconds).reduce((a, b) => a + b, 0),
    );
    expect(bounds.execution_timeout_seconds).toBeLessThanOrEqual(365 * 86_400);
  });

  it('takes the approval window from the failover policy (decision_timeout_seconds)', () => {
    const topology = topologyWith((json) => {
      json.failover_policies.automatic_failover.decision_timeout_seconds = 1800;
    });
    expect(failoverSubstitutions(topology, ARN).ApprovalTimeoutSeconds).toBe('1800');
    const definition = JSON.parse(loadFailoverDefinition(topology, ARN));
    expect(definition.States.Configure.Parameters.timeouts['approval.$']).toBe("States.StringToJson('1800')");
    expect(definition.States.AwaitApproval.TimeoutSecondsPath).toBe('$.timeouts.approval');
  });
});
