import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalControlPlane } from '../../lib/local/control-plane.ts';
import { defaultTopologyJson, inQuietHour, withFastPolicy } from '../fixtures/topologies.ts';
import { workflowContract } from './workflow.contract.ts';

/** Simulated ms per real ms: the failover's waits pass quickly, no probe round loads the machine. */
const SPEED = 20;

// The local plane's workflow: statemachines/failover.asl.json run by aws-local-stepfunctions with
// the failover function's handler as its tasks, against each region's dynalite. No probe rounds
// run, so only the contract's own calls start anything.
workflowContract(
  'LocalWorkflow (the ASL in aws-local-stepfunctions) on the local control plane',
  async ({ approval }) => {
    const dir = await mkdtemp(join(tmpdir(), 'cortex-workflow-contract-'));
    const raw = inQuietHour(withFastPolicy(defaultTopologyJson()));
    raw.failover_policies.automatic_failover.require_manual_approval = approval;
    // At SPEED the policy's 60 s decision timeout is 3 real seconds, which a busy machine can spend
    // between the approval being asked and answered: the execution then ends, and the answer finds no
    // approval. The timeout itself is tested in test/statemachine/failover.test.ts.
    raw.failover_policies.automatic_failover.decision_timeout_seconds = 3600;
    const topologyPath = join(dir, 'topology.json');
    await writeFile(topologyPath, JSON.stringify(raw));
    const plane = await startLocalControlPlane({
      port: 0,
      dataDir: join(dir, 'data'),
      fresh: true,
      topologyPath,
      speed: SPEED,
      probeRounds: false,
      log: () => {},
    });
    const { runtime, network, clock } = plane;
    const sleep = (realMs: number) => new Promise<void>((resolve) => setTimeout(resolve, realMs));
    return {
      workflow: (region) => runtime.region(region).deps.workflow,
      state: (region) => runtime.region(region).deps.state,
      now: () => clock.now(),
      cutOff: async (region) => {
        network.inject({ region, kind: 'partition' });
      },
      advance: (ms) => sleep(ms / SPEED),
      until: async <T>(check: () => Promise<T>, withinMs: number): Promise<T> => {
        // Real time on a loaded machine: twice the simulated budget, and a few seconds more.
        const deadline = Date.now() + (2 * withinMs) / SPEED + 5_000;
        for (;;) {
          try {
            return await check();
          } catch (error) {
            if (Date.now() >= deadline) throw error;
          }
          await sleep(20);
        }
      },
      close: async () => {
        await plane.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
);
