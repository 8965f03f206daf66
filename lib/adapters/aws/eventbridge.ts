/**
 * The EventsPort on EventBridge: PutEvents to one bus, at most 10 entries per call (the API's
 * limit), Source `cortex.control-plane`, DetailType the event type. Delivery is best effort: a
 * failed call or entry is logged and dropped, never thrown, so a failover never waits on it.
 */
import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import type { ControlPlaneEvent, EventsPort } from '../../ports.ts';

export const EVENT_SOURCE = 'cortex.control-plane';
/** PutEvents takes at most 10 entries per request. */
const PUT_EVENTS_BATCH = 10;

interface EventBridgeEventsOptions {
  /** A client for the bus's region (injected: STYLE 8). */
  readonly client: Pick<EventBridgeClient, 'send'>;
  /** Bus name or ARN. */
  readonly eventBusName: string;
  /** Where failures go; default one JSON line on stderr. */
  readonly log?: (message: string, detail: Record<string, unknown>) => void;
}

export class EventBridgeEvents implements EventsPort {
  readonly #client: Pick<EventBridgeClient, 'send'>;
  readonly #bus: string;
  readonly #log: (message: string, detail: Record<string, unknown>) => void;

  constructor(options: EventBridgeEventsOptions) {
    if (!options.eventBusName) throw new Error('EventBridgeEvents: eventBusName is required');
    this.#client = options.client;
    this.#bus = options.eventBusName;
    this.#log =
      options.log ??
      ((message, detail) => console.error(JSON.stringify({ level: 'warn', message, ...detail })));
  }

  async publish(events: readonly ControlPlaneEvent[]): Promise<void> {
    for (let start = 0; start < events.length; start += PUT_EVENTS_BATCH) {
      const batch = events.slice(start, start + PUT_EVENTS_BATCH);
      const entries = batch.map((event) => this.#entry(event));
      try {
        const result = await this.#client.send(new PutEventsCommand({ Entries: entries }));
        if ((result.FailedEntryCount ?? 0) > 0) {
          const failed = (result.Entries ?? [])
            .map((entry, i) => ({ entry, type: batch[i]?.type }))
            .filter(({ entry }) => entry.ErrorCode !== undefined)
            .map(({ entry, type }) => ({ type, code: entry.ErrorCode, message: entry.ErrorMessage }));
          this.#log('some events were not delivered to EventBridge', { bus: this.#bus, failed });
        }
      } catch (error) {
        this.#log('events were not delivered to EventBridge', {
          bus: this.#bus,
          types: batch.map((e) => e.type),
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        });
      }
    }
  }

  #entry(event: ControlPlaneEvent): PutEventsRequestEntry {
    const time = new Date(event.time);
    return {
      EventBusName: this.#bus,
      Source: EVENT_SOURCE,
      DetailType: event.type,
      Detail: JSON.stringify({ ...event.detail, source_region: event.source_region, time: event.time }),
      ...(Number.isNaN(time.getTime()) ? {} : { Time: time }),
    };
  }
}
