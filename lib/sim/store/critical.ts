/**
 * The simulator's MRSC table (the topology's `<name>-critical`), as the local plane keeps it
 * (lib/adapters/local/mrsc.ts): one authoritative copy, a store table with a single replica in the
 * table's home region and no links, which every region of the table reads and writes through its own
 * guard. One copy gives what MRSC promises: a write is visible everywhere as soon as it returns, and a
 * conditional write is checked against the latest value (of two regions racing on one item, one
 * wins). The guard gives what it costs: a region that does not reach a majority of the table's
 * regions (itself included, only while it is up) gets StateUnavailableError on every call, while the
 * majority goes on. The copy outlives its home region going down, as MRSC's other replicas keep the
 * data on AWS.
 */
import { hasQuorum, reachableReplicas } from '../../adapters/local/mrsc.ts';
import { StateUnavailableError } from '../../core/errors.ts';
import type { IndexKey, QueryOptions, Row, SimReplica, Stamp } from './replicated.ts';

export interface QuorumOptions {
  /** The MRSC table's name (the error names it). */
  readonly table: string;
  /** Every region holding a replica of the table on AWS. */
  readonly regions: readonly string[];
  /** The region whose calls go through the guard. */
  readonly caller: string;
  /** Whether `from` reaches `to` now (`from === to`: whether the region itself is up). */
  readonly reaches: (from: string, to: string) => boolean;
}

/** The refusal of lib/adapters/local/mrsc.ts guardQuorum, or undefined while `caller` has a quorum. */
export function quorumRefusal(options: QuorumOptions): StateUnavailableError | undefined {
  if (hasQuorum(options)) return undefined;
  const reached = reachableReplicas(options);
  const needed = Math.floor(options.regions.length / 2) + 1;
  return new StateUnavailableError(
    options.table,
    options.caller,
    `reaches ${reached.length} of its ${options.regions.length} replicas (${
      reached.join(', ') || 'none'
    }); a strongly consistent read or write needs ${needed}`,
  );
}

/**
 * `caller`'s way to the one copy: every call (read, listing or write) is refused while the caller does
 * not reach a majority of the table's regions. The refusal is thrown before the call touches the copy,
 * so a port method that meets it changes nothing (its promise rejects).
 */
export function quorumGuarded(copy: SimReplica, options: QuorumOptions): SimReplica {
  if (!options.regions.includes(options.caller)) {
    throw new Error(`quorumGuarded: ${options.caller} holds no replica of ${options.table}`);
  }
  return new QuorumGuardedReplica(copy, options);
}

class QuorumGuardedReplica implements SimReplica {
  readonly region: string;
  readonly table: string;
  readonly #copy: SimReplica;
  readonly #options: QuorumOptions;

  constructor(copy: SimReplica, options: QuorumOptions) {
    this.#copy = copy;
    this.#options = options;
    this.region = copy.region;
    this.table = copy.table;
  }

  get<T>(pk: string, sk: string): T | undefined {
    return this.#reached().get<T>(pk, sk);
  }

  peek<T>(pk: string, sk: string): T | undefined {
    return this.#reached().peek<T>(pk, sk);
  }

  handOut<T>(value: T): T {
    return this.#copy.handOut(value);
  }

  handOutAll<T>(values: readonly T[]): T[] {
    return this.#copy.handOutAll(values);
  }

  indexOf(pk: string, sk: string): IndexKey | undefined {
    return this.#reached().indexOf(pk, sk);
  }

  stampOf(pk: string, sk: string): Stamp | undefined {
    return this.#reached().stampOf(pk, sk);
  }

  put(pk: string, sk: string, value: object, index?: IndexKey | null): Stamp {
    return this.#reached().put(pk, sk, value, index);
  }

  putBuilt(pk: string, sk: string, value: object, index?: IndexKey | null): Stamp {
    return this.#reached().putBuilt(pk, sk, value, index);
  }

  delete(pk: string, sk: string): boolean {
    return this.#reached().delete(pk, sk);
  }

  query<T>(pk: string, options?: QueryOptions): Row<T>[] {
    return this.#reached().query<T>(pk, options);
  }

  peekQuery<T>(pk: string, options?: QueryOptions): Row<T>[] {
    return this.#reached().peekQuery<T>(pk, options);
  }

  queryIndex<T>(indexPk: string, options?: QueryOptions): Row<T>[] {
    return this.#reached().queryIndex<T>(indexPk, options);
  }

  // Guarded like a read: a port that keeps what it derived from a listing asks this first, so a
  // cached answer is never handed to a region without a quorum.
  version(pk: string): number {
    return this.#reached().version(pk);
  }

  /** The copy, or the refusal thrown while the caller has no quorum. */
  #reached(): SimReplica {
    const refusal = quorumRefusal(this.#options);
    if (refusal) throw refusal;
    return this.#copy;
  }
}
