/**
 * Traffic classes of the mesh (the topology's `qos`): a path such as `failover/fo-1` or
 * `replication/state` falls in the highest-priority class with a matching pattern; `*` matches any
 * run of characters, slashes included.
 */
import type { QosTrafficClass } from '../topology/sections.ts';

/** Exported as the meaning of the topology's `qos` patterns (docs/network.md), for the mesh's users. */
export function classifyTraffic(
  path: string,
  classes: readonly QosTrafficClass[],
): QosTrafficClass | undefined {
  const ordered = [...classes].sort((a, b) => a.priority - b.priority);
  return ordered.find((c) => c.patterns.some((pattern) => globMatches(pattern, path)));
}

function globMatches(pattern: string, path: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 's').test(path);
}
