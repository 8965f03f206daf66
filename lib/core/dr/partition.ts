/**
 * Partition groups from the probes' reachability matrix, and the group that keeps serving. Members
 * are regions and witnesses; two members are together when some fresh observation says one reaches
 * the other and none says it does not (witnesses probe regions, nobody probes a witness, so one
 * direction may be all there is).
 */

interface ReachabilityObservation {
  readonly observer: string;
  readonly target: string;
  readonly reachable: boolean;
}

/** Groups of members that reach one another (connected components), largest first, each sorted. */
export function partitionGroups(
  members: readonly string[],
  observations: readonly ReachabilityObservation[],
): string[][] {
  const known = new Set(members);
  const verdict = new Map<string, boolean>();
  const key = (a: string, b: string) => (a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`);
  for (const o of observations) {
    if (!known.has(o.observer) || !known.has(o.target) || o.observer === o.target) continue;
    const k = key(o.observer, o.target);
    verdict.set(k, (verdict.get(k) ?? true) && o.reachable);
  }
  const parent = new Map(members.map((m) => [m, m]));
  const find = (m: string): string => {
    let root = m;
    while (parent.get(root) !== root) root = parent.get(root) as string;
    parent.set(m, root);
    return root;
  };
  for (const [k, together] of verdict) {
    if (!together) continue;
    const [a, b] = k.split('\u0000') as [string, string];
    parent.set(find(a), find(b));
  }
  const groups = new Map<string, string[]>();
  for (const m of members) {
    const root = find(m);
    groups.set(root, [...(groups.get(root) ?? []), m]);
  }
  return [...groups.values()]
    .map((g) => g.sort())
    .sort((a, b) => b.length - a.length || (a[0] as string).localeCompare(b[0] as string));
}

export interface PrimaryGroupChoice {
  readonly primary: readonly string[];
  readonly minority: readonly (readonly string[])[];
  /** Why this group: its size, or the tie broken by tier. */
  readonly reason: string;
}

/**
 * The primary group is the largest; between groups of one size, the one holding the best-ranked
 * member (`rank`: lower is better, e.g. tier then failover priority; witnesses rank last).
 */
export function selectPrimaryGroup(
  groups: readonly (readonly string[])[],
  rank: (member: string) => number,
): PrimaryGroupChoice {
  if (groups.length === 0) throw new RangeError('selectPrimaryGroup: no groups');
  const best = (g: readonly string[]) => Math.min(...g.map(rank));
  const ordered = [...groups].sort((a, b) => b.length - a.length || best(a) - best(b));
  const primary = ordered[0] as readonly string[];
  const tied = ordered.filter((g) => g.length === primary.length).length > 1;
  return {
    primary,
    minority: ordered.slice(1),
    reason:
      ordered.length === 1
        ? 'one group: no partition'
        : tied
          ? `groups of ${primary.length} tied: the one with the best-ranked tier keeps serving`
          : `largest group (${primary.length} of ${groups.reduce((n, g) => n + g.length, 0)} members)`,
  };
}
