import type { Handoffs, HealthViews, Heartbeats, RegionStatuses } from '../../ports.ts';
import type { Ports, RegionBasics, WithState } from '../deps.ts';

/**
 * What the resources API reads and writes: the basics, the pool and the bus, each when wired (the
 * resources function is wired with both: FUNCTION_PORTS); of the shared state, the handoffs it
 * settles and accepts and what an accept reads of this region (its status, whether it is catching up).
 */
export type ResourcesDeps = WithState<
  RegionBasics & Partial<Pick<Ports, 'resources' | 'events'>>,
  RegionStatuses & Handoffs & HealthViews & Heartbeats
>;
