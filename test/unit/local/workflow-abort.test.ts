/**
 * The local workflow ends the executions a region coordinates when that region goes down, as a
 * regional outage ends the Step Functions executions in it; the others run on.
 */
import { describe, expect, it } from 'vitest';
import { LOCAL_FAILOVER_FUNCTION_ARN, LocalWorkflow } from '../../../lib/adapters/local/workflow.ts';

/** One Task that answers when the test says so. */
const DEFINITION = JSON.stringify({
  StartAt: 'Step',
  States: { Step: { Type: 'Task', Resource: LOCAL_FAILOVER_FUNCTION_ARN, End: true } },
});

function workflow() {
  const release: (() => void)[] = [];
  const flow = new LocalWorkflow({
    definition: DEFINITION,
    functionArn: LOCAL_FAILOVER_FUNCTION_ARN,
    timeouts: {},
    polls: {},
    shouldRun: async () => true,
    invokerFor: () => () =>
      new Promise((resolve) => {
        release.push(() => resolve({ done: true }));
      }),
  });
  return { flow, release };
}

describe('the local workflow when a region goes down', () => {
  // Invariant: a down region runs no failover execution; a survivor's keep running.
  it('aborts the executions the region coordinates and leaves the others running', async () => {
    const { flow, release } = workflow();
    await flow.startFailover({ failover_id: 'failover-a-e0', coordinator: 'us-east-1' });
    await flow.startFailover({ failover_id: 'failover-b-e0', coordinator: 'eu-west-1' });
    expect(flow.running().sort()).toEqual(['failover-a-e0', 'failover-b-e0']);

    await flow.abortCoordinatedBy('us-east-1');
    expect(await flow.settled('failover-a-e0')).toMatchObject({ status: 'aborted' });
    expect(flow.running()).toEqual(['failover-b-e0']);

    for (const answer of release) answer();
    expect(await flow.settled('failover-b-e0')).toMatchObject({ status: 'succeeded' });
    await flow.close();
  });

  // Invariant: the record is the progress: an aborted execution's failover can be started again.
  it('runs a failover again once its aborted execution has ended', async () => {
    const { flow, release } = workflow();
    await flow.startFailover({ failover_id: 'failover-a-e0', coordinator: 'us-east-1' });
    await flow.abortCoordinatedBy('us-east-1');
    await flow.startFailover({ failover_id: 'failover-a-e0', coordinator: 'eu-west-1' });
    expect(flow.running()).toEqual(['failover-a-e0']);
    for (const answer of release) answer();
    expect(await flow.settled('failover-a-e0')).toMatchObject({ status: 'succeeded' });
    await flow.close();
  });
});
