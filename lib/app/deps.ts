import type { Topology } from '../core/topology/types.ts';
import type { Clock, EventsPort, ProbePort, StatePort, WorkflowPort } from '../ports.ts';

/** What every regional handler is given by its composition root (Lambda or local). */
export interface RegionalDeps {
  /** The region this handler serves, e.g. `us-east-1`. */
  readonly regionId: string;
  readonly topology: Topology;
  /** This region's replica of the shared state. */
  readonly state: StatePort;
  readonly clock: Clock;
}

/** What the health probe, the failover steps and the failover API need beyond the basics. */
export interface ControlDeps extends RegionalDeps {
  readonly probe: ProbePort;
  readonly events: EventsPort;
  readonly workflow: WorkflowPort;
  /**
   * Another region's replica of the same table (the failover's sync check reads the target's
   * replica; a witness writes its views into each region's). `replica(regionId)` is `state`.
   */
  readonly replica: (regionId: string) => StatePort;
}
