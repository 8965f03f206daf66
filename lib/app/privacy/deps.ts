import type { DepsWith, Ports } from '../deps.ts';

/**
 * What the privacy API and the privacy sweeper use: a region's privacy records (`privacy(regionId)`
 * is this region's own; another region's may be unreachable, a partition or a region down, and its
 * calls then reject) and the bus, required; the resource pool when the root has one (an erasure
 * gives back the reservation of a handoff it deletes, and a runtime without a pool holds none).
 */
export type PrivacyDeps = DepsWith<'privacy' | 'events'> & Partial<Pick<Ports, 'resources'>>;
