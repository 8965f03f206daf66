/**
 * The local EventsPort: what EventBridge receives on AWS, kept in a bounded in-memory ring for the
 * dashboard, the CLI and tests. Every event gets an increasing index, so a reader polls with the
 * index after the last one it saw.
 */
import type { ControlPlaneEvent, EventsPort } from '../../ports.ts';

interface IndexedEvent {
  /** 0 for the first event ever published to this log; never reused. */
  readonly index: number;
  readonly event: ControlPlaneEvent;
}

interface LocalEventLogOptions {
  /** Events kept; older ones drop out. Default 1000. */
  readonly capacity?: number;
  /** Called for each event as it is published; a throwing listener is ignored. */
  readonly listener?: (entry: IndexedEvent) => void;
}

export class LocalEventLog implements EventsPort {
  readonly #capacity: number;
  readonly #listener: ((entry: IndexedEvent) => void) | undefined;
  readonly #ring: IndexedEvent[] = [];
  #next = 0;

  constructor(options: LocalEventLogOptions = {}) {
    const capacity = options.capacity ?? 1000;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`LocalEventLog: capacity must be a positive integer, got ${capacity}`);
    }
    this.#capacity = capacity;
    this.#listener = options.listener;
  }

  async publish(events: readonly ControlPlaneEvent[]): Promise<void> {
    for (const event of events) {
      const entry: IndexedEvent = { index: this.#next++, event };
      this.#ring.push(entry);
      if (this.#ring.length > this.#capacity) this.#ring.shift();
      try {
        this.#listener?.(entry);
      } catch {
        // A listener is an observer: it never fails the publisher (EventsPort is best effort).
      }
    }
  }

  /** Events still in the ring with index >= `sinceIndex` (default: all), oldest first. */
  list(sinceIndex = 0): IndexedEvent[] {
    return this.#ring.filter((entry) => entry.index >= sinceIndex);
  }

  /** The index the next event will get. */
  get nextIndex(): number {
    return this.#next;
  }
}
