/**
 * What a quiet probe round reads of the failovers, on the default topology in the simulator: the
 * active ones once, never the ended ones, however many failovers were ever written.
 */
import { describe, expect, it } from 'vitest';
import { runProbeRound } from '../../lib/app/probe-round.ts';
import type { StatePort } from '../../lib/ports.ts';
import { failover } from '../contract/state.contract.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { SimPlane } from '../support/sim-plane.ts';

const US = 'us-east-1';

function counted(port: StatePort, calls: string[]): StatePort {
  return new Proxy(port, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(property));
        return value.apply(target, args);
      };
    },
  });
}

describe("a probe round's reads of the failovers", () => {
  // Invariant: a round's load does not grow with the failovers ever written: it reads the active
  // list once (take-over and resume share it) and never lists every failover.
  it('reads the active failovers once and no ended one', async () => {
    const plane = await SimPlane.start(defaultTopologyJson());
    await plane.untilAllHealthy();
    const deps = plane.world.deps(US);
    for (let i = 0; i < 20; i++) {
      await deps.state.createFailover(
        failover({
          failover_id: `failover-eu-west-1-e${100 + i}`,
          status: 'completed',
          initiated_at: new Date(plane.now() - (i + 1) * 3_600_000).toISOString(),
        }),
      );
    }
    const calls: string[] = [];
    const report = await runProbeRound({ ...deps, state: counted(deps.state, calls) });
    expect(report.actions.passive).toBeUndefined();
    expect(calls.filter((c) => c === 'listActiveFailovers')).toHaveLength(1);
    expect(calls).not.toContain('listFailovers');
  });
});
