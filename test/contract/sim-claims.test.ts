import { createKernel } from '../../lib/sim/kernel.ts';
import { createReplicatedStore } from '../../lib/sim/store/replicated.ts';
import { SimResourcesPort } from '../../lib/sim/store/resources.ts';
import { claimsContract } from './claims.contract.ts';

for (const reads of ['copy', 'frozen'] as const) {
  claimsContract(`SimResourcesPort on the replicated store (reads: ${reads})`, async () => {
    const store = createReplicatedStore({
      kernel: createKernel({ seed: 1 }),
      regions: ['us-east-1', 'eu-west-1', 'ap-south-1'],
      reads,
    });
    // One replica, every writer's port on it: as the adapters share one table in the dynalite suite.
    const replica = store.replica('eu-west-1');
    return {
      resourcesAs: (writer) => new SimResourcesPort({ replica, writer }),
      reset: async () => store.reset(),
      close: async () => undefined,
    };
  });
}
