import type { Topology } from '../core/topology/types.ts';
import type { Clock, StatePort } from '../ports.ts';

/** What every regional handler is given by its composition root (Lambda or local). */
export interface RegionalDeps {
  /** The region this handler serves, e.g. `us-east-1`. */
  readonly regionId: string;
  readonly topology: Topology;
  /** This region's replica of the shared state. */
  readonly state: StatePort;
  readonly clock: Clock;
}
