/**
 * Each region's availability over a window, from per-minute samples of one observer's view. A
 * minute counts as up when the region was serving and reachable by a majority of its observers as
 * that observer's round saw it; a minute without a sample is not measured (never counted as up), so
 * a region whose observer was itself down does not look available for the time nobody looked.
 */

/** What one observer saw of one region in one minute. */
export type MinuteState = 'up' | 'not_serving' | 'unreachable';

/** One observer's view of every region in one minute (written once a minute by its probe round). */
export interface AvailabilitySample {
  readonly observer: string;
  /** Epoch ms of the start of the minute (a multiple of 60,000). */
  readonly minute: number;
  /** Region id -> what the observer saw of it. */
  readonly regions: Readonly<Record<string, MinuteState>>;
}

export interface AvailabilityWindow {
  /** Minutes in the window (60 for the last hour, 1440 for the last day). */
  readonly window_minutes: number;
  /** Minutes of the window with a sample of the region. */
  readonly minutes_measured: number;
  /** Measured minutes in which it was up. */
  readonly minutes_up: number;
  /** window_minutes - minutes_measured: reported, never counted as up. */
  readonly minutes_not_measured: number;
  /** minutes_up / minutes_measured in percent (3 decimals), or null when nothing was measured. */
  readonly percent: number | null;
  /** The topology's target (`monitoring.health.region_availability.sla`), in percent. */
  readonly sla: number;
  /** percent >= sla, or null when nothing was measured. */
  readonly meets_sla: boolean | null;
}

export const MINUTE_MS = 60_000;
export const HOUR_MINUTES = 60;
export const DAY_MINUTES = 1440;

/** The start of the minute `at` (epoch ms) falls in. */
export function minuteBucket(at: number): number {
  return Math.floor(at / MINUTE_MS) * MINUTE_MS;
}

/**
 * What a round saw of one region: serving by its status and reachable by a majority of its
 * observers. A region whose status does not serve is `not_serving` whatever its reachability (the
 * quorum leaves regions that do not serve out of its members).
 */
export function minuteState(serving: boolean, reachableByMajority: boolean): MinuteState {
  if (!serving) return 'not_serving';
  return reachableByMajority ? 'up' : 'unreachable';
}

/**
 * A region's availability over the `windowMinutes` minutes ending with the minute of `now` (both
 * ends included: the window of 60 at 10:30:20 is 09:31 to 10:30). Samples outside the window are
 * ignored; two samples of one minute (a retried round) count once, the later in the list winning.
 */
export function availabilityOver(
  samples: readonly AvailabilitySample[],
  region: string,
  now: number,
  windowMinutes: number,
  sla: number,
): AvailabilityWindow {
  const { first, last } = windowBounds(now, windowMinutes);
  const byMinute = new Map<number, MinuteState>();
  for (const sample of samples) {
    const state = sample.regions[region];
    if (state === undefined || sample.minute < first || sample.minute > last) continue;
    byMinute.set(minuteBucket(sample.minute), state);
  }
  const measured = byMinute.size;
  const up = [...byMinute.values()].filter((s) => s === 'up').length;
  return windowOf(windowMinutes, measured, up, sla);
}

/** The first and last minute of the `windowMinutes` minutes ending with the minute of `now`. */
function windowBounds(now: number, windowMinutes: number): { first: number; last: number } {
  if (!Number.isInteger(windowMinutes) || windowMinutes < 1) {
    throw new RangeError(`windowMinutes must be a positive integer, got ${windowMinutes}`);
  }
  const last = minuteBucket(now);
  return { first: last - (windowMinutes - 1) * MINUTE_MS, last };
}

function windowOf(windowMinutes: number, measured: number, up: number, sla: number): AvailabilityWindow {
  const percent = measured === 0 ? null : Math.floor((up / measured) * 100_000) / 1000;
  return {
    window_minutes: windowMinutes,
    minutes_measured: measured,
    minutes_up: up,
    minutes_not_measured: windowMinutes - measured,
    percent,
    sla,
    meets_sla: percent === null ? null : percent >= sla,
  };
}

/**
 * An observer's last day rolled up as its samples are written, so that reading every region's
 * windows is one record instead of a day of samples: per region one character per minute, oldest
 * first, the last one for `last_minute` (`u` up, `n` not serving, `x` unreachable, `.` no sample).
 * A string shorter than a day starts later: the minutes before it have no sample.
 */
export interface AvailabilityLedger {
  readonly observer: string;
  /** Epoch ms of the newest minute the ledger holds (a multiple of 60,000). */
  readonly last_minute: number;
  readonly regions: Readonly<Record<string, string>>;
}

const CODES: Readonly<Record<MinuteState, string>> = { up: 'u', not_serving: 'n', unreachable: 'x' };
const NO_SAMPLE = '.';

/**
 * The ledger with one more sample, as availabilityOver would count it after the samples before: a
 * later sample of a minute replaces the earlier one for the regions it names; a sample older than the
 * ledger's day is dropped (it is outside every window the ledger answers).
 */
export function withSample(
  ledger: AvailabilityLedger | undefined,
  sample: AvailabilitySample,
): AvailabilityLedger {
  const minute = minuteBucket(sample.minute);
  const last = ledger === undefined ? minute : Math.max(ledger.last_minute, minute);
  const back = (last - minute) / MINUTE_MS;
  if (back >= DAY_MINUTES && ledger !== undefined) return ledger;
  const shift = ledger === undefined ? 0 : (last - ledger.last_minute) / MINUTE_MS;
  const regions: Record<string, string> = {};
  const ids = new Set([...Object.keys(ledger?.regions ?? {}), ...Object.keys(sample.regions)]);
  for (const id of ids) {
    // Right-aligned at `last`: the minutes since the ledger's last one have no sample yet.
    let line = (ledger?.regions[id] ?? '') + NO_SAMPLE.repeat(Math.min(shift, DAY_MINUTES));
    const state = sample.regions[id];
    if (state !== undefined) {
      if (line.length <= back) line = NO_SAMPLE.repeat(back + 1 - line.length) + line;
      const at = line.length - 1 - back;
      line = line.slice(0, at) + CODES[state] + line.slice(at + 1);
    }
    line = line.slice(-DAY_MINUTES).replace(/^\.+/, '');
    if (line !== '') regions[id] = line;
  }
  return { observer: sample.observer, last_minute: last, regions };
}

/** availabilityOver on a ledger: the same window from one record. */
export function ledgerAvailability(
  ledger: AvailabilityLedger | undefined,
  region: string,
  now: number,
  windowMinutes: number,
  sla: number,
): AvailabilityWindow {
  const { first, last } = windowBounds(now, windowMinutes);
  const line = ledger?.regions[region] ?? '';
  let measured = 0;
  let up = 0;
  if (ledger !== undefined && line !== '') {
    // Index i holds minute last_minute - (length - 1 - i) minutes.
    const indexOf = (minute: number) => line.length - 1 - (ledger.last_minute - minute) / MINUTE_MS;
    const from = Math.max(0, indexOf(first));
    const to = Math.min(line.length - 1, indexOf(last));
    for (let i = from; i <= to; i += 1) {
      const c = line[i];
      if (c === NO_SAMPLE) continue;
      measured += 1;
      if (c === CODES.up) up += 1;
    }
  }
  return windowOf(windowMinutes, measured, up, sla);
}
