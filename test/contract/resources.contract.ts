import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../lib/core/errors.ts';
import { type HoldRef, holdRef, type RegionPool, type Reservation } from '../../lib/core/resources/pool.ts';
import type { RebalanceMove } from '../../lib/core/resources/rebalance.ts';
import type { Handoff } from '../../lib/core/state/records.ts';
import type { Clock, Hold, RebalanceRecord, ResourcesPort, StatePort } from '../../lib/ports.ts';
import { handoff } from './state.contract.ts';

export interface ResourcesFixture {
  readonly resources: ResourcesPort;
  /**
   * A port on the same store writing as `writer` (its held counters, its journal of releases),
   * stamping holds with `clock`: several regions' ports on one replica.
   */
  resourcesAs(writer: string, clock: Clock): ResourcesPort;
  /** A state port on the same replica: handoffs it creates are the ones `settleHandoff` settles. */
  readonly state: StatePort;
  /** Empties the store between tests. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

const HOUR = '2026-11-26T12';
const NEXT_HOUR = '2026-11-26T13';

export function pool(overrides: Partial<RegionPool> = {}): RegionPool {
  return {
    region: 'eu-west-1',
    allocation: { workers: 10, tokens_per_hour: 1000, compute_units: 100 },
    usage: { workers: 7, tokens_used: 600, compute_units: 70 },
    hour: HOUR,
    allocation_version: 0,
    ...overrides,
  };
}

export function reservation(overrides: Partial<Reservation> = {}): Reservation {
  return { region: 'eu-west-1', hour: HOUR, workers: 1, tokens: 100, compute_units: 10, ...overrides };
}

/** A reservation counted by a hold `by` made (at epoch ms 1000) for `handoffId`. */
export function heldReservation(
  by: string,
  overrides: Partial<Reservation> = {},
  handoffId = 'cross-region-task-1',
): Reservation & { readonly hold: HoldRef } {
  const base = reservation(overrides);
  return { ...base, hold: holdRef(handoffId, base.region, by, 1000) };
}

function rebalance(id: string, at: string): RebalanceRecord {
  const move: RebalanceMove = {
    resource: 'workers',
    from: 'ap-south-1',
    to: 'eu-west-1',
    amount: 2,
    reason: 'eu-west-1 at 90 %',
  };
  return { rebalance_id: id, at, region: 'us-east-1', moves: [move], applied: [move], skipped: [] };
}

/** The ResourcesPort contract (STYLE 4): every adapter's test file runs this suite. */
export function resourcesContract(name: string, setup: () => Promise<ResourcesFixture>): void {
  describe(`ResourcesPort contract: ${name}`, () => {
    let fixture: ResourcesFixture;
    let resources: ResourcesPort;
    let state: StatePort;

    beforeEach(async () => {
      fixture ??= await setup();
      await fixture.reset();
      ({ resources, state } = fixture);
    });
    afterAll(async () => {
      await fixture?.close();
    });

    const usage = async (region = 'eu-west-1', hour = HOUR) => (await resources.getPool(region, hour))?.usage;

    it('answers undefined for a region whose pool was never seeded', async () => {
      expect(await resources.getPool('eu-west-1', HOUR)).toBeUndefined();
      expect(await resources.listPools(HOUR)).toEqual([]);
    });

    // Invariant: seeding never overwrites a pool: a second seed (another region starting) is a no-op.
    it('seeds a pool once and reads it per hour', async () => {
      expect(await resources.seedPool(pool())).toBe(true);
      expect(
        await resources.seedPool(pool({ usage: { workers: 0, tokens_used: 0, compute_units: 0 } })),
      ).toBe(false);
      expect(await resources.getPool('eu-west-1', HOUR)).toEqual(pool());
      // Tokens are a budget per clock hour: the next hour starts at zero.
      expect(await resources.getPool('eu-west-1', NEXT_HOUR)).toEqual(
        pool({ hour: NEXT_HOUR, usage: { workers: 7, tokens_used: 0, compute_units: 70 } }),
      );
      await resources.seedPool(pool({ region: 'ap-south-1' }));
      expect((await resources.listPools(HOUR)).map((p) => p.region)).toEqual(['ap-south-1', 'eu-west-1']);
    });

    it('adds a reservation that fits to the usage, up to exactly the allocation', async () => {
      await resources.seedPool(pool());
      await resources.reserve(reservation({ workers: 3, tokens: 400, compute_units: 30 }), pool());
      expect(await usage()).toEqual({ workers: 10, tokens_used: 1000, compute_units: 100 });
      // A new hour's counter starts at zero: its tokens fit again.
      await resources.seedPool(pool({ region: 'ap-south-1' }));
      await resources.reserve(
        reservation({ region: 'ap-south-1', hour: NEXT_HOUR, workers: 1, tokens: 1000, compute_units: 0 }),
        pool({ region: 'ap-south-1' }),
      );
      expect(await usage('ap-south-1', NEXT_HOUR)).toEqual({
        workers: 8,
        tokens_used: 1000,
        compute_units: 70,
      });
      expect(await usage('ap-south-1', HOUR)).toEqual({ workers: 8, tokens_used: 600, compute_units: 70 });
    });

    // Invariant: a reservation never takes a region past its allocation; a refused one changes nothing.
    it('refuses a reservation that does not fit with CAPACITY_EXHAUSTED and the current pool', async () => {
      await resources.seedPool(pool());
      const tooMuch: Partial<Reservation>[] = [
        { workers: 4 },
        { tokens: 401 },
        { compute_units: 31 },
        // A task holds at least one worker's room, even one that asks for none.
        { workers: 0 },
      ];
      await resources.reserve(reservation({ workers: 3, tokens: 0, compute_units: 0 }), pool());
      for (const overrides of tooMuch) {
        const need = reservation({ workers: 0, tokens: 0, compute_units: 0, ...overrides });
        const error = await resources.reserve(need, pool()).catch((e) => e);
        expect(error).toBeInstanceOf(ConflictError);
        expect(error.code).toBe('CAPACITY_EXHAUSTED');
        expect(error.message).toContain('eu-west-1 cannot fit');
        expect(error.current).toEqual(
          pool({
            usage: { workers: 10, tokens_used: 600, compute_units: 70 },
            held: { workers: 3, compute_units: 0, tokens: 0 },
          }),
        );
      }
      expect(await usage()).toEqual({ workers: 10, tokens_used: 600, compute_units: 70 });
      const missing = await resources
        .reserve(reservation({ region: 'us-east-1' }), pool({ region: 'us-east-1' }))
        .catch((e) => e);
      expect(missing.code).toBe('CAPACITY_EXHAUSTED');
      expect(missing.current).toBeUndefined();
    });

    // Invariant: a reservation is only as good as the allocation it was computed from.
    it('refuses a reservation computed from another allocation version with ALLOCATION_CHANGED', async () => {
      await resources.seedPool(pool());
      await resources.setAllocation(
        'eu-west-1',
        HOUR,
        { workers: 20, tokens_per_hour: 1000, compute_units: 100 },
        0,
        't',
      );
      const error = await resources.reserve(reservation(), pool()).catch((e) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect(error.code).toBe('ALLOCATION_CHANGED');
      expect(error.message).toContain('version 1');
      expect(error.current.allocation_version).toBe(1);
      expect(await usage()).toEqual(pool().usage);
    });

    // Invariant: concurrent reservers on one replica never overcommit: exactly those that fit win.
    it('lets exactly as many concurrent reservations win as fit', async () => {
      await resources.seedPool(pool());
      const results = await Promise.allSettled(
        [1, 2, 3, 4, 5].map(() => resources.reserve(reservation({ tokens: 0, compute_units: 0 }), pool())),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      for (const r of results.filter((x) => x.status === 'rejected')) {
        expect((r as PromiseRejectedResult).reason.code).toBe('CAPACITY_EXHAUSTED');
      }
      expect((await usage())?.workers).toBe(10);
    });

    it("releases held workers and compute units, and counts the tokens used in the reservation's hour", async () => {
      await resources.seedPool(pool());
      const held = reservation({ workers: 2, tokens: 300, compute_units: 20 });
      await resources.reserve(held, pool());
      await resources.release(held, -100);
      expect(await usage()).toEqual({ workers: 7, tokens_used: 800, compute_units: 70 });
      const missing = await resources.release(reservation({ region: 'us-east-1' }), 0).catch((e) => e);
      expect(missing).toBeInstanceOf(ConflictError);
      expect(missing.code).toBe('POOL_MISSING');
    });

    it("replaces a region's usage with its report, and refuses one for a pool that does not exist", async () => {
      await resources.seedPool(pool());
      await resources.reportUsage(
        'eu-west-1',
        NEXT_HOUR,
        { workers: 2, tokens_used: 50, compute_units: 5 },
        't',
      );
      expect(await usage('eu-west-1', NEXT_HOUR)).toEqual({ workers: 2, tokens_used: 50, compute_units: 5 });
      expect((await usage('eu-west-1', HOUR))?.tokens_used).toBe(600);
      const error = await resources
        .reportUsage('us-east-1', HOUR, { workers: 1, tokens_used: 1, compute_units: 1 }, 't')
        .catch((e) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect(error.code).toBe('POOL_MISSING');
      expect(await resources.getPool('us-east-1', HOUR)).toBeUndefined();
    });

    // Invariant: an allocation changes only from the version it was read at, never below the usage.
    it('changes an allocation only from the expected version and never below the usage', async () => {
      await resources.seedPool(pool());
      const wider = { workers: 12, tokens_per_hour: 1200, compute_units: 120 };
      expect(await resources.setAllocation('eu-west-1', HOUR, wider, 0, 't')).toBe(1);
      expect(await resources.getPool('eu-west-1', HOUR)).toEqual(
        pool({ allocation: wider, allocation_version: 1 }),
      );
      const attempts: [typeof wider, number][] = [
        [{ workers: 20, tokens_per_hour: 2000, compute_units: 200 }, 0],
        [{ workers: 6, tokens_per_hour: 1200, compute_units: 120 }, 1],
        [{ workers: 12, tokens_per_hour: 599, compute_units: 120 }, 1],
        [{ workers: 12, tokens_per_hour: 1200, compute_units: 69 }, 1],
      ];
      for (const [allocation, version] of attempts) {
        const error = await resources
          .setAllocation('eu-west-1', HOUR, allocation, version, 't')
          .catch((e) => e);
        expect(error).toBeInstanceOf(ConflictError);
        expect(error.code).toBe('ALLOCATION_CHANGED');
        expect(error.current).toEqual(pool({ allocation: wider, allocation_version: 1 }));
      }
      // Tokens of an hour with no counter yet are zero: any token allocation fits that hour.
      expect(
        await resources.setAllocation('eu-west-1', NEXT_HOUR, { ...wider, tokens_per_hour: 0 }, 1, 't'),
      ).toBe(2);
      const missing = await resources.setAllocation('us-east-1', HOUR, wider, 0, 't').catch((e) => e);
      expect(missing.code).toBe('ALLOCATION_CHANGED');
      expect(missing.current).toBeUndefined();
    });

    // Invariant: a handoff is settled once, so its reservation is released once.
    it('settles an open handoff once and hands back the handoff as it was', async () => {
      await state.createHandoff(handoff());
      const results = await Promise.all(
        [1, 2, 3].map(() =>
          resources.settleHandoff('cross-region-task-1', 'completed', { actual_tokens: 70 }),
        ),
      );
      const settled = results.filter((r): r is Handoff => r !== undefined);
      expect(settled).toEqual([handoff()]);
      expect(await state.getHandoff('cross-region-task-1')).toEqual({
        ...handoff(),
        status: 'completed',
        settlement: { actual_tokens: 70 },
      });
      expect(await resources.settleHandoff('cross-region-task-1', 'failed', {})).toBeUndefined();
      expect(await resources.settleHandoff('cross-region-none', 'failed', {})).toBeUndefined();
    });

    it('settles pending, accepted and redirected handoffs, and never completed or failed ones', async () => {
      const statuses = ['pending', 'accepted', 'redirected', 'completed', 'failed'] as const;
      for (const status of statuses)
        await state.createHandoff(handoff({ handoff_id: `h-${status}`, status }));
      const outcomes = await Promise.all(
        statuses.map(async (status) => (await resources.settleHandoff(`h-${status}`, 'failed', {}))?.status),
      );
      expect(outcomes).toEqual(['pending', 'accepted', 'redirected', undefined, undefined]);
      expect((await state.getHandoff('h-completed'))?.status).toBe('completed');
      // A settled handoff is still listed under its target.
      expect((await state.listHandoffsByTarget('eu-west-1')).map((h) => h.handoff_id)).toHaveLength(5);
    });

    it('drops token counters of hours before the one to keep, and only those', async () => {
      await resources.seedPool(pool({ hour: '2026-11-26T10' }));
      await resources.reportUsage(
        'eu-west-1',
        '2026-11-26T11',
        { workers: 7, tokens_used: 5, compute_units: 70 },
        't',
      );
      await resources.reportUsage('eu-west-1', HOUR, { workers: 7, tokens_used: 9, compute_units: 70 }, 't');
      expect(await resources.compactTokens('eu-west-1', HOUR)).toBe(2);
      expect(await resources.compactTokens('eu-west-1', HOUR)).toBe(0);
      expect(await resources.compactTokens('us-east-1', HOUR)).toBe(0);
      expect((await usage('eu-west-1', HOUR))?.tokens_used).toBe(9);
      expect((await usage('eu-west-1', '2026-11-26T11'))?.tokens_used).toBe(0);
    });

    describe('holds (one per reservation, released at most once)', () => {
      const WRITERS = ['us-east-1', 'eu-west-1', 'ap-south-1'];
      const clock = { now: () => 5_000 };
      let us: ResourcesPort;
      let eu: ResourcesPort;
      let ap: ResourcesPort;
      const held = heldReservation('us-east-1', { workers: 2, tokens: 300, compute_units: 20 });
      const hold = held.hold;
      const holdOf = async (port: ResourcesPort = us): Promise<Hold | undefined> =>
        (await port.listHolds('us-east-1')).find((h) => h.reservation.hold.id === hold.id);

      beforeEach(async () => {
        clock.now = () => 5_000;
        us = fixture.resourcesAs('us-east-1', clock);
        eu = fixture.resourcesAs('eu-west-1', clock);
        ap = fixture.resourcesAs('ap-south-1', clock);
        await resources.seedPool(pool());
      });

      // Invariant: a hold is added once: reserving it again (a retried call) adds nothing.
      it('records a hold with its reservation and counts it once however often it is reserved', async () => {
        await us.reserve(held, pool());
        await us.reserve(held, pool());
        expect(await usage()).toEqual({ workers: 9, tokens_used: 900, compute_units: 90 });
        expect(await us.listHolds()).toEqual([{ reservation: held, changed_at: 5_000 }]);
        expect(await eu.listHolds('us-east-1')).toEqual(await us.listHolds());
        expect(await eu.listHolds()).toEqual([]);
      });

      // Invariant: two releases of one hold are one, whichever writers make them.
      it('releases a hold once: a second release by any writer releases nothing', async () => {
        await us.reserve(held, pool());
        clock.now = () => 6_000;
        expect(await eu.release(held, -100)).toBe(true);
        expect(await usage()).toEqual({ workers: 7, tokens_used: 800, compute_units: 70 });
        expect(await eu.release(held, -300)).toBe(false);
        expect(await us.release(held, -300)).toBe(false);
        expect(await usage()).toEqual({ workers: 7, tokens_used: 800, compute_units: 70 });
        expect(await holdOf()).toEqual({
          reservation: held,
          changed_at: 6_000,
          released_by: 'eu-west-1',
          released_tokens: -100,
        });
      });

      it('lets exactly one of concurrent releases of a hold release it', async () => {
        await us.reserve(held, pool());
        const released = await Promise.all([us, eu, ap, eu].map((port) => port.release(held, -300)));
        expect(released.filter(Boolean)).toHaveLength(1);
        expect(await usage()).toEqual(pool().usage);
      });

      // A release may reach a replica before the hold it releases does: it writes the hold whole.
      it('releases a hold this store has not seen yet, writing it whole', async () => {
        expect(await eu.release(held, -300)).toBe(true);
        expect(await usage()).toEqual({ workers: 5, tokens_used: 300, compute_units: 50 });
        expect(await holdOf(eu)).toEqual({
          reservation: held,
          changed_at: 5_000,
          released_by: 'eu-west-1',
          released_tokens: -300,
        });
        // The hold arriving later is counted as recorded already: nothing is added.
        await us.reserve(held, pool());
        expect(await usage()).toEqual({ workers: 5, tokens_used: 300, compute_units: 50 });
      });

      it('restores a released hold only from the release that stands', async () => {
        await us.reserve(held, pool());
        expect(await us.restoreHold(hold, 'eu-west-1')).toBe(false);
        await eu.release(held, -300);
        expect(await us.restoreHold(hold, 'ap-south-1')).toBe(false);
        clock.now = () => 7_000;
        expect(await us.restoreHold(hold, 'eu-west-1')).toBe(true);
        expect(await us.restoreHold(hold, 'eu-west-1')).toBe(false);
        expect(await holdOf()).toEqual({ reservation: held, changed_at: 7_000 });
      });

      // Invariant: a release that no longer stands (another won, or the hold was restored) is given
      // back by its writer, once; the one that stands is kept.
      it('gives back releases that no longer stand, once, and keeps the one that stands', async () => {
        await us.reserve(held, pool());
        await eu.release(held, -300);
        await us.restoreHold(hold, 'eu-west-1');
        await ap.release(held, -100);
        // eu's and ap's releases both dropped their counters: one too many until eu gives its back.
        expect(await usage()).toEqual({ workers: 5, tokens_used: 500, compute_units: 50 });
        expect(await ap.settleReleases()).toEqual([]);
        expect(await eu.settleReleases()).toEqual([hold]);
        expect(await eu.settleReleases()).toEqual([]);
        expect(await usage()).toEqual({ workers: 7, tokens_used: 800, compute_units: 70 });
        // Restored again: ap's release no longer stands either, and the hold counts once more.
        await us.restoreHold(hold, 'ap-south-1');
        expect(await ap.settleReleases()).toEqual([hold]);
        expect(await usage()).toEqual({ workers: 9, tokens_used: 900, compute_units: 90 });
      });

      it('lets exactly one of concurrent give-backs of a release give it back', async () => {
        await us.reserve(held, pool());
        await eu.release(held, -300);
        await us.restoreHold(hold, 'eu-west-1');
        const given = await Promise.all([1, 2, 3].map(() => eu.settleReleases()));
        expect(given.flat()).toEqual([hold]);
        expect(await usage()).toEqual({ workers: 9, tokens_used: 900, compute_units: 90 });
      });

      // A writer releasing a hold again before giving back its earlier release: that one stands again
      // (its counter dropped for it already), so nothing drops twice.
      it('drops nothing for a release whose earlier one by the same writer was never given back', async () => {
        await us.reserve(held, pool());
        await eu.release(held, -300);
        await us.restoreHold(hold, 'eu-west-1');
        expect(await eu.release(held, -300)).toBe(true);
        expect(await usage()).toEqual(pool().usage);
        expect(await eu.settleReleases()).toEqual([]);
        expect(await usage()).toEqual(pool().usage);
      });

      it('forgets only a released hold, and a release of a forgotten hold stands', async () => {
        await us.reserve(held, pool());
        expect(await us.forgetHold(hold, WRITERS)).toBe(false);
        await eu.release(held, -300);
        expect(await us.forgetHold(hold, WRITERS)).toBe(true);
        expect(await us.listHolds()).toEqual([]);
        expect(await eu.settleReleases()).toEqual([]);
        expect(await usage()).toEqual(pool().usage);
        // The journal entry went with it: a later look gives nothing back either.
        expect(await eu.settleReleases()).toEqual([]);
      });

      // Invariant: a release that lost is given back before its hold goes (without the hold there is
      // nothing left to tell it lost).
      it('keeps a released hold while another writer journals a release of it not given back', async () => {
        await us.reserve(held, pool());
        await eu.release(held, -300);
        await us.restoreHold(hold, 'eu-west-1');
        await ap.release(held, -300);
        expect(await us.forgetHold(hold, WRITERS)).toBe(false);
        expect(await eu.settleReleases()).toEqual([hold]);
        expect(await us.forgetHold(hold, WRITERS)).toBe(true);
        expect(await ap.settleReleases()).toEqual([]);
        expect(await usage()).toEqual(pool().usage);
      });

      it('releases a reservation without a hold every time, as before holds', async () => {
        const plain = reservation({ workers: 1, tokens: 0, compute_units: 0 });
        await us.reserve(plain, pool());
        expect(await us.release(plain, 0)).toBe(true);
        expect(await us.release(plain, 0)).toBe(true);
        expect((await usage())?.workers).toBe(6);
      });
    });

    it('lists rebalances newest first, up to the limit', async () => {
      await resources.putRebalance(rebalance('r1', '2026-11-26T12:00:00Z'));
      await resources.putRebalance(rebalance('r3', '2026-11-26T14:00:00Z'));
      await resources.putRebalance(rebalance('r2', '2026-11-26T13:00:00Z'));
      expect((await resources.listRebalances(2)).map((r) => r.rebalance_id)).toEqual(['r3', 'r2']);
      expect(await resources.listRebalances(5)).toEqual([
        rebalance('r3', '2026-11-26T14:00:00Z'),
        rebalance('r2', '2026-11-26T13:00:00Z'),
        rebalance('r1', '2026-11-26T12:00:00Z'),
      ]);
    });
  });
}
