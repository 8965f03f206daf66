import { describe, expect, it } from 'vitest';
import type { HealthViews } from '../../lib/ports.ts';
import { type StateFixture, useStateFixture, view } from './state-fixture.ts';

/**
 * The HealthViews contract (STYLE 4): one view per observer and target.
 * Every StatePort implementation's test file runs it, through stateContract (state.contract.ts).
 */
export function healthViewsContract(name: string, setup: () => Promise<StateFixture<HealthViews>>): void {
  describe(`HealthViews contract: ${name}`, () => {
    const fixture = useStateFixture(setup);

    it('keeps one health view per observer and target, replacing it on each round', async () => {
      await fixture.state.putTargetHealth(view());
      await fixture.state.putTargetHealth(view({ target: 'ap-south-1' }));
      await fixture.state.putTargetHealth(view({ consecutive_failures: 1, verdict: 'suspect', rounds: 3 }));
      const views = await fixture.state.listTargetHealth();
      expect(views).toHaveLength(2);
      expect(views.find((v) => v.target === 'eu-west-1')).toEqual(
        view({ consecutive_failures: 1, verdict: 'suspect', rounds: 3 }),
      );
    });
  });
}
