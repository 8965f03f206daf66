import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../lib/core/errors.ts';
import type { RegionStatusRecord } from '../../lib/core/state/records.ts';
import type { RegionStatuses } from '../../lib/ports.ts';
import { type StateFixture, status, useStateFixture } from './state-fixture.ts';

/**
 * The RegionStatuses contract (STYLE 4): epochs that only grow, one writer per slot, one rule for ties.
 * Every StatePort implementation's test file runs it, through stateContract (state.contract.ts).
 */
export function regionStatusesContract(
  name: string,
  setup: () => Promise<StateFixture<RegionStatuses>>,
): void {
  describe(`RegionStatuses contract: ${name}`, () => {
    const fixture = useStateFixture(setup);

    it('answers undefined for a region that has no status record', async () => {
      expect(await fixture.state.getRegionStatus('eu-west-1')).toBeUndefined();
      expect(await fixture.state.listRegionStatuses()).toEqual([]);
    });

    it('creates a status record only when none exists', async () => {
      await fixture.state.putRegionStatus(status(), undefined);
      expect(await fixture.state.getRegionStatus('eu-west-1')).toEqual(status());
      const error = await fixture.state.putRegionStatus(status({ epoch: 2 }), undefined).catch((e) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect(error.code).toBe('EPOCH_CONFLICT');
      expect(error.current).toEqual(status());
    });

    it('updates a status only from the expected epoch, to a higher one', async () => {
      await fixture.state.putRegionStatus(status(), undefined);
      await fixture.state.putRegionStatus(status({ status: 'draining', epoch: 2 }), 1);
      expect((await fixture.state.getRegionStatus('eu-west-1'))?.status).toBe('draining');

      const stale = await fixture.state
        .putRegionStatus(status({ status: 'failed', epoch: 3 }), 1)
        .catch((e) => e);
      expect(stale).toBeInstanceOf(ConflictError);
      expect(stale.current.epoch).toBe(2);

      const backwards = await fixture.state.putRegionStatus(status({ epoch: 2 }), 2).catch((e) => e);
      expect(backwards).toBeInstanceOf(ConflictError);
      expect(backwards.code).toBe('EPOCH_NOT_INCREASING');
      expect((await fixture.state.getRegionStatus('eu-west-1'))?.epoch).toBe(2);
    });

    it('lets exactly one of two concurrent writers from the same epoch win', async () => {
      await fixture.state.putRegionStatus(status(), undefined);
      const results = await Promise.allSettled([
        fixture.state.putRegionStatus(status({ status: 'failed', epoch: 2, updated_by: 'us-east-1' }), 1),
        fixture.state.putRegionStatus(status({ status: 'fenced', epoch: 2, updated_by: 'ap-south-1' }), 1),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason).toBeInstanceOf(ConflictError);
    });

    // Invariant: a status write is fenced by its epoch. A writer that decided from an older or equal
    // epoch (expected below the stored one, or none while one is stored) is refused and nothing changes.
    it('refuses a stale write at an older or equal epoch and changes nothing', async () => {
      await fixture.state.putRegionStatus(status({ epoch: 1 }), undefined);
      await fixture.state.putRegionStatus(status({ status: 'draining', epoch: 2 }), 1);
      await fixture.state.putRegionStatus(status({ status: 'failed', epoch: 3 }), 2);
      const stored = status({ status: 'failed', epoch: 3 });
      const attempts: [RegionStatusRecord, number | undefined][] = [
        [status({ status: 'healthy', epoch: 3 }), 2], // equal epoch, from an older one
        [status({ status: 'healthy', epoch: 2 }), 1], // older epoch
        [status({ status: 'healthy', epoch: 9 }), 1], // higher epoch decided from an old one
        [status({ status: 'healthy', epoch: 3 }), undefined], // equal, as if nothing were stored
        [status({ status: 'healthy', epoch: 9 }), undefined], // higher, as if nothing were stored
      ];
      for (const [record, expected] of attempts) {
        for (const port of [fixture.state, fixture.stateAs('ap-south-1')]) {
          const error = await port.putRegionStatus(record, expected).catch((e) => e);
          expect(error).toBeInstanceOf(ConflictError);
          expect(error.code).toBe('EPOCH_CONFLICT');
          expect(error.current).toEqual(stored);
        }
      }
      expect(await fixture.state.getRegionStatus('eu-west-1')).toEqual(stored);
      expect(await fixture.state.listRegionStatuses()).toEqual([stored]);
    });

    // Invariant: a writer whose own last write is older than another writer's is stale: it is
    // fenced by the merged epoch, not by its own slot.
    it('refuses a writer that decided from its own older write after another writer moved on', async () => {
      const us = fixture.stateAs('us-east-1');
      const ap = fixture.stateAs('ap-south-1');
      await us.putRegionStatus(status({ epoch: 5, updated_by: 'us-east-1' }), undefined);
      await fixture.replicated(
        'ap-south-1',
        status({ status: 'failed', epoch: 7, updated_by: 'ap-south-1' }),
      );
      const stale = await us.putRegionStatus(status({ status: 'draining', epoch: 6 }), 5).catch((e) => e);
      expect(stale.code).toBe('EPOCH_CONFLICT');
      expect(stale.current).toMatchObject({ status: 'failed', epoch: 7 });
      for (const port of [us, ap, fixture.state]) {
        expect(await port.getRegionStatus('eu-west-1')).toMatchObject({ status: 'failed', epoch: 7 });
      }
      // From the merged epoch it writes, and its write is the one every writer reads.
      await us.putRegionStatus(status({ status: 'healthy', epoch: 8, updated_by: 'us-east-1' }), 7);
      expect(await ap.getRegionStatus('eu-west-1')).toEqual(
        status({ status: 'healthy', epoch: 8, updated_by: 'us-east-1' }),
      );
    });

    // Invariant: epochs only grow. Whichever writer wrote last, every writer reads the highest epoch
    // written by any of them, with exactly the record that writer stored.
    it('merges the writes of several writers to the highest epoch', async () => {
      const us = fixture.stateAs('us-east-1');
      const eu = fixture.stateAs('eu-west-1');
      const r1 = status({ epoch: 1, updated_by: 'health-probe@eu-west-1' });
      const r2 = status({ status: 'draining', epoch: 2, updated_by: 'failover@us-east-1' });
      const r3 = status({ status: 'fenced', epoch: 3, updated_by: 'health-probe@eu-west-1' });
      await eu.putRegionStatus(r1, undefined);
      await us.putRegionStatus(r2, 1);
      await eu.putRegionStatus(r3, 2);
      await us.putRegionStatus(
        status({ region_id: 'us-east-1', updated_by: 'failover@us-east-1' }),
        undefined,
      );
      for (const port of [us, eu, fixture.state]) {
        expect(await port.getRegionStatus('eu-west-1')).toEqual(r3);
        expect(await port.listRegionStatuses()).toEqual([
          r3,
          status({ region_id: 'us-east-1', updated_by: 'failover@us-east-1' }),
        ]);
      }
    });

    // Invariant: the outcome does not depend on replication order. Two writes at one epoch (two
    // sides of a partition) resolve by one rule: another region's write (a failover decision) over
    // the region's own, then failed > draining > fenced > degraded > healthy, then the writer id.
    describe('equal epochs resolve the same whichever write arrived first', () => {
      const cases: {
        name: string;
        writes: [string, RegionStatusRecord][];
        winner: number;
      }[] = [
        {
          name: "a coordinator's failed over the region's own fence",
          writes: [
            ['eu-west-1', status({ status: 'fenced', epoch: 6, updated_by: 'health-probe@eu-west-1' })],
            ['us-east-1', status({ status: 'failed', epoch: 6, updated_by: 'failover@us-east-1' })],
          ],
          winner: 1,
        },
        {
          name: "a coordinator's write over the region's own, even a less severe one",
          writes: [
            ['eu-west-1', status({ status: 'fenced', epoch: 6, updated_by: 'health-probe@eu-west-1' })],
            ['ap-south-1', status({ status: 'healthy', epoch: 6, updated_by: 'failover@ap-south-1' })],
          ],
          winner: 1,
        },
        {
          name: 'between two coordinators, the more severe status',
          writes: [
            ['ap-south-1', status({ status: 'draining', epoch: 6, updated_by: 'failover@ap-south-1' })],
            ['us-east-1', status({ status: 'failed', epoch: 6, updated_by: 'failover@us-east-1' })],
          ],
          winner: 1,
        },
        {
          name: 'between two coordinators writing the same status, the lower writer id',
          writes: [
            ['us-east-1', status({ status: 'failed', epoch: 6, updated_by: 'failover@us-east-1' })],
            ['ap-south-1', status({ status: 'failed', epoch: 6, updated_by: 'failover@ap-south-1' })],
          ],
          winner: 1,
        },
        {
          name: 'a higher epoch over every tie rule',
          writes: [
            ['us-east-1', status({ status: 'failed', epoch: 6, updated_by: 'failover@us-east-1' })],
            ['eu-west-1', status({ status: 'healthy', epoch: 7, updated_by: 'health-probe@eu-west-1' })],
          ],
          winner: 1,
        },
      ];
      for (const { name, writes, winner } of cases) {
        it(name, async () => {
          const expected = writes[winner]?.[1];
          for (const order of [writes, [...writes].reverse()]) {
            await fixture.reset();
            for (const [writer, record] of order) await fixture.replicated(writer, record);
            for (const port of [fixture.state, ...writes.map(([writer]) => fixture.stateAs(writer))]) {
              expect(await port.getRegionStatus('eu-west-1')).toEqual(expected);
              expect(await port.listRegionStatuses()).toEqual([expected]);
            }
          }
          // The next write goes from the merged epoch, and only from it.
          const next = status({ status: 'healthy', epoch: 8, updated_by: 'failover@us-east-1' });
          const stale = await fixture
            .stateAs('us-east-1')
            .putRegionStatus(next, 5)
            .catch((e) => e);
          expect(stale.code).toBe('EPOCH_CONFLICT');
          await fixture.stateAs('us-east-1').putRegionStatus(next, expected?.epoch);
          expect(await fixture.state.getRegionStatus('eu-west-1')).toEqual(next);
        });
      }
    });

    it('lists every region status', async () => {
      await fixture.state.putRegionStatus(status({ region_id: 'us-east-1' }), undefined);
      await fixture.state.putRegionStatus(status({ region_id: 'eu-west-1', status: 'failed' }), undefined);
      const all = await fixture.state.listRegionStatuses();
      expect(all.map((s) => s.region_id).sort()).toEqual(['eu-west-1', 'us-east-1']);
    });
  });
}
