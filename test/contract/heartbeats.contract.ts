import { describe, expect, it } from 'vitest';
import type { Heartbeats } from '../../lib/ports.ts';
import { type StateFixture, useStateFixture } from './state-fixture.ts';

/**
 * The Heartbeats contract (STYLE 4): each region's last heartbeat.
 * Every StatePort implementation's test file runs it, through stateContract (state.contract.ts).
 */
export function heartbeatsContract(name: string, setup: () => Promise<StateFixture<Heartbeats>>): void {
  describe(`Heartbeats contract: ${name}`, () => {
    const fixture = useStateFixture(setup);

    it('keeps the last heartbeat of each region', async () => {
      await fixture.state.putHeartbeat({ region: 'us-east-1', seq: 1, at: 10 });
      await fixture.state.putHeartbeat({ region: 'us-east-1', seq: 2, at: 20 });
      await fixture.state.putHeartbeat({ region: 'eu-west-1', seq: 7, at: 15 });
      const beats = await fixture.state.listHeartbeats();
      expect(beats.sort((a, b) => a.region.localeCompare(b.region))).toEqual([
        { region: 'eu-west-1', seq: 7, at: 15 },
        { region: 'us-east-1', seq: 2, at: 20 },
      ]);
    });
  });
}
