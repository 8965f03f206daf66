/**
 * What the replication use cases need: the basics, events, and every region's replica of the
 * replication bookkeeping plus this region's versioned documents, each required: the replication
 * API, the monitor and the DR function are wired with them (FUNCTION_PORTS).
 */
import { messageOf } from '../../core/errors.ts';
import { isoTime } from '../../core/time.ts';
import type { DepsWith } from '../deps.ts';

export type ReplicationDeps = DepsWith<'replication' | 'documents' | 'events'>;

/** Publishes best effort (EventsPort contract): a lost event never fails a monitor round or a write. */
export async function publishEvents(
  deps: Pick<ReplicationDeps, 'events' | 'regionId' | 'clock'>,
  events: readonly { readonly type: string; readonly detail: Readonly<Record<string, unknown>> }[],
): Promise<string | undefined> {
  if (events.length === 0) return undefined;
  const time = isoTime(deps.clock.now());
  try {
    await deps.events.publish(
      events.map((e) => ({ type: e.type, source_region: deps.regionId, time, detail: e.detail })),
    );
    return undefined;
  } catch (error) {
    return messageOf(error);
  }
}
