import type { AuditArchivePort, CompliancePort, EventsPort } from '../../ports.ts';
import type { RegionalDeps } from '../deps.ts';

/** What the compliance API and the scheduled audit need: a region's basics and its bus. */
export interface ComplianceDeps extends RegionalDeps {
  readonly events: EventsPort;
  /** Where reports are also kept (an S3 bucket in the region's jurisdiction), when configured. */
  readonly archive?: AuditArchivePort;
}

/** The compliance store of the deps; a composition root that forgot it is a wiring bug (500). */
export function complianceStore(deps: RegionalDeps): CompliancePort {
  if (!deps.compliance) throw new Error('compliance store is not configured (deps.compliance)');
  return deps.compliance;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
