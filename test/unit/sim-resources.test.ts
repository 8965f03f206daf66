import { describe, expect, it } from 'vitest';
import type { Topology } from '../../lib/core/topology/types.ts';
import { createKernel } from '../../lib/sim/kernel.ts';
import { createSimStores } from '../../lib/sim/store/index.ts';
import { createReplicatedStore } from '../../lib/sim/store/replicated.ts';
import { SimResourcesPort } from '../../lib/sim/store/resources.ts';
import { SimStatePort } from '../../lib/sim/store/state.ts';
import { pool, reservation, resourcesContract } from '../contract/resources.contract.ts';
import { handoff } from '../contract/state.contract.ts';

const START = Date.parse('2026-11-26T12:00:00Z');
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'];
const topology = { regions: REGIONS.map((region_id) => ({ region_id })) } as unknown as Pick<
  Topology,
  'regions'
>;

for (const reads of ['copy', 'frozen'] as const) {
  resourcesContract(`SimResourcesPort on the replicated store (reads: ${reads})`, async () => {
    const store = createReplicatedStore({ kernel: createKernel({ seed: 1 }), regions: REGIONS, reads });
    const replica = store.replica('eu-west-1');
    return {
      resources: new SimResourcesPort({ replica }),
      resourcesAs: (writer, clock) => new SimResourcesPort({ replica, writer, clock }),
      state: new SimStatePort({ replica, writer: 'eu-west-1' }),
      reset: async () => store.reset(),
      close: async () => undefined,
    };
  });
}

function simStores() {
  const kernel = createKernel({ seed: 3, start: START });
  return { kernel, stores: createSimStores({ topology, kernel }) };
}

describe('SimResourcesPort across replicas', () => {
  // Invariant: what reservations hold is counted per writing region (one item each, written in its
  // own replica), so two regions reserving at once both count everywhere once replicated: last
  // writer wins per item never drops one of them.
  it('keeps concurrent reservations of two regions on one pool, in every replica', async () => {
    const { kernel, stores } = simStores();
    await stores.region('eu-west-1').resources.seedPool(pool());
    await kernel.run(START + 200);
    await stores.region('us-east-1').resources.reserve(reservation({ workers: 3 }), pool());
    await stores.region('ap-south-1').resources.reserve(reservation({ workers: 2 }), pool());
    await kernel.run(START + 1000);
    for (const region of stores.regions) {
      expect((await region.resources.getPool('eu-west-1', pool().hour))?.usage.workers).toBe(7 + 3 + 2);
    }
  });

  // Invariant: settling sees the handoffs the region's state port holds, including ones replicated
  // from the region that routed them, and not before they arrive.
  it('settles a handoff routed in another region once it has replicated', async () => {
    const { kernel, stores } = simStores();
    await stores.region('us-east-1').state.createHandoff(handoff());
    const eu = stores.region('eu-west-1');
    expect(await eu.resources.settleHandoff('cross-region-task-1', 'completed', {})).toBeUndefined();
    await kernel.run(START + 200);
    expect((await eu.resources.settleHandoff('cross-region-task-1', 'completed', { n: 1 }))?.status).toBe(
      'pending',
    );
    await kernel.run(START + 400);
    expect(await stores.region('us-east-1').state.getHandoff('cross-region-task-1')).toMatchObject({
      status: 'completed',
      settlement: { n: 1 },
    });
  });
});

describe('createSimStores', () => {
  // Invariant: each region's ports share its replica and write status slots as that region.
  it('builds per region a state and a resources port on that region replica, writing as the region', async () => {
    const { kernel, stores } = simStores();
    expect(stores.regions.map((r) => r.regionId)).toEqual(REGIONS);
    const eu = stores.region('eu-west-1');
    expect(eu.state.replica).toBe(eu.replica);
    await eu.state.putRegionStatus(
      {
        region_id: 'eu-west-1',
        status: 'fenced',
        role: 'active',
        epoch: 1,
        updated_at: 't',
        updated_by: 'x',
      },
      undefined,
    );
    expect(eu.replica.get('REGION', 'eu-west-1#eu-west-1')).toMatchObject({ epoch: 1 });
    stores.replication.down('eu-west-1');
    await kernel.run(START + 5000);
    expect(await stores.region('us-east-1').state.getRegionStatus('eu-west-1')).toBeUndefined();
    stores.replication.up('eu-west-1');
    await kernel.run(START + 5000);
    expect(await stores.region('us-east-1').state.getRegionStatus('eu-west-1')).toMatchObject({ epoch: 1 });
    expect(() => stores.region('xx-nowhere-1')).toThrow(/unknown region/);
  });
});
