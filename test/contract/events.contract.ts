import { describe, expect, it } from 'vitest';
import type { ControlPlaneEvent, EventsPort } from '../../lib/ports.ts';

export interface EventsFixture {
  readonly events: EventsPort;
  /** Every event the adapter delivered, in order (from its store or its captured calls). */
  delivered(): Promise<ControlPlaneEvent[]>;
  /** Makes every later delivery fail (a throttled bus, a dead listener), or undefined when it cannot. */
  breakDelivery?(): void;
}

export function event(type: string, i = 0): ControlPlaneEvent {
  return {
    type,
    source_region: 'eu-west-1',
    time: `2026-11-26T12:00:${String(i % 60).padStart(2, '0')}.000Z`,
    detail: { failover_id: 'failover-us-east-1-e0', i },
  };
}

/** The EventsPort contract: every adapter delivers in order, in any number, and never throws. */
export function eventsContract(name: string, setup: () => Promise<EventsFixture>): void {
  describe(`EventsPort contract: ${name}`, () => {
    it('delivers nothing for an empty batch', async () => {
      const fixture = await setup();
      await fixture.events.publish([]);
      expect(await fixture.delivered()).toEqual([]);
    });

    it('delivers a batch larger than one call takes, in order', async () => {
      const fixture = await setup();
      const batch = Array.from({ length: 23 }, (_, i) => event('failover.step', i));
      await fixture.events.publish(batch);
      const delivered = await fixture.delivered();
      expect(delivered.map((e) => e.detail.i)).toEqual(batch.map((e) => e.detail.i));
      expect(delivered[0]).toEqual(batch[0]);
    });

    it('never throws when delivery fails: a failover does not wait on its events', async () => {
      const fixture = await setup();
      if (!fixture.breakDelivery) return;
      fixture.breakDelivery();
      await expect(fixture.events.publish([event('region.failed')])).resolves.toBeUndefined();
    });
  });
}
