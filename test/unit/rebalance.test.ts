import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  planRebalance,
  RESOURCE_KINDS,
  type RebalanceConfig,
  type RebalanceRegion,
} from '../../lib/core/resources/rebalance.ts';

const SPEC: RebalanceConfig = { overload: 0.85, underutilized: 0.3 };

const amounts = (w: number, t: number, c: number) => ({ workers: w, tokens_per_hour: t, compute_units: c });

const region = fc
  .record({
    workers: fc.integer({ min: 0, max: 200 }),
    tokens: fc.integer({ min: 0, max: 2_000_000 }),
    compute: fc.integer({ min: 0, max: 2000 }),
    usedShare: fc.tuple(
      fc.double({ min: 0, max: 1.2, noNaN: true }),
      fc.double({ min: 0, max: 1.2, noNaN: true }),
      fc.double({ min: 0, max: 1.2, noNaN: true }),
    ),
    serving: fc.boolean(),
  })
  .map((r) => ({
    allocation: amounts(r.workers, r.tokens, r.compute),
    used: amounts(
      Math.floor(r.workers * r.usedShare[0]),
      Math.floor(r.tokens * r.usedShare[1]),
      Math.floor(r.compute * r.usedShare[2]),
    ),
    serving: r.serving,
  }));

const regions = fc
  .array(region, { minLength: 1, maxLength: 8 })
  .map((list): RebalanceRegion[] => list.map((r, i) => ({ region: `r${i}`, ...r })));

describe('planRebalance', () => {
  it('moves allocation from an idle region to an overloaded one, in a bounded step', () => {
    const plan = planRebalance(
      [
        {
          region: 'eu-west-1',
          serving: true,
          allocation: amounts(15, 300000, 300),
          used: amounts(14, 100000, 100),
        },
        {
          region: 'ap-south-1',
          serving: true,
          allocation: amounts(10, 200000, 200),
          used: amounts(2, 100000, 100),
        },
      ],
      SPEC,
    );
    expect(plan.moves).toEqual([
      expect.objectContaining({ resource: 'workers', from: 'ap-south-1', to: 'eu-west-1', amount: 2 }),
    ]);
    expect(plan.moves[0]?.reason).toMatch(
      /above the overload threshold 85%.*below the underutilized threshold 30%/,
    );
    expect(plan.allocations['eu-west-1']?.workers).toBe(17);
    expect(plan.allocations['ap-south-1']?.workers).toBe(8);
  });

  it('never takes from or gives to a region that is not serving', () => {
    const plan = planRebalance(
      [
        { region: 'a', serving: false, allocation: amounts(10, 0, 0), used: amounts(10, 0, 0) },
        { region: 'b', serving: false, allocation: amounts(10, 0, 0), used: amounts(0, 0, 0) },
      ],
      SPEC,
    );
    expect(plan.moves).toEqual([]);
  });

  it('conserves every total and leaves no region below its usage (property)', () => {
    fc.assert(
      fc.property(regions, (list) => {
        const plan = planRebalance(list, SPEC);
        for (const kind of RESOURCE_KINDS) {
          const before = list.reduce((sum, r) => sum + r.allocation[kind], 0);
          const after = list.reduce((sum, r) => sum + (plan.allocations[r.region]?.[kind] ?? 0), 0);
          expect(after).toBe(before);
        }
        for (const r of list) {
          for (const kind of RESOURCE_KINDS) {
            const after = plan.allocations[r.region]?.[kind] ?? 0;
            // A region only ever gains, or keeps at least what it uses.
            if (after < r.allocation[kind]) expect(after).toBeGreaterThanOrEqual(r.used[kind]);
            if (!r.serving) expect(after).toBe(r.allocation[kind]);
          }
        }
      }),
    );
  });

  it('moves only from underutilized to overloaded serving regions, each move within the step bound (property)', () => {
    fc.assert(
      fc.property(regions, (list) => {
        const plan = planRebalance(list, SPEC);
        const byId = new Map(list.map((r) => [r.region, r]));
        for (const move of plan.moves) {
          const from = byId.get(move.from) as RebalanceRegion;
          const to = byId.get(move.to) as RebalanceRegion;
          expect(from.serving && to.serving).toBe(true);
          expect(move.amount).toBeGreaterThan(0);
          const total = list.reduce((sum, r) => sum + r.allocation[move.resource], 0);
          expect(move.amount).toBeLessThanOrEqual(Math.max(1, Math.floor(total * 0.1)));
          expect(from.used[move.resource] / from.allocation[move.resource]).toBeLessThan(SPEC.underutilized);
          expect(to.used[move.resource] / to.allocation[move.resource]).toBeGreaterThan(SPEC.overload);
        }
      }),
    );
  });
});
