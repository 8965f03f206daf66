/**
 * The holds reconciler's reads on the simulator's stores, on the default topology: the records of a
 * round's holds are read in one batch per replica (its own, then the others for what it lacks),
 * never one read per hold, and a replica it cannot read leaves the holds whose records may be there
 * alone.
 */
import { describe, expect, it } from 'vitest';
import type { RegionalDeps } from '../../lib/app/deps.ts';
import type { ReservedHandoff } from '../../lib/app/resources/accounting.ts';
import { HOLD_SETTLE_MS, reconcileHolds } from '../../lib/app/resources/holds.ts';
import { holdRef } from '../../lib/core/resources/pool.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import type { StatePort } from '../../lib/ports.ts';
import { createKernel } from '../../lib/sim/kernel.ts';
import { createSimStores } from '../../lib/sim/store/index.ts';
import { handoff } from '../contract/state.contract.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';

const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';

/** A port that counts its calls by method into `calls` (`<region>.<method>`), or refuses every call. */
function observed(region: string, port: StatePort, calls: string[], unreachable = false): StatePort {
  return new Proxy(port, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(`${region}.${String(property)}`);
        if (unreachable) return Promise.reject(new Error(`${region} unreachable`));
        return value.apply(target, args);
      };
    },
  });
}

/**
 * Twelve holds us-east-1 made on eu-west-1's pool: four whose open handoffs its replica holds, four
 * whose handoffs only eu-west-1's replica holds yet (the link is paused), four no replica holds.
 */
async function twelveHolds(options: { readonly apUnreachable?: boolean } = {}) {
  const topology = validateTopology(defaultTopologyJson());
  const kernel = createKernel({ seed: 1 });
  const stores = createSimStores({ topology, kernel });
  stores.replication.pause(EU, US);
  const hour = new Date(kernel.now()).toISOString().slice(0, 13);
  const resources = stores.region(US).resources;
  await resources.seedPool({
    region: EU,
    allocation: { workers: 100, tokens_per_hour: 1_000_000, compute_units: 1_000 },
    usage: { workers: 0, tokens_used: 0, compute_units: 0 },
    hour,
    allocation_version: 0,
  });
  const ids = { here: [] as string[], elsewhere: [] as string[], nowhere: [] as string[] };
  for (const [kind, list] of Object.entries(ids)) {
    for (let i = 0; i < 4; i++) {
      const handoffId = `cross-region-${kind}-${i}`;
      const hold = holdRef(handoffId, EU, US, kernel.now());
      const reservation = { region: EU, hour, workers: 1, tokens: 0, compute_units: 1, hold };
      const pool = await resources.getPool(EU, hour);
      if (!pool) throw new Error('no pool');
      await resources.reserve(reservation, pool);
      const record: ReservedHandoff = {
        ...handoff({ handoff_id: handoffId, task_id: handoffId, target_region: EU }),
        reservation,
      };
      if (kind === 'here') await stores.region(US).state.createHandoff(record);
      if (kind === 'elsewhere') await stores.region(EU).state.createHandoff(record);
      list.push(hold.id);
    }
  }
  await kernel.run(kernel.now() + HOLD_SETTLE_MS + 1_000);
  const calls: string[] = [];
  const replica = (id: string) =>
    observed(id, stores.region(id).state, calls, id === AP && options.apUnreachable === true);
  const deps: RegionalDeps = {
    regionId: US,
    topology,
    state: replica(US),
    clock: kernel,
    resources,
    replica,
  };
  return { deps, calls, ids };
}

describe('the holds reconciler reads records in batches', () => {
  // Invariant: a round's reads grow with the replicas it asks, not with its holds: one batch in its
  // own replica, then one in each other replica for the records its own lacks.
  it('reads the records of all its holds in one batch per replica, and releases those no record names', async () => {
    const { deps, calls, ids } = await twelveHolds();
    const report = await reconcileHolds(deps);
    expect(calls).toEqual([`${US}.getHandoffs`, `${EU}.getHandoffs`, `${AP}.getHandoffs`]);
    expect([...report.released].sort()).toEqual([...ids.nowhere].sort());
    expect(report.restored).toEqual([]);
  });

  // Invariant: nothing is decided on a record that may exist in a replica it could not read.
  it('leaves alone the holds whose records may be in a replica it cannot read', async () => {
    const { deps, calls } = await twelveHolds({ apUnreachable: true });
    const report = await reconcileHolds(deps);
    expect(calls).toEqual([`${US}.getHandoffs`, `${EU}.getHandoffs`, `${AP}.getHandoffs`]);
    expect(report.released).toEqual([]);
  });
});
