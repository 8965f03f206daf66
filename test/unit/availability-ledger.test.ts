/**
 * The availability ledger (one record per observer, rolled up as samples are written) answers the
 * same windows as counting the day's samples one by one: `GET /v1/regions` reads one record per call
 * instead of up to 1,440 samples, and says exactly what it said before.
 */
import { describe, expect, it } from 'vitest';
import {
  type AvailabilityLedger,
  type AvailabilitySample,
  availabilityOver,
  DAY_MINUTES,
  ledgerAvailability,
  type MinuteState,
  withSample,
} from '../../lib/core/health/availability.ts';
import { seededRandom } from '../../lib/sim/kernel.ts';

const T0 = Date.parse('2026-11-26T12:00:00Z');
const MIN = 60_000;
const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';
const STATES: readonly MinuteState[] = ['up', 'up', 'up', 'not_serving', 'unreachable'];

const at = (i: number, regions: Record<string, MinuteState>): AvailabilitySample => ({
  observer: US,
  minute: T0 + i * MIN,
  regions,
});

function ledgerOf(samples: readonly AvailabilitySample[]): AvailabilityLedger | undefined {
  return samples.reduce<AvailabilityLedger | undefined>((l, s) => withSample(l, s), undefined);
}

describe('the availability ledger', () => {
  it('answers every window as the samples counted one by one do (random days, gaps, retries, late samples)', () => {
    for (let seed = 1; seed <= 40; seed += 1) {
      const random = seededRandom(seed);
      const samples: AvailabilitySample[] = [];
      let minute = 0;
      const span = 200 + Math.floor(random() * 2 * DAY_MINUTES);
      while (minute < span) {
        // Gaps (the observer was down), retried minutes, a sample that names only some regions.
        minute += random() < 0.1 ? 1 + Math.floor(random() * 90) : 1;
        const regions: Record<string, MinuteState> = {};
        for (const id of [US, EU, AP]) {
          if (random() < 0.95) regions[id] = STATES[Math.floor(random() * STATES.length)] as MinuteState;
        }
        samples.push(at(minute, regions));
        if (random() < 0.05) samples.push(at(minute - Math.floor(random() * 30), { [EU]: 'unreachable' }));
      }
      const ledger = ledgerOf(samples);
      const last = Math.max(...samples.map((s) => s.minute));
      for (const now of [last + 20_000, last + 5 * MIN, last + 3 * DAY_MINUTES * MIN]) {
        for (const id of [US, EU, AP, 'sa-east-1']) {
          for (const window of [1, 60, DAY_MINUTES]) {
            expect(
              ledgerAvailability(ledger, id, now, window, 99.99),
              `seed ${seed} ${id} ${window}`,
            ).toEqual(availabilityOver(samples, id, now, window, 99.99));
          }
        }
      }
    }
  });

  it('keeps at most a day per region: a long gap leaves nothing older than the window', () => {
    let ledger = ledgerOf(Array.from({ length: DAY_MINUTES }, (_, i) => at(i, { [US]: 'up' })));
    expect(ledger?.regions[US]).toHaveLength(DAY_MINUTES);
    ledger = withSample(ledger, at(DAY_MINUTES + 100, { [US]: 'unreachable' }));
    // Minutes 101 to 1439 up, 100 without a sample, the last unreachable: still one day long.
    expect(ledger.regions[US]).toHaveLength(DAY_MINUTES);
    expect(ledger.regions[US]?.startsWith('u'.repeat(1339))).toBe(true);
    ledger = withSample(ledger, at(10 * DAY_MINUTES, { [US]: 'up' }));
    expect(ledger.regions[US]).toBe('u');
    expect(ledgerAvailability(ledger, US, T0 + 10 * DAY_MINUTES * MIN, DAY_MINUTES, 99.9)).toMatchObject({
      minutes_measured: 1,
      minutes_up: 1,
    });
  });

  it('drops a sample older than its day instead of moving its newest minute back', () => {
    const ledger = ledgerOf([at(DAY_MINUTES + 10, { [US]: 'up' })]);
    expect(withSample(ledger, at(5, { [US]: 'unreachable' }))).toEqual(ledger);
  });

  it('answers not measured for no ledger at all', () => {
    expect(ledgerAvailability(undefined, US, T0, 60, 99.9)).toEqual(availabilityOver([], US, T0, 60, 99.9));
  });
});
