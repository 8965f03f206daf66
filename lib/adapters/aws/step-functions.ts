/**
 * The WorkflowPort on Step Functions (Standard). A failover runs in its coordinator's region: the
 * execution is named after the failover id, so a second start of the same failover (two detectors,
 * a retried request) is a no-op while it runs (principle 4). One that ended while its record stayed
 * active (its last writes failed) is started again under the next name, `<id>-r2`, `-r3`, ...:
 * a Standard execution's name stays taken for 90 days after it closes. Approval answers the
 * `.waitForTaskToken` task.
 */

/** Executions of one failover in one region, at most: a runaway restart loop stops here. */
const MAX_EXECUTIONS_PER_FAILOVER = 20;

import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type SFNClient,
  StartExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import type { WorkflowPort } from '../../ports.ts';

/** The error the approval task fails with on decline; the workflow cancels on it. */
export const APPROVAL_DECLINED = 'ApprovalDeclined';

interface StepFunctionsWorkflowOptions {
  /** The region this adapter runs in: approvals are answered here first. */
  readonly homeRegion: string;
  /** Every region with a failover state machine (the topology's regions). */
  readonly regions: readonly string[];
  /** A Step Functions client for a region, created once per region by the composition root. */
  readonly clientFor: (region: string) => Pick<SFNClient, 'send'>;
  /** The failover state machine's ARN in a region (deterministic names: no cross-region lookups). */
  readonly stateMachineArnFor: (region: string) => string;
}

export class StepFunctionsWorkflow implements WorkflowPort {
  readonly #options: StepFunctionsWorkflowOptions;

  constructor(options: StepFunctionsWorkflowOptions) {
    if (!options.regions.includes(options.homeRegion)) {
      throw new Error(`StepFunctionsWorkflow: home region ${options.homeRegion} is not in regions`);
    }
    this.#options = options;
  }

  async startFailover(input: { readonly failover_id: string; readonly coordinator: string }): Promise<void> {
    if (!this.#options.regions.includes(input.coordinator)) {
      throw new Error(`StepFunctionsWorkflow: no failover state machine in ${input.coordinator}`);
    }
    const client = this.#options.clientFor(input.coordinator);
    const stateMachineArn = this.#options.stateMachineArnFor(input.coordinator);
    for (let run = 1; run <= MAX_EXECUTIONS_PER_FAILOVER; run++) {
      const name = run === 1 ? input.failover_id : `${input.failover_id}-r${run}`;
      try {
        await client.send(
          new StartExecutionCommand({
            stateMachineArn,
            name,
            input: JSON.stringify({ failover_id: input.failover_id, coordinator: input.coordinator }),
          }),
        );
        return;
      } catch (error) {
        if (!(error instanceof ExecutionAlreadyExists)) throw error;
      }
      // The name is taken (90 days after it closes): running, the failover is in hand; closed, the
      // next name runs it again from its record.
      const { status } = await client.send(
        new DescribeExecutionCommand({ executionArn: executionArn(stateMachineArn, name) }),
      );
      if (status === 'RUNNING' || status === 'PENDING_REDRIVE') return;
    }
    throw new ConflictError(
      'TOO_MANY_EXECUTIONS',
      `failover ${input.failover_id} ran ${MAX_EXECUTIONS_PER_FAILOVER} executions in ${input.coordinator}; an operator must abort it or fail it back`,
    );
  }

  /**
   * Task tokens are answered in the region whose execution issued them. The port does not carry
   * the region, so the home region is asked first, then the others; an unknown token is NotFound.
   */
  async answerApproval(token: string, approved: boolean): Promise<void> {
    const { homeRegion, regions } = this.#options;
    for (const region of [homeRegion, ...regions.filter((r) => r !== homeRegion)]) {
      const client = this.#options.clientFor(region);
      try {
        if (approved) {
          await client.send(
            new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ approved: true }) }),
          );
        } else {
          await client.send(
            new SendTaskFailureCommand({
              taskToken: token,
              error: APPROVAL_DECLINED,
              cause: 'An operator declined the failover.',
            }),
          );
        }
        return;
      } catch (error) {
        if (error instanceof TaskTimedOut) {
          throw new ConflictError('APPROVAL_TIMED_OUT', 'the approval step already timed out');
        }
        if (error instanceof InvalidToken || error instanceof TaskDoesNotExist) continue;
        throw error;
      }
    }
    throw new NotFoundError('approval task', `${token.slice(0, 16)}...`);
  }
}

/** An execution's ARN from its state machine's: `...:stateMachine:<machine>` -> `...:execution:<machine>:<name>`. */
export function executionArn(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}
