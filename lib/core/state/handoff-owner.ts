/**
 * The owner region of a task: the region whose replica takes the one conditional claim
 * of the task's handoff, whichever region is asked. Conditional writes on a global table are checked
 * against the local replica only (DESIGN principle 4), so two regions that each create the handoff
 * in their own replica both win; claiming in one agreed replica makes them race on one condition.
 *
 * The owner depends on the task id and the topology's regions only, never on statuses or lag, so
 * every region computes the same one at any time: rendezvous (highest random weight) hashing, which
 * moves only the tasks of a region added or removed. Pure: no I/O.
 */

/** FNV-1a, 32 bits: small, stable across runtimes, well spread for short keys. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  // A final avalanche, so keys that differ in their last characters spread over the whole range.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b) >>> 0;
  hash ^= hash >>> 13;
  return hash >>> 0;
}

/** The regions in the task's claim order: the owner first, then who takes over its duties. */
function ownerRanking(regionIds: readonly string[], taskId: string): string[] {
  return [...regionIds]
    .map((region) => ({ region, weight: fnv1a(`${region}\u0000${taskId}`) }))
    .sort((a, b) => b.weight - a.weight || (a.region < b.region ? -1 : 1))
    .map((entry) => entry.region);
}

/** The task's owner region. */
export function taskOwner(regionIds: readonly string[], taskId: string): string {
  const [owner] = ownerRanking(regionIds, taskId);
  if (owner === undefined) throw new Error('taskOwner: no regions');
  return owner;
}

/**
 * The region that looks after the task's handoff while its target cannot (redirecting it when the
 * target is failed or fenced): the first of the claim order that is not the target. One region per
 * handoff, whatever any replica says of statuses, so two regions never move the same handoff.
 */
export function handoffKeeper(regionIds: readonly string[], taskId: string, target: string): string {
  const keeper = ownerRanking(regionIds, taskId).find((region) => region !== target);
  return keeper ?? target;
}
