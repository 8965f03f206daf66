import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegionStatus } from '../../lib/core/state/records.ts';
import { startLocalControlPlane } from '../../lib/local/control-plane.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { probeContract, writeOwnStatus } from './probe.contract.ts';

// The local plane's probe (LocalProbe over the HttpProbe the Lambda uses) calling the regions' real
// HTTP endpoints on loopback, in real time (a loaded machine's first calls take a while); no probe
// rounds run, so nothing reacts to the faults.
probeContract('LocalProbe over HTTP on the local control plane', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cortex-probe-contract-'));
  const topologyPath = join(dir, 'topology.json');
  await writeFile(topologyPath, JSON.stringify(defaultTopologyJson()));
  const plane = await startLocalControlPlane({
    port: 0,
    dataDir: join(dir, 'data'),
    fresh: true,
    topologyPath,
    speed: 1,
    probeRounds: false,
    log: () => {},
  });
  const { runtime, network, clock } = plane;
  const setStatus = (region: string, status: RegionStatus) =>
    writeOwnStatus(runtime.region(region).deps.state, region, status, clock.now());
  // The first call to each region loads its handlers: not what the contract times.
  for (const region of Object.keys(plane.regions)) {
    await runtime.region('us-east-1').deps.probe.probe('us-east-1', region, '/coordination/status', 10_000);
  }
  return {
    topology: runtime.topology,
    now: () => clock.now(),
    observe: (observer, target, endpoint, timeoutMs) =>
      runtime.region(observer).deps.probe.probe(observer, target, endpoint, timeoutMs),
    observeRound: (observer, target, endpoints, timeoutMs) => {
      const probe = runtime.region(observer).deps.probe;
      if (!probe.probeEndpoints) throw new Error('the local probe answers rounds in one request');
      return probe.probeEndpoints(observer, target, endpoints, timeoutMs);
    },
    inject: async (fault) => {
      if (fault.kind === 'partition')
        network.inject({ region: fault.a, kind: 'partition', peers: [fault.b] });
      else if (fault.kind === 'slow')
        network.inject({ region: fault.region, kind: 'slow', latency_ms: fault.ms });
      else if (fault.kind === 'errors') network.inject({ region: fault.region, kind: 'errors', rate: 1 });
      else network.inject({ region: fault.region, kind: 'down' });
    },
    setStatus,
    heal: async () => {
      network.heal();
      for (const region of Object.keys(plane.regions)) {
        if ((await runtime.region(region).deps.state.getRegionStatus(region))?.status !== 'healthy') {
          await setStatus(region, 'healthy');
        }
      }
    },
    close: async () => {
      await plane.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
