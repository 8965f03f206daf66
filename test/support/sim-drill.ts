/** A DR drill's harness on the simulator (test/support/sim-plane.ts): virtual time, in-process APIs. */
import type { DrillFault, DrillHarness } from '../../lib/app/dr/drill.ts';
import { createLocalRunbooks } from '../../lib/runtime/local-dr.ts';
import type { SimPlane } from './sim-plane.ts';

export function simDrillHarness(plane: SimPlane): DrillHarness {
  const runbook = createLocalRunbooks({
    depsFor: (region) => plane.world.deps(region),
    sleep: (ms) => plane.world.kernel.sleep(ms),
  });
  return {
    topology: plane.topology,
    now: () => plane.now(),
    sleep: (ms) => plane.advance(ms),
    call: (region, method, path, body) => plane.call(region, method, path, body),
    serviceRegion: (client) => plane.dnsAnswer(client),
    async fault(fault: DrillFault) {
      if (fault.kind === 'down') return plane.fault({ kind: 'down', region: fault.region });
      if (fault.kind === 'partition') return plane.fault({ kind: 'partition', groups: fault.groups });
      if (fault.kind === 'heal') return plane.fault({ kind: 'heal' });
      throw new Error('the simulator holds no replication drills: data_corruption runs on the local plane');
    },
    runbook,
  };
}
