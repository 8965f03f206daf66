import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../lib/core/errors.ts';
import type { RegionPool, Reservation } from '../../lib/core/resources/pool.ts';
import type { RebalanceMove } from '../../lib/core/resources/rebalance.ts';
import type { Handoff } from '../../lib/core/state/records.ts';
import type { RebalanceRecord, ResourcesPort, StatePort } from '../../lib/ports.ts';
import { handoff } from './state.contract.ts';

export interface ResourcesFixture {
  readonly resources: ResourcesPort;
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
