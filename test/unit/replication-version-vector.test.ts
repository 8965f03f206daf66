import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  clockOf,
  compareVectors,
  descends,
  hasSeen,
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

  it("merges to the entry-wise maximum; a write's clock is its context plus its own counter", () => {
    expect(mergeVectors({ [US]: 2, [EU]: 1 }, { [EU]: 3, [AP]: 1 })).toEqual({ [AP]: 1, [EU]: 3, [US]: 2 });
    expect(clockOf({ dot: { region: EU, counter: 1 }, context: { [US]: 1 } })).toEqual({ [EU]: 1, [US]: 1 });
    // A write based on an old context carries a counter past every one its region already gave out.
    expect(clockOf({ dot: { region: US, counter: 5 }, context: { [US]: 1 } })).toEqual({ [US]: 5 });
  });

  it('keeps only the versions nothing else has seen (siblings), each write once', () => {
    const versions: { id: string; dot: { region: string; counter: number }; context: VersionVector }[] = [
      { id: 'a', dot: { region: US, counter: 1 }, context: {} },
      { id: 'b', dot: { region: US, counter: 2 }, context: { [US]: 1 } },
      { id: 'c', dot: { region: EU, counter: 1 }, context: { [US]: 1 } },
      { id: 'd', dot: { region: US, counter: 2 }, context: { [US]: 1 } },
    ];
    expect(siblingsOf(versions).map((v) => v.id)).toEqual(['b', 'c']);
    expect(siblingsOf([{ id: 'x', dot: { region: US, counter: 1 }, context: {} }]).map((v) => v.id)).toEqual([
      'x',
    ]);
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
        // Its counter is past every one of its region known, as the document store gives it.
        const counter = Math.max(seen[region] ?? 0, other[region] ?? 0) + 1;
        const written = clockOf({ dot: { region, counter }, context: seen });
        expect(compareVectors(written, seen)).toBe('after');
        if (compareVectors(other, seen) === 'concurrent' || compareVectors(other, seen) === 'after') {
          // `other` had something `seen` lacked: the write cannot claim to have seen it unless only in `region`.
          const lacks = [US, EU, AP].some((r) => r !== region && (other[r] ?? 0) > (seen[r] ?? 0));
          if (lacks) expect(descends(written, other)).toBe(false);
        }
      }),
    );
  });

  it('siblings have not seen one another and cover every write (property)', () => {
    // A history as a region's replica writes it: each write saw some earlier ones and every earlier
    // write of its own region (its context is their clocks merged), and takes its region's next counter.
    const history = fc.array(
      fc.record({ region: fc.constantFrom(US, EU, AP), saw: fc.array(fc.nat(), { maxLength: 3 }) }),
      { maxLength: 8 },
    );
    fc.assert(
      fc.property(history, (steps) => {
        const versions: { i: number; dot: { region: string; counter: number }; context: VersionVector }[] =
          [];
        for (const [i, step] of steps.entries()) {
          const picked = versions.length === 0 ? [] : step.saw.map((n) => versions[n % versions.length]);
          const own = versions.filter((v) => v.dot.region === step.region);
          const context = mergeVectors(
            ...[...picked, ...own].map((v) => clockOf(v as (typeof versions)[number])),
          );
          versions.push({
            i,
            dot: { region: step.region, counter: (context[step.region] ?? 0) + 1 },
            context,
          });
        }
        const siblings = siblingsOf(versions);
        for (const a of siblings) {
          for (const b of siblings) if (a !== b) expect(hasSeen(a.context, b)).toBe(false);
        }
        for (const v of versions) expect(siblings.some((s) => s === v || hasSeen(s.context, v))).toBe(true);
      }),
    );
  });
});
