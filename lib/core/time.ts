/**
 * Epoch milliseconds as ISO 8601 (`2026-11-26T12:00:00.000Z`), as records and answers carry them.
 * Formatting a date costs about a microsecond, and every probe answer, round and failover step asks
 * for one, mostly for the instant asked last (a round's answers share its clock reading) or another
 * instant of the same day: the last one is kept, and a time of the day formatted last reuses its
 * date and writes only the time of day (the same string Date writes). A time that is not a valid
 * date throws RangeError, as Date's toISOString does.
 */
export function isoTime(ms: number): string {
  if (ms === lastMs) return lastIso;
  const day = Math.floor(ms / DAY_MS);
  if (day === lastDay && Number.isInteger(ms)) {
    let rest = ms - day * DAY_MS;
    const milli = rest % 1000;
    rest = (rest - milli) / 1000;
    const second = rest % 60;
    rest = (rest - second) / 60;
    const minute = rest % 60;
    const hour = (rest - minute) / 60;
    lastMs = ms;
    lastIso = `${lastDate}${two(hour)}:${two(minute)}:${two(second)}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
    return lastIso;
  }
  // Date formats a new day and validates it: a time outside its range, or not a number, throws.
  const iso = new Date(ms).toISOString();
  lastMs = ms;
  lastIso = iso;
  // The day is kept for whole ms of a four-digit year (Date writes others with six digits and a sign).
  if (Number.isInteger(ms) && iso.length === 24) {
    lastDay = day;
    lastDate = iso.slice(0, 11);
  }
  return iso;
}

const DAY_MS = 86_400_000;

function two(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

let lastMs = Number.NaN;
let lastIso = '';
let lastDay = Number.NaN;
let lastDate = '';

/** Epoch milliseconds as ISO 8601 to the second (`2026-11-26T12:00:00Z`), as audits and privacy records carry them. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
