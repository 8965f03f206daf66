/**
 * How often an EventBridge Scheduler expression fires in a month. `rate(...)` exactly; `cron(...)`
 * by counting its minute and hour fields for a day and its day fields for an average month (a
 * month of `monthHours`), which is what a monthly bill sees.
 */

const UNIT_SECONDS: Readonly<Record<string, number>> = {
  minute: 60,
  minutes: 60,
  hour: 3600,
  hours: 3600,
  day: 86_400,
  days: 86_400,
};

/** Runs a month of `expression`; throws on an expression it cannot read (naming it). */
export function runsPerMonth(expression: string, monthHours: number): number {
  const seconds = monthHours * 3600;
  const rate = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression);
  if (rate) return seconds / (Number(rate[1]) * (UNIT_SECONDS[rate[2] ?? ''] ?? Number.NaN));
  const cron = /^cron\((.+)\)$/.exec(expression);
  if (cron) {
    const fields = (cron[1] ?? '').trim().split(/\s+/);
    if (fields.length !== 6) throw new Error(`cannot read schedule ${expression}: cron needs 6 fields`);
    const [minute, hour, dayOfMonth, month, dayOfWeek] = fields as [string, string, string, string, string];
    const perDay = count(minute, 0, 59, expression) * count(hour, 0, 23, expression);
    const days = monthHours / 24;
    const monthShare = month === '*' ? 1 : count(month, 1, 12, expression) / 12;
    let daysPerMonth = days;
    if (dayOfMonth !== '*' && dayOfMonth !== '?') daysPerMonth = count(dayOfMonth, 1, 31, expression);
    else if (dayOfWeek !== '*' && dayOfWeek !== '?')
      daysPerMonth = (count(dayOfWeek, 1, 7, expression) * days) / 7;
    return perDay * daysPerMonth * monthShare;
  }
  throw new Error(`cannot read schedule ${expression}: expected rate(...) or cron(...)`);
}

/** Schedule period in seconds for a rate; undefined for cron (no fixed period). */
export function ratePeriodSeconds(expression: string): number | undefined {
  const rate = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression);
  return rate ? Number(rate[1]) * (UNIT_SECONDS[rate[2] ?? ''] ?? Number.NaN) : undefined;
}

/** Values a cron field takes in [min, max]: `*`, lists, ranges and steps; names count as one each. */
function count(field: string, min: number, max: number, expression: string): number {
  if (field === '*' || field === '?') return max - min + 1;
  let total = 0;
  for (const part of field.split(',')) {
    const [range, stepText] = part.split('/') as [string, string | undefined];
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1)
      throw new Error(`cannot read schedule ${expression}: step ${part}`);
    let from: number;
    let to: number;
    if (range === '*') [from, to] = [min, max];
    else if (range.includes('-')) {
      const [a, b] = range.split('-').map(cronValue) as [number, number];
      [from, to] = [a, b];
    } else {
      const single = cronValue(range);
      // A special form (L, W, 5#3) is one value.
      if (!Number.isInteger(single)) from = to = 0;
      else [from, to] = [single, stepText === undefined ? single : max];
    }
    if (!Number.isFinite(from) || !Number.isFinite(to) || to < from) {
      throw new Error(`cannot read schedule ${expression}: field ${field}`);
    }
    total += Math.floor((to - from) / step) + 1;
  }
  return total;
}

const NAMES: Readonly<Record<string, number>> = Object.fromEntries([
  ...['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'].map((d, i) => [d, i + 1]),
  ...['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'].map((m, i) => [
    m,
    i + 1,
  ]),
]);

/** A cron value: a number, or a day or month name (EventBridge: SUN = 1, JAN = 1). */
function cronValue(text: string): number {
  return NAMES[text.toUpperCase()] ?? Number(text);
}
