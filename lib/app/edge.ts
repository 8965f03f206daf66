/**
 * What the handlers and their request schemas (functions/) use of the domain beyond the use cases'
 * own exports: the types they name and the rules a request is validated by. Defined in lib/core and
 * lib/ports.ts; re-exported here so handlers depend on lib/app alone (.dependency-cruiser.mjs).
 */
export { APPROVAL_REF_PATTERN, APPROVAL_REF_RULE } from '../core/compliance/types.ts';
export type { FailoverAction } from '../core/failover/types.ts';
export type { Assessment } from '../core/health/types.ts';
export { SUBJECT_ID_PATTERN } from '../core/privacy/rules.ts';
export { ERASURE_EXCEPTIONS } from '../core/privacy/types.ts';
export { type VersionVector, vectorProblem } from '../core/replication/version-vector.ts';
export { REGION_ID_PATTERN } from '../core/topology/types.ts';
export type { EventsPort, McpRegistryPort } from '../ports.ts';
