/**
 * The errors the use cases throw, and the helpers that turn a schema's issues into a
 * ValidationError's details: what the HTTP edge (functions/shared/http.ts) maps to status codes.
 * Defined in lib/core; re-exported here so handlers depend on lib/app alone (.dependency-cruiser.mjs).
 */
export {
  ConflictError,
  CoordinatorUnreachableError,
  CortexError,
  type FieldIssue,
  NoEligibleRegionError,
  NotFoundError,
  PayloadTooLargeError,
  RegionNotServingError,
  StateUnavailableError,
  TopologyError,
  ValidationError,
} from '../core/errors.ts';
export { RightNotGrantedError } from '../core/privacy/errors.ts';
export { schemaIssues, type ZodIssueLike, zodReason } from '../core/schema-issues.ts';
