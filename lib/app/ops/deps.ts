import type { DocumentPort, EventsPort, OpsPort, ReplicationPort } from '../../ports.ts';
import type { RegionalDeps } from '../deps.ts';

/**
 * What the operations use cases need: the basics (the report reads regions, latency, resources and
 * compliance through them, and `ops` stores incidents and reports), the bus for notifications. The
 * replication ports, when wired, let the report read every replica's lag.
 */
export interface OpsDeps extends RegionalDeps {
  /** Where incidents and reports are kept. */
  readonly ops: OpsPort;
  readonly events: EventsPort;
  readonly replication?: (regionId: string) => ReplicationPort;
  readonly documents?: DocumentPort;
}
