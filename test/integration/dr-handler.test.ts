/** The DR function's handler through its middy chain: strict events, one action per call. */
import { describe, expect, it } from 'vitest';
import { createDrHandler } from '../../functions/dr/handler.ts';
import { lambdaContext } from '../support/events.ts';
import { SimPlane, shippedTopology } from '../support/sim-plane.ts';

describe('the DR function', () => {
  it('answers an action with its timed result, and refuses an unknown one naming the field', async () => {
    const plane = await SimPlane.start(shippedTopology());
    const handler = createDrHandler(plane.world.deps('eu-west-1'));
    const run = { runbook: 'regional_failure', dr_id: 'dr-1', failed_region: 'us-east-1', dry_run: true };
    const result = await handler({ action: 'calculate_rto_rpo', run, steps: {} }, lambdaContext);
    expect(result).toMatchObject({ action: 'calculate_rto_rpo', phase: 'assessment', outcome: 'succeeded' });
    await expect(handler({ action: 'drop_tables', run }, lambdaContext)).rejects.toMatchObject({
      name: 'ValidationError',
      details: [expect.objectContaining({ field: 'action' })],
    });
  });
});
