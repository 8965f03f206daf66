/**
 * Epoch milliseconds as ISO 8601 (`2026-11-26T12:00:00.000Z`), as records and answers carry them.
 * Formatting a date costs about a microsecond, and every probe answer, round and failover step asks
 * for one, mostly for the instant asked last (a round's answers share its clock reading): the last
 * one is kept. A time that is not a valid date throws RangeError, as Date's toISOString does.
 */
export function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

let lastMs = Number.NaN;
let lastIso = '';

/** Epoch milliseconds as ISO 8601 to the second (`2026-11-26T12:00:00Z`), as audits and privacy records carry them. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
