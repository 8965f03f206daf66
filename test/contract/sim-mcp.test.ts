import { createKernel } from '../../lib/sim/kernel.ts';
import { SimMcpPort } from '../../lib/sim/store/mcp.ts';
import { createReplicatedStore } from '../../lib/sim/store/replicated.ts';
import { mcpContract } from './mcp.contract.ts';

for (const reads of ['copy', 'frozen'] as const) {
  mcpContract(`SimMcpPort on the replicated store (reads: ${reads})`, async () => {
    const store = createReplicatedStore({
      kernel: createKernel({ seed: 1 }),
      regions: ['us-east-1', 'eu-west-1', 'ap-south-1'],
      reads,
    });
    return {
      registry: new SimMcpPort(store.replica('eu-west-1')),
      reset: async () => store.reset(),
      close: async () => undefined,
    };
  });
}
