import type { RegionStatus } from '../../lib/core/state/records.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { SimPlane } from '../support/sim-plane.ts';
import { type ProbeFault, probeContract, writeOwnStatus } from './probe.contract.ts';

probeContract("SimProbe on the simulator's network", async () => {
  const plane = await SimPlane.start(defaultTopologyJson());
  await plane.untilAllHealthy();
  const downs = new Set<string>();
  const setStatus = (region: string, status: RegionStatus) =>
    writeOwnStatus(plane.state(region), region, status, plane.now());
  return {
    topology: plane.topology,
    now: () => plane.now(),
    observe: async (observer, target, endpoint, timeoutMs) => {
      const seen = plane.world.deps(observer).probe.probe(observer, target, endpoint, timeoutMs);
      // A slow answer waits on the virtual clock: run it past the timeout.
      await plane.world.kernel.run(plane.now() + timeoutMs + 1);
      return seen;
    },
    observeRound: async (observer, target, endpoints, timeoutMs) => {
      const probe = plane.world.deps(observer).probe;
      if (!probe.probeEndpoints) throw new Error('the simulator probe answers rounds in one request');
      const seen = probe.probeEndpoints(observer, target, endpoints, timeoutMs);
      await plane.world.kernel.run(plane.now() + timeoutMs + 1);
      return seen;
    },
    inject: async (fault: ProbeFault) => {
      if (fault.kind === 'partition') return plane.fault({ kind: 'cut', a: fault.a, b: fault.b });
      if (fault.kind === 'slow') return plane.fault({ kind: 'slow', region: fault.region, ms: fault.ms });
      if (fault.kind === 'errors') return plane.fault({ kind: 'errors', region: fault.region, rate: 1 });
      downs.add(fault.region);
      return plane.fault({ kind: 'down', region: fault.region });
    },
    setStatus,
    heal: async () => {
      for (const region of downs) await plane.fault({ kind: 'up', region });
      downs.clear();
      await plane.fault({ kind: 'heal' });
      for (const region of plane.regionIds) {
        if ((await plane.state(region).getRegionStatus(region))?.status !== 'healthy') {
          await setStatus(region, 'healthy');
        }
      }
    },
    close: async () => undefined,
  };
});
