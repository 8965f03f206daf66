/**
 * The write counter behind "lag in records": after each successful write a port makes into
 * a region's replica, an atomic ADD on that region's mark (lib/adapters/aws/dynamodb-replication.ts).
 * A replica's copy of the mark then says how many of the region's writes it has received, so the lag
 * monitor subtracts two counters instead of counting items.
 *
 * Cost and honesty: one more small write (and round trip) per write, on a table the control plane
 * writes a few times per task and per probe round, replicated to every region like the write it
 * counts. Writes made together share one ADD: a finished write's count waits while another write
 * of the same port is still on its way, and writes that finish while an ADD is on its way share the
 * next (a probe round's views and heartbeat, written in parallel, cost one count between them, not
 * two). A write returns only after an ADD including it succeeded, so a count never lags its write by
 * more than the writes beside it and that round trip, and never precedes it; a failed count fails the caller's call (loud, like the
 * local replication's stamp) although its write landed, rather than undercounting silently.
 * Writes are counted by the region of the replica they land in (a witness's views written into a
 * region's replica count as that region's: they replicate from there). Locally the replication is
 * FIFO per link, so a replica that holds count n holds the n writes before it; global tables do not
 * order items, so on AWS the difference is the number of writes not yet replicated to within the
 * items' own reordering. Only ports wrapped here are counted (the state port and the replication
 * stores themselves); wrap a new port's writes with `countWrites` to count them too.
 */
import type { StateRecordType } from '../../core/replication/placement.ts';
import type { Clock, ReplicationPort, StatePort } from '../../ports.ts';

/** The methods of StatePort that write. */
const STATE_WRITE_METHODS = [
  'putRegionStatus',
  'createHandoff',
  'redirectHandoff',
  'transitionHandoff',
  'putTargetHealth',
  'putHeartbeat',
  'createFailover',
  'updateFailover',
] as const satisfies readonly (keyof StatePort)[];

/**
 * Counts on one mark, one ADD at a time: counts that arrive while an ADD is on its way wait for the
 * next one, which carries all of them, and no ADD leaves while a write that `began` has not ended
 * (its count would need an ADD of its own a moment later). Each `add` resolves once an ADD
 * including it succeeded.
 */
export class WriteCounter {
  readonly #counter: Pick<ReplicationPort, 'countWrites'>;
  readonly #clock: Clock;
  #pending = 0;
  #waiting: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  #inFlight = false;
  /** Writes begun and not yet ended (counted or abandoned). */
  #writing = 0;

  constructor(counter: Pick<ReplicationPort, 'countWrites'>, clock: Clock) {
    this.#counter = counter;
    this.#clock = clock;
  }

  add(count: number): Promise<void> {
    this.#pending += count;
    const counted = new Promise<void>((resolve, reject) => this.#waiting.push({ resolve, reject }));
    this.#send();
    return counted;
  }

  /** A counted write is on its way: hold the next ADD until it ends (`ended`). */
  began(): void {
    this.#writing += 1;
  }

  /** A write that `began` is over: `count` it (it succeeded) or not (it failed). */
  ended(count: number): Promise<void> {
    this.#writing = Math.max(0, this.#writing - 1);
    if (count > 0) return this.add(count);
    this.#send();
    return Promise.resolve();
  }

  #send(): void {
    if (this.#inFlight || this.#pending === 0 || this.#writing > 0) return;
    const count = this.#pending;
    const waiting = this.#waiting;
    this.#pending = 0;
    this.#waiting = [];
    this.#inFlight = true;
    this.#counter.countWrites(count, this.#clock.now()).then(
      () => this.#done(waiting, undefined),
      (error: unknown) => this.#done(waiting, error ?? new Error('countWrites failed')),
    );
  }

  #done(waiting: { resolve: () => void; reject: (error: unknown) => void }[], error: unknown): void {
    this.#inFlight = false;
    for (const waiter of waiting) {
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
    this.#send();
  }
}

/**
 * `port` with every method in `writeMethods` followed, on success, by a count on `counter`.
 * Other methods pass through unchanged.
 */
export function countWrites<T extends object>(
  port: T,
  writeMethods: readonly (keyof T & string)[],
  counter: WriteCounter,
  /** When given, a failed count is reported here and the write (which landed) succeeds. */
  onCountError?: (error: unknown) => void,
): T {
  const writes = new Set<string>(writeMethods);
  return new Proxy(port, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string' || !writes.has(property)) {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return async (...args: unknown[]) => {
        counter.began();
        let result: unknown;
        try {
          result = await value.apply(target, args);
        } catch (error) {
          await counter.ended(0);
          throw error;
        }
        if (onCountError) await counter.ended(1).catch(onCountError);
        else await counter.ended(1);
        return result;
      };
    },
  });
}

/** The record type each write method of StatePort writes. */
const STATE_WRITE_RECORDS: Readonly<Record<StateWriteMethod, StateRecordType>> = {
  putRegionStatus: 'region_status',
  createHandoff: 'handoff',
  redirectHandoff: 'handoff',
  transitionHandoff: 'handoff',
  putTargetHealth: 'target_health',
  putHeartbeat: 'heartbeat',
  createFailover: 'failover',
  updateFailover: 'failover',
};

type StateWriteMethod = (typeof STATE_WRITE_METHODS)[number];

/**
 * The write methods whose records replicate asynchronously with the marks (`countedTable`, the state
 * table): a write to the MRSC table is replicated before it returns, so it is never replication
 * backlog and is not counted.
 */
export function countedStateWrites(
  recordTables: Readonly<Record<StateRecordType, string>>,
  countedTable: string,
): StateWriteMethod[] {
  return STATE_WRITE_METHODS.filter((method) => recordTables[STATE_WRITE_RECORDS[method]] === countedTable);
}

interface CountingStateOptions {
  /** Where a failed count is reported. @default a warning on stderr */
  readonly log?: (message: string, error: unknown) => void;
  /** The writes to count (countedStateWrites). @default every write method */
  readonly methods?: readonly StateWriteMethod[];
}

/**
 * The state port of one replica with its writes counted on that replica's region mark. The count is
 * monitoring: a failed count is logged and never fails the state write (a status write on the
 * failover path must not fail because a lag counter could not be bumped); the lag then reads low
 * until the next count.
 */
export function countingState(
  state: StatePort,
  counter: Pick<ReplicationPort, 'countWrites'>,
  clock: Clock,
  options: CountingStateOptions = {},
): StatePort {
  const log =
    options.log ??
    ((message: string, error: unknown) =>
      console.error(JSON.stringify({ level: 'warn', message, error: String(error) })));
  return countWrites(
    state,
    options.methods ?? STATE_WRITE_METHODS,
    new WriteCounter(counter, clock),
    (error) => log('replication write count failed; the write itself succeeded', error),
  );
}
