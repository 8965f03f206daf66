/**
 * What the replication use cases need: the basics, events, and every region's replica of the
 * replication bookkeeping plus this region's versioned documents, each required: the replication
 * API, the monitor and the DR function are wired with them (FUNCTION_PORTS).
 */
import { CortexError, messageOf } from '../../core/errors.ts';
import type { DepsWith, RegionalDeps } from '../deps.ts';

export type ReplicationDeps = DepsWith<'replication' | 'documents' | 'events'>;

/** The runtime did not wire the replication ports (a 500: a deployment mistake, not the caller's). */
class ReplicationNotConfiguredError extends CortexError {
  readonly code = 'REPLICATION_NOT_CONFIGURED';
  constructor(missing: readonly string[]) {
    super(`replication is not configured in this runtime (missing ${missing.join(', ')})`);
  }
}

type MaybeReplicationDeps = RegionalDeps &
  Partial<Pick<ReplicationDeps, 'events' | 'replication' | 'documents'>>;

/** The deps with the replication ports, or ReplicationNotConfiguredError naming what is missing. */
export function replicationDepsOf(deps: MaybeReplicationDeps): ReplicationDeps {
  const missing = (['events', 'replication', 'documents'] as const).filter(
    (name) => deps[name] === undefined,
  );
  if (missing.length > 0) throw new ReplicationNotConfiguredError(missing);
  return deps as ReplicationDeps;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Publishes best effort (EventsPort contract): a lost event never fails a monitor round or a write. */
export async function publishEvents(
  deps: Pick<ReplicationDeps, 'events' | 'regionId' | 'clock'>,
  events: readonly { readonly type: string; readonly detail: Readonly<Record<string, unknown>> }[],
): Promise<string | undefined> {
  if (events.length === 0) return undefined;
  const time = iso(deps.clock.now());
  try {
    await deps.events.publish(
      events.map((e) => ({ type: e.type, source_region: deps.regionId, time, detail: e.detail })),
    );
    return undefined;
  } catch (error) {
    return messageOf(error);
  }
}
