import { CortexError } from '../../core/errors.ts';
import type { DocumentPort, EventsPort, OpsPort, ReplicationPort } from '../../ports.ts';
import type { RegionalDeps } from '../deps.ts';

/**
 * What the operations use cases need: the basics (the report reads regions, latency, resources and
 * compliance through them, and `ops` stores incidents and reports), the bus for notifications. The
 * replication ports, when wired, let the report read every replica's lag.
 */
export interface OpsDeps extends RegionalDeps {
  readonly events: EventsPort;
  readonly replication?: (regionId: string) => ReplicationPort;
  readonly documents?: DocumentPort;
}

/** The runtime did not wire the ops store (a 500: a deployment mistake, not the caller's). */
export class OpsNotConfiguredError extends CortexError {
  readonly code = 'OPS_NOT_CONFIGURED';
  constructor() {
    super('the operations store is not configured in this runtime (deps.ops)');
  }
}

export function opsStore(deps: RegionalDeps): OpsPort {
  if (!deps.ops) throw new OpsNotConfiguredError();
  return deps.ops;
}
