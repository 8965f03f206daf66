import { defaultTopologyJson, inQuietHour, withFastPolicy } from '../fixtures/topologies.ts';
import { SimPlane } from '../support/sim-plane.ts';
import { workflowContract } from './workflow.contract.ts';

// The simulator's workflow (the ASL compiled and run on the virtual clock with the real failover
// steps), in a world whose probe rounds run as they do in every simulation.
workflowContract('SimWorkflow on the virtual clock', async ({ approval }) => {
  const raw = inQuietHour(withFastPolicy(defaultTopologyJson()));
  raw.failover_policies.automatic_failover.require_manual_approval = approval;
  const plane = await SimPlane.start(raw);
  await plane.untilAllHealthy();
  return {
    workflow: (region) => plane.world.deps(region).workflow,
    state: (region) => plane.state(region),
    now: () => plane.now(),
    cutOff: (region) => plane.isolate(region),
    advance: (ms) => plane.advance(ms),
    until: (check, withinMs) => plane.until(check, withinMs),
    close: async () => undefined,
  };
});
