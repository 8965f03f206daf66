import { CortexError, type FieldIssue } from '../errors.ts';

/**
 * A well-formed data-subject request the jurisdiction's policy does not provide for (no
 * `individual_rights.<type>`): answered 422, nothing written.
 */
export class RightNotGrantedError extends CortexError {
  readonly code = 'RIGHT_NOT_GRANTED';
  readonly details: readonly FieldIssue[];
  constructor(message: string, details: readonly FieldIssue[]) {
    super(message);
    this.details = details;
  }
}
