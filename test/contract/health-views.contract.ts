import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { HealthViews } from '../../lib/ports.ts';
import { type StateFixture, view } from './state-fixture.ts';

/**
 * The HealthViews contract (STYLE 4): one view per observer and target.
 * Every StatePort implementation's test file runs it, through stateContract (state.contract.ts).
 */
export function healthViewsContract(name: string, setup: () => Promise<StateFixture<HealthViews>>): void {
  describe(`HealthViews contract: ${name}`, () => {
    let fixture: StateFixture<HealthViews>;
    let state: HealthViews;

    beforeEach(async () => {
      fixture ??= await setup();
      await fixture.reset();
      state = fixture.state;
    });
    afterAll(async () => {
      await fixture?.close();
    });

    it('keeps one health view per observer and target, replacing it on each round', async () => {
      await state.putTargetHealth(view());
      await state.putTargetHealth(view({ target: 'ap-south-1' }));
      await state.putTargetHealth(view({ consecutive_failures: 1, verdict: 'suspect', rounds: 3 }));
      const views = await state.listTargetHealth();
      expect(views).toHaveLength(2);
      expect(views.find((v) => v.target === 'eu-west-1')).toEqual(
        view({ consecutive_failures: 1, verdict: 'suspect', rounds: 3 }),
      );
    });
  });
}
