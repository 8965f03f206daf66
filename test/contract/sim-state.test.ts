import { describe, expect, it } from 'vitest';
import { keys } from '../../lib/adapters/aws/state-keys.ts';
import type { Handoff } from '../../lib/core/state/records.ts';
import { createKernel } from '../../lib/sim/kernel.ts';
import { createReplicatedStore, type ReplicatedStore } from '../../lib/sim/store/replicated.ts';
import { putStatusSlot, SimStatePort } from '../../lib/sim/store/state.ts';
import { handoff, stateContract, status } from './state.contract.ts';

/** The replica the ports under test use; the writers' regions replicate into it. */
const MAIN = 'sim-main';
const WRITERS = ['us-east-1', 'eu-west-1', 'ap-south-1'];

function newStore(reads: 'copy' | 'frozen' = 'copy'): ReplicatedStore {
  return createReplicatedStore({ kernel: createKernel({ seed: 1 }), regions: [MAIN, ...WRITERS], reads });
}

for (const reads of ['copy', 'frozen'] as const) {
  stateContract(`SimStatePort on the replicated store (reads: ${reads})`, async () => {
    const store = newStore(reads);
    return {
      state: new SimStatePort({ replica: store.replica(MAIN) }),
      stateAs: (writer) => new SimStatePort({ replica: store.replica(MAIN), writer }),
      // A real replicated write: the writer's replica first takes in what it has not seen (so its
      // stamp is above it), writes its slot, and replication lands it in the main replica.
      replicated: async (writer, record) => {
        store.flush({ all: true });
        putStatusSlot(store.replica(writer), writer, record);
        store.flush({ all: true });
      },
      reset: async () => store.reset(),
      close: async () => undefined,
    };
  });
}

describe('SimStatePort specifics', () => {
  // Invariant: a port never aliases stored data: what a caller mutates after a write or a read is
  // not what the replica holds.
  it('copies records on write and on read', async () => {
    const store = newStore();
    const state = new SimStatePort({ replica: store.replica(MAIN) });
    const written = handoff();
    await state.createHandoff(written);
    (written.task as Record<string, unknown>).task_id = 'changed';
    const read = await state.getHandoff(written.handoff_id);
    expect(read?.task.task_id).toBe('task-1');
    (read?.decision.candidates as unknown[]).length = 0;
    expect((await state.getHandoff(written.handoff_id))?.decision.candidates).toHaveLength(1);
  });

  // Invariant: conditions are checked against the local replica only (DESIGN principle 4): two
  // regions that each create the same handoff before replication both succeed, and the later
  // write wins everywhere.
  it('lets two regions create the same handoff before replication, converging by last writer wins', async () => {
    const store = newStore();
    const us = new SimStatePort({ replica: store.replica('us-east-1'), writer: 'us-east-1' });
    const ap = new SimStatePort({ replica: store.replica('ap-south-1'), writer: 'ap-south-1' });
    await us.createHandoff(handoff({ target_region: 'us-east-1' }));
    await ap.createHandoff(handoff({ target_region: 'ap-south-1' }));
    store.flush({ all: true });
    for (const region of [MAIN, ...WRITERS]) {
      const port = new SimStatePort({ replica: store.replica(region) });
      // Same virtual instant: the tie goes to the greater region id (us-east-1 > ap-south-1).
      expect((await port.getHandoff('cross-region-task-1'))?.target_region).toBe('us-east-1');
      expect((await port.listHandoffsByTarget('us-east-1')).map((h) => h.handoff_id)).toEqual([
        'cross-region-task-1',
      ]);
      expect(await port.listHandoffsByTarget('ap-south-1')).toEqual([]);
    }
  });

  // Invariant: a region's status write lands in its own slot in every replica, so replication never
  // drops it (each slot has one writer) and every replica merges to the same record.
  it('replicates status slots so every region reads the same merged record', async () => {
    const store = newStore();
    const us = new SimStatePort({ replica: store.replica('us-east-1'), writer: 'us-east-1' });
    const eu = new SimStatePort({ replica: store.replica('eu-west-1'), writer: 'eu-west-1' });
    await us.putRegionStatus(
      status({ status: 'failed', epoch: 6, updated_by: 'failover@us-east-1' }),
      undefined,
    );
    await eu.putRegionStatus(
      status({ status: 'fenced', epoch: 6, updated_by: 'health-probe@eu-west-1' }),
      undefined,
    );
    store.flush({ all: true });
    for (const region of [MAIN, ...WRITERS]) {
      const replica = store.replica(region);
      expect(replica.get(keys.regionStatusPartition, 'eu-west-1#us-east-1')).toMatchObject({ epoch: 6 });
      expect(await new SimStatePort({ replica }).getRegionStatus('eu-west-1')).toMatchObject({
        status: 'failed',
        updated_by: 'failover@us-east-1',
      });
    }
  });

  // Invariant: with frozen reads a caller still cannot change the store through what it read.
  it('hands out frozen records that refuse mutation when reads are frozen', async () => {
    const store = newStore('frozen');
    const state = new SimStatePort({ replica: store.replica(MAIN) });
    await state.createHandoff(handoff());
    const read = (await state.getHandoff('cross-region-task-1')) as Handoff;
    expect(Object.isFrozen(read.decision.candidates)).toBe(true);
    expect(() => {
      (read.decision.candidates as unknown[]).push(1);
    }).toThrow(TypeError);
    expect((await state.getHandoff('cross-region-task-1'))?.decision.candidates).toHaveLength(1);
  });

  it('requires a writer that can end a sort key', () => {
    expect(() => new SimStatePort({ replica: newStore().replica(MAIN), writer: 'eu#west' })).toThrow(
      /writer/,
    );
  });
});
