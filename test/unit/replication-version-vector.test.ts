import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  clockOf,
  compareVectors,
  descends,
  hasSeen,
  incrementVector,
  maximalVersions,
  mergeVectors,
  siblingsOf,
  type VersionVector,
  vectorKey,
  vectorProblem,
} from '../../lib/core/replication/version-vector.ts';

const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';

const vector = fc.dictionary(fc.constantFrom(US, EU, AP), fc.integer({ min: 0, max: 5 }));

describe('version vectors', () => {
  it('orders versions by what each has seen; missing entries count as 0', () => {
    expect(compareVectors({ [US]: 1 }, { [US]: 1, [EU]: 0 })).toBe('equal');
    expect(compareVectors({ [US]: 1 }, { [US]: 2 })).toBe('before');
    expect(compareVectors({ [US]: 2, [EU]: 1 }, { [US]: 2 })).toBe('after');
    expect(compareVectors({ [US]: 2 }, { [US]: 1, [EU]: 1 })).toBe('concurrent');
    expect(compareVectors({}, {})).toBe('equal');
  });

  it('merges to the entry-wise maximum and increments past every counter of the region known', () => {
    expect(mergeVectors({ [US]: 2, [EU]: 1 }, { [EU]: 3, [AP]: 1 })).toEqual({ [AP]: 1, [EU]: 3, [US]: 2 });
    expect(incrementVector({ [US]: 1 }, EU)).toEqual({ [EU]: 1, [US]: 1 });
    // A write based on an old context must still not reuse a counter the region already gave out.
    expect(incrementVector({ [US]: 1 }, US, 4)).toEqual({ [US]: 5 });
  });

  it('keeps only the versions nothing else descends from (siblings), each vector once', () => {
    const versions: { id: string; vector: VersionVector }[] = [
      { id: 'a', vector: { [US]: 1 } },
      { id: 'b', vector: { [US]: 2 } },
      { id: 'c', vector: { [US]: 1, [EU]: 1 } },
      { id: 'd', vector: { [US]: 2 } },
    ];
    expect(maximalVersions(versions).map((v) => v.id)).toEqual(['b', 'c']);
    expect(maximalVersions([{ id: 'x', vector: {} }]).map((v) => v.id)).toEqual(['x']);
  });

  it('dotted versions: a stale write by a region already ahead is still concurrent with what it missed', () => {
    const first = { name: 'first', dot: { region: US, counter: 1 }, context: {} };
    const second = { name: 'second', dot: { region: US, counter: 2 }, context: { [US]: 1 } };
    // Based on `first` only, although us-east-1's counter is at 2: it must not hide `second`.
    const stale = { name: 'stale', dot: { region: US, counter: 3 }, context: { [US]: 1 } };
    expect(siblingsOf([first, second, stale]).map((v) => v.name)).toEqual(['second', 'stale']);
    expect(hasSeen(stale.context, second)).toBe(false);
    expect(hasSeen(second.context, first)).toBe(true);
    expect(clockOf(stale)).toEqual({ [US]: 3 });
    const merge = {
      name: 'merge',
      dot: { region: EU, counter: 1 },
      context: mergeVectors(clockOf(second), clockOf(stale)),
    };
    expect(siblingsOf([first, second, stale, merge]).map((v) => v.name)).toEqual(['merge']);
    // The same write seen twice (two replicas' copies) counts once.
    expect(siblingsOf([second, { ...second }]).map((v) => v.name)).toEqual(['second']);
  });

  it('gives equal vectors the same key and names what is wrong with a bad one', () => {
    expect(vectorKey({ [US]: 2, [AP]: 0, [EU]: 1 })).toBe('eu-west-1:1,us-east-1:2');
    expect(vectorProblem({ [US]: 1 })).toBeUndefined();
    expect(vectorProblem([1])).toMatch(/object/);
    expect(vectorProblem({ mars: 1 })).toMatch(/not a region id/);
    expect(vectorProblem({ [US]: -1 })).toMatch(/integer >= 0/);
    expect(vectorProblem({ [US]: 1.5 })).toMatch(/integer >= 0/);
  });

  it('compare is antisymmetric and merge is the least upper bound (property)', () => {
    fc.assert(
      fc.property(vector, vector, (a: VersionVector, b: VersionVector) => {
        const ab = compareVectors(a, b);
        const ba = compareVectors(b, a);
        const mirror = {
          equal: 'equal',
          before: 'after',
          after: 'before',
          concurrent: 'concurrent',
        } as const;
        expect(ba).toBe(mirror[ab]);
        const m = mergeVectors(a, b);
        expect(descends(m, a) && descends(m, b)).toBe(true);
        for (const region of [US, EU, AP])
          expect(m[region] ?? 0).toBe(Math.max(a[region] ?? 0, b[region] ?? 0));
      }),
    );
  });

  it('a write based on any context descends from it and from nothing it did not see (property)', () => {
    fc.assert(
      fc.property(vector, vector, fc.constantFrom(US, EU, AP), (seen: VersionVector, other, region) => {
        const written = incrementVector(seen, region, other[region] ?? 0);
        expect(compareVectors(written, seen)).toBe('after');
        if (compareVectors(other, seen) === 'concurrent' || compareVectors(other, seen) === 'after') {
          // `other` had something `seen` lacked: the write cannot claim to have seen it unless only in `region`.
          const lacks = [US, EU, AP].some((r) => r !== region && (other[r] ?? 0) > (seen[r] ?? 0));
          if (lacks) expect(descends(written, other)).toBe(false);
        }
      }),
    );
  });

  it('siblings are pairwise concurrent and cover every input (property)', () => {
    fc.assert(
      fc.property(fc.array(vector, { maxLength: 8 }), (vectors) => {
        const versions = vectors.map((v, i) => ({ i, vector: v }));
        const siblings = maximalVersions(versions);
        for (const a of siblings) {
          for (const b of siblings)
            if (a !== b) expect(compareVectors(a.vector, b.vector)).toBe('concurrent');
        }
        for (const v of versions) expect(siblings.some((s) => descends(s.vector, v.vector))).toBe(true);
      }),
    );
  });
});
