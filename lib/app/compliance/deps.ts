import type { Failovers, Handoffs } from '../../ports.ts';
import type { DepsWith, WithState } from '../deps.ts';

/**
 * What the compliance API and the scheduled audit need: the deployment facts the rules check, the
 * approvals and reports store, this region's selective tables and the bus, and of the shared state
 * the handoffs and failovers an audit judges. The audit bucket is a deployment option.
 */
export type ComplianceDeps = WithState<
  DepsWith<'deployment' | 'compliance' | 'selective' | 'events' | 'archive'>,
  Handoffs & Failovers
>;
