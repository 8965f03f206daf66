import type { DepsWith, OPERATIONS_PORTS, WithState } from '../deps.ts';

/**
 * What the operations API and the daily report are wired with: the ports the report reads (regions,
 * replication lag, latency, resources, compliance audits), `ops` where incidents and reports are
 * kept, the bus for notifications. Each use case takes the part it uses.
 */
export type OpsDeps = DepsWith<(typeof OPERATIONS_PORTS)[number]>;

/** What a shutdown or a restore needs: the incidents' store and the bus, of the shared state `S`. */
export type IncidentDeps<S> = WithState<DepsWith<'ops' | 'events'>, S>;
