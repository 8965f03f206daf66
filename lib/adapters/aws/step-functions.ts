/**
 * The WorkflowPort on Step Functions (Standard). A failover runs in its coordinator's region: the
 * execution is named after the failover id, so a second start of the same failover (two detectors,
 * a retried request) is a no-op (principle 4). Approval answers the `.waitForTaskToken` task.
 */
import {
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

export interface StepFunctionsWorkflowOptions {
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
    try {
      await this.#options.clientFor(input.coordinator).send(
        new StartExecutionCommand({
          stateMachineArn: this.#options.stateMachineArnFor(input.coordinator),
          name: input.failover_id,
          input: JSON.stringify({ failover_id: input.failover_id, coordinator: input.coordinator }),
        }),
      );
    } catch (error) {
      // Execution names are unique per state machine (90 days after it closes): it already ran or runs.
      if (error instanceof ExecutionAlreadyExists) return;
      throw error;
    }
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
