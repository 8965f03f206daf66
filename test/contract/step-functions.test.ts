import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  InvalidToken,
  SendTaskFailureCommand,
  type SendTaskFailureCommandInput,
  SendTaskSuccessCommand,
  type SendTaskSuccessCommandInput,
  SFNClient,
  StartExecutionCommand,
  type StartExecutionCommandInput,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { APPROVAL_DECLINED, StepFunctionsWorkflow } from '../../lib/adapters/aws/step-functions.ts';
import { ConflictError, NotFoundError } from '../../lib/core/errors.ts';

type SfnCommand =
  | StartExecutionCommand
  | SendTaskSuccessCommand
  | SendTaskFailureCommand
  | DescribeExecutionCommand;

interface Sent {
  readonly region: string;
  readonly command: SfnCommand;
  /** The JSON body the SDK serialized (the awsJson1_0 protocol): what Step Functions receives. */
  readonly body: Record<string, unknown>;
}

/** Real SFN clients that answer from a middleware after serialization, per region. */
function stubClients(
  answer: (region: string, command: SfnCommand) => Error | undefined,
  statusOf: (name: string) => string = () => 'RUNNING',
) {
  const sent: Sent[] = [];
  const clients = new Map<string, SFNClient>();
  const clientFor = (region: string) => {
    let client = clients.get(region);
    if (client) return client;
    const created = new SFNClient({ region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const pending: SfnCommand[] = [];
    const send = created.send.bind(created);
    created.send = ((command: SfnCommand) => {
      pending.push(command);
      return send(command as StartExecutionCommand);
    }) as typeof created.send;
    created.middlewareStack.add(
      () => async (args) => {
        const command = pending.shift() as SfnCommand;
        const request = args.request as { body?: string | Uint8Array };
        sent.push({ region, command, body: JSON.parse(bodyText(request.body)) });
        const error = answer(region, command);
        if (error) throw error;
        const output =
          command instanceof StartExecutionCommand
            ? {
                executionArn: `arn:aws:states:${region}:123456789012:execution:failover:x`,
                startDate: new Date(),
              }
            : command instanceof DescribeExecutionCommand
              ? { status: statusOf(String(command.input.executionArn).split(':').at(-1) ?? '') }
              : {};
        return { output: { $metadata: {}, ...output }, response: {} };
      },
      { step: 'build', name: 'captureForTest' },
    );
    client = created;
    clients.set(region, client);
    return client;
  };
  return { clientFor, sent };
}

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'];
const arnFor = (region: string) =>
  `arn:aws:states:${region}:123456789012:stateMachine:cortex-failover-${region}`;
const meta = { $metadata: {}, message: 'test' };

function workflow(
  answer: (region: string, command: SfnCommand) => Error | undefined = () => undefined,
  statusOf?: (name: string) => string,
) {
  const { clientFor, sent } = stubClients(answer, statusOf);
  return {
    sent,
    workflow: new StepFunctionsWorkflow({
      homeRegion: 'eu-west-1',
      regions: REGIONS,
      clientFor,
      stateMachineArnFor: arnFor,
    }),
  };
}

describe('StepFunctionsWorkflow sends what the Step Functions API takes', () => {
  it('starts the execution in the coordinator region, named by the failover id', async () => {
    const { workflow: w, sent } = workflow();
    await w.startFailover({ failover_id: 'failover-us-east-1-e3', coordinator: 'ap-south-1' });
    const only = sent[0] as Sent;
    expect(only.region).toBe('ap-south-1');
    expect(only.command).toBeInstanceOf(StartExecutionCommand);
    const input = (only.command as StartExecutionCommand).input;
    expectTypeOf(input).toEqualTypeOf<StartExecutionCommandInput>();
    expect(only.body).toEqual({
      stateMachineArn: arnFor('ap-south-1'),
      name: 'failover-us-east-1-e3',
      input: JSON.stringify({ failover_id: 'failover-us-east-1-e3', coordinator: 'ap-south-1' }),
    });
    // Execution names: 1-80 characters, letters, digits, - and _.
    expect(String(only.body.name)).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
  });

  it('treats an execution that already exists and runs as started (one execution per failover)', async () => {
    const { workflow: w } = workflow((_region, command) =>
      command instanceof StartExecutionCommand ? new ExecutionAlreadyExists(meta) : undefined,
    );
    await expect(
      w.startFailover({ failover_id: 'failover-us-east-1-e3', coordinator: 'eu-west-1' }),
    ).resolves.toBeUndefined();
  });

  it('starts a failover whose execution closed with its record active again, under the next name', async () => {
    // Invariant: a failover is never stranded by a closed execution (its name stays taken 90 days).
    const taken = new Set(['failover-us-east-1-e3', 'failover-us-east-1-e3-r2']);
    const { workflow: w, sent } = workflow(
      (_region, command) =>
        command instanceof StartExecutionCommand && taken.has(String(command.input.name))
          ? new ExecutionAlreadyExists(meta)
          : undefined,
      () => 'FAILED',
    );
    await w.startFailover({ failover_id: 'failover-us-east-1-e3', coordinator: 'eu-west-1' });
    expect(sent.map((x) => [x.command.constructor.name, x.body.name ?? x.body.executionArn])).toEqual([
      ['StartExecutionCommand', 'failover-us-east-1-e3'],
      [
        'DescribeExecutionCommand',
        'arn:aws:states:eu-west-1:123456789012:execution:cortex-failover-eu-west-1:failover-us-east-1-e3',
      ],
      ['StartExecutionCommand', 'failover-us-east-1-e3-r2'],
      [
        'DescribeExecutionCommand',
        'arn:aws:states:eu-west-1:123456789012:execution:cortex-failover-eu-west-1:failover-us-east-1-e3-r2',
      ],
      ['StartExecutionCommand', 'failover-us-east-1-e3-r3'],
    ]);
  });

  it('starts nothing while an execution of the failover runs, and stops after 20 executions', async () => {
    const running = workflow(
      (_region, command) =>
        command instanceof StartExecutionCommand ? new ExecutionAlreadyExists(meta) : undefined,
      () => 'RUNNING',
    );
    await running.workflow.startFailover({ failover_id: 'f-1', coordinator: 'eu-west-1' });
    expect(running.sent.filter((x) => x.command instanceof StartExecutionCommand)).toHaveLength(1);
    const closed = workflow(
      (_region, command) =>
        command instanceof StartExecutionCommand ? new ExecutionAlreadyExists(meta) : undefined,
      () => 'SUCCEEDED',
    );
    await expect(
      closed.workflow.startFailover({ failover_id: 'f-1', coordinator: 'eu-west-1' }),
    ).rejects.toThrow(/ran 20 executions in eu-west-1/);
  });

  it('rethrows other errors and refuses a region without a state machine', async () => {
    const { workflow: w } = workflow(() => new Error('AccessDeniedException'));
    await expect(w.startFailover({ failover_id: 'f', coordinator: 'eu-west-1' })).rejects.toThrow(
      'AccessDeniedException',
    );
    await expect(w.startFailover({ failover_id: 'f', coordinator: 'sa-east-1' })).rejects.toThrow(
      /no failover state machine/,
    );
  });

  it('approves with SendTaskSuccess and declines with SendTaskFailure named ApprovalDeclined', async () => {
    const { workflow: w, sent } = workflow();
    await w.answerApproval('token-1', true);
    await w.answerApproval('token-2', false);
    const success = sent[0] as Sent;
    const failure = sent[1] as Sent;
    expect(success.command).toBeInstanceOf(SendTaskSuccessCommand);
    expectTypeOf(
      (success.command as SendTaskSuccessCommand).input,
    ).toEqualTypeOf<SendTaskSuccessCommandInput>();
    expect(success.body).toEqual({ taskToken: 'token-1', output: '{"approved":true}' });
    expect(failure.command).toBeInstanceOf(SendTaskFailureCommand);
    expectTypeOf(
      (failure.command as SendTaskFailureCommand).input,
    ).toEqualTypeOf<SendTaskFailureCommandInput>();
    expect(failure.body).toMatchObject({ taskToken: 'token-2', error: APPROVAL_DECLINED });
    expect(sent.map((s) => s.region)).toEqual(['eu-west-1', 'eu-west-1']);
  });

  it('answers in the region that knows the token, home region first', async () => {
    const { workflow: w, sent } = workflow((region) =>
      region === 'ap-south-1' ? undefined : new InvalidToken(meta),
    );
    await w.answerApproval('token-1', true);
    expect(sent.map((s) => s.region)).toEqual(['eu-west-1', 'us-east-1', 'ap-south-1']);
  });

  it('reports an unknown token as not found and a timed-out approval as a conflict', async () => {
    const unknown = workflow(() => new InvalidToken(meta)).workflow;
    await expect(unknown.answerApproval('token-1', true)).rejects.toBeInstanceOf(NotFoundError);
    const late = workflow(() => new TaskTimedOut(meta)).workflow;
    await expect(late.answerApproval('token-1', false)).rejects.toBeInstanceOf(ConflictError);
  });
});

function bodyText(body: string | Uint8Array | undefined): string {
  if (body === undefined) return '{}';
  return typeof body === 'string' ? body : new TextDecoder().decode(body);
}
