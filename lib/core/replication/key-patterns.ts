/**
 * Key patterns of the selective replication policies.
 *
 * `/` separates segments, `*` matches any characters within one segment
 * (`coordination/*\/knowledge-base/*` matches `coordination/t1/knowledge-base/doc`, not
 * `coordination/a/b/knowledge-base/doc`). A key matching several policies belongs to the first.
 */

/** `pattern` (segments split by `/`, `*` any characters within a segment) matches `key`. */
export function matchesPattern(pattern: string, key: string): boolean {
  const want = pattern.split('/');
  const got = key.split('/');
  return want.length === got.length && want.every((segment, i) => globMatch(segment, got[i] ?? ''));
}

/** Some key matches both patterns. */
export function patternsOverlap(a: string, b: string): boolean {
  const left = a.split('/');
  const right = b.split('/');
  return left.length === right.length && left.every((segment, i) => globsOverlap(segment, right[i] ?? ''));
}

function globMatch(glob: string, text: string): boolean {
  const source = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 's').test(text);
}

/** Two globs over one segment (`*` = any characters) share a matching string. */
function globsOverlap(a: string, b: string): boolean {
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const id = i * (b.length + 1) + j;
    const known = memo.get(id);
    if (known !== undefined) return known;
    let result: boolean;
    if (i === a.length && j === b.length) result = true;
    else if (a[i] === '*') result = go(i + 1, j) || (j < b.length && go(i, j + 1));
    else if (b[j] === '*') result = go(i, j + 1) || (i < a.length && go(i + 1, j));
    else result = i < a.length && j < b.length && a[i] === b[j] && go(i + 1, j + 1);
    memo.set(id, result);
    return result;
  };
  return go(0, 0);
}
