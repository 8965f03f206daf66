import type { EventsPort, PrivacyPort } from '../../ports.ts';
import type { RegionalDeps } from '../deps.ts';

/** What the privacy API and the privacy sweeper need. */
export interface PrivacyDeps extends RegionalDeps {
  readonly events: EventsPort;
  /**
   * The privacy records of a region's replica; `privacy(regionId)` is this region's own. Another
   * region's may be unreachable (a partition, a region down): its calls then reject.
   */
  readonly privacy: (regionId: string) => PrivacyPort;
}
