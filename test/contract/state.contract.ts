import type { StatePort } from '../../lib/ports.ts';
import { failoversContract } from './failovers.contract.ts';
import { handoffsContract } from './handoffs.contract.ts';
import { healthViewsContract } from './health-views.contract.ts';
import { heartbeatsContract } from './heartbeats.contract.ts';
import { regionStatusesContract } from './region-statuses.contract.ts';
import type { StateFixture } from './state-fixture.ts';

export { failover, handoff, type StateFixture, status, view } from './state-fixture.ts';

/**
 * The StatePort contract (STYLE 4): the suite of each of its aggregates, on one store. Every
 * implementation's test file runs it; the store is set up once and closed after the last suite.
 */
export function stateContract(name: string, setup: () => Promise<StateFixture<StatePort>>): void {
  const suites = [
    regionStatusesContract,
    handoffsContract,
    healthViewsContract,
    heartbeatsContract,
    failoversContract,
  ];
  let store: Promise<StateFixture<StatePort>> | undefined;
  let open = suites.length;
  const shared = async (): Promise<StateFixture<StatePort>> => {
    store ??= setup();
    const fixture = await store;
    return {
      ...fixture,
      close: async () => {
        open -= 1;
        if (open === 0) await fixture.close();
      },
    };
  };
  for (const suite of suites) suite(name, shared);
}
