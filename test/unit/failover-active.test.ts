import { describe, expect, it } from 'vitest';
import { activityAfterUpdate } from '../../lib/core/failover/active.ts';

describe('which failovers the state port lists as active', () => {
  // Invariant: an update moves a failover between the lists only when the write alone tells where
  // it ends up; otherwise it is left where it is.
  it('follows the status an update sets, else the one every expected status shares', () => {
    expect(activityAfterUpdate('completed', ['running'])).toBe('ended');
    expect(activityAfterUpdate('awaiting_approval', ['running'])).toBe('active');
    expect(activityAfterUpdate('running', ['awaiting_approval', 'completed'])).toBe('active');
    expect(activityAfterUpdate(undefined, ['running', 'awaiting_approval'])).toBe('active');
    expect(activityAfterUpdate(undefined, ['completed', 'rolled_back'])).toBe('ended');
    expect(activityAfterUpdate(undefined, ['running', 'completed'])).toBeUndefined();
    expect(activityAfterUpdate(undefined, [])).toBeUndefined();
  });
});
