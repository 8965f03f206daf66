/**
 * The state port over one region's replica of the simulator's replicated store, behaving as
 * lib/adapters/aws/dynamodb-state.ts does on a DynamoDB global table: the same layout
 * (lib/adapters/aws/state-keys.ts), the same conditions checked against this replica only, the same
 * conflicts and listing orders. Each method reads, checks and writes without yielding, so it is one
 * atomic conditional write, and answers through a promise that settles in microtasks. With an MRSC
 * table (`records`), the synchronous data types' records live in its one copy instead, reached
 * through the region's quorum guard (critical.ts), as the adapter's `records` option places them.
 */

import { keys } from '../../adapters/aws/state-keys.ts';
import { ConflictError } from '../../core/errors.ts';
import { isActiveFailoverStatus } from '../../core/failover/active.ts';
import type { FailoverRecord, FailoverStatus, FailoverStepRecord } from '../../core/failover/types.ts';
import type { TargetHealth } from '../../core/health/types.ts';
import { STATE_RECORD_TYPES, type StateRecordType } from '../../core/replication/placement.ts';
import type { Handoff, HandoffStatus, RegionStatusRecord } from '../../core/state/records.ts';
import { mergeStatusSlots, type StatusSlot, statusSlot } from '../../core/state/status-merge.ts';
import type { Heartbeat, StatePort } from '../../ports.ts';
import type { IndexKey, SimReplica } from './replicated.ts';

export interface SimStateOptions {
  /** The replica this port reads and writes (its region's replica of the state table). */
  readonly replica: SimReplica;
  /**
   * Record types kept in another table, each on its replica there: the MRSC table of the synchronous
   * data types (one copy every region reaches through its quorum guard, critical.ts), as
   * DynamoStateAdapter's `records`.
   */
  readonly records?: Partial<Record<StateRecordType, SimReplica>>;
  /**
   * The region whose replica it writes: its region status writes go to its own slot. Without it, one
   * slot `_` shared by every port (as the DynamoDB adapter without a writer): right where region
   * statuses have one strongly consistent copy (the MRSC table).
   */
  readonly writer?: string;
}

/** How many partitions SimStatePort.listingVersion tells apart. */
export const LISTINGS = 3;

/** The slot every port built without a writer shares. */
const SHARED_WRITER = '_';

const HEALTH_PARTITION = keys.targetHealth('', '').pk;
const HEARTBEAT_PARTITION = keys.heartbeat('').pk;

/** Where a handoff is listed: under its target, by creation time (the adapter's gsi1). */
export function handoffIndex(
  handoff: Pick<Handoff, 'target_region' | 'created_at' | 'handoff_id'>,
): IndexKey {
  return {
    pk: keys.handoffByTarget(handoff.target_region),
    sk: `${handoff.created_at}#${handoff.handoff_id}`,
  };
}

/**
 * Where a failover is listed (the adapter's gsi1): still going or ended, by start time. The write
 * that ends a failover moves it from the one list to the other.
 */
export function failoverIndex(
  record: Pick<FailoverRecord, 'initiated_at' | 'failover_id' | 'status'>,
): IndexKey {
  return {
    pk: isActiveFailoverStatus(record.status) ? keys.activeFailoverList : keys.failoverList,
    sk: `${record.initiated_at}#${record.failover_id}`,
  };
}

/**
 * Writes a status slot as `writer`'s port writes it, unconditionally: what replication lands, or a
 * test's setup of a slot written elsewhere.
 */
export function putStatusSlot(replica: SimReplica, writer: string, record: RegionStatusRecord): void {
  const { pk, sk } = keys.regionStatus(record.region_id, writer);
  replica.put(pk, sk, record, null);
}

/**
 * The state port on the simulator's store. A region's status is a max register of per-writer slots
 * merged on read, with the rule of DynamoStateAdapter (see its class comment): highest epoch; on equal
 * epochs another region's write over the region's own; then failed > draining > fenced > degraded >
 * healthy; then the writer id ascending (the legacy slot-less item first).
 */
export class SimStatePort implements StatePort {
  readonly #replica: SimReplica;
  readonly #tables: Readonly<Record<StateRecordType, SimReplica>>;
  readonly #writer: string;

  constructor(options: SimStateOptions) {
    const writer = options.writer ?? SHARED_WRITER;
    // The writer ends the slot's sort key after the region id and its `#`.
    if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(writer)) {
      throw new Error(`SimStatePort: writer "${writer}" must be 1-64 letters, digits, _ . @ or -`);
    }
    this.#replica = options.replica;
    const tables = {} as Record<StateRecordType, SimReplica>;
    for (const type of STATE_RECORD_TYPES) tables[type] = options.records?.[type] ?? options.replica;
    this.#tables = tables;
    this.#writer = writer;
  }

  /** The replica of the state table this port works on (the resources port of the region shares it). */
  get replica(): SimReplica {
    return this.#replica;
  }

  /** Where `recordType` lives (the resources port settles handoffs where this port keeps them). */
  tableOf(recordType: StateRecordType): SimReplica {
    return this.#tables[recordType];
  }

  async getRegionStatus(regionId: string): Promise<RegionStatusRecord | undefined> {
    const table = this.#tables.region_status;
    return table.handOut(this.#mergedStatuses().get(regionId));
  }

  async listRegionStatuses(): Promise<RegionStatusRecord[]> {
    const table = this.#tables.region_status;
    return table.handOutAll([...this.#mergedStatuses().values()]);
  }

  #merged?: { readonly version: number; readonly byRegion: ReadonlyMap<string, RegionStatusRecord> };

  /**
   * Every region's merged status, by region id, kept until the status partition changes (every
   * probe round and every invariant check reads it; the merge is the same until a slot changes).
   */
  #mergedStatuses(): ReadonlyMap<string, RegionStatusRecord> {
    const table = this.#tables.region_status;
    const version = table.version(keys.regionStatusPartition);
    if (this.#merged?.version === version) return this.#merged.byRegion;
    const slotsOf = new Map<string, StatusSlot[]>();
    for (const row of table.peekQuery<RegionStatusRecord>(keys.regionStatusPartition)) {
      const slot = statusSlot(row.sk, row.value);
      const slots = slotsOf.get(slot.region);
      if (slots) slots.push(slot);
      else slotsOf.set(slot.region, [slot]);
    }
    const byRegion = new Map<string, RegionStatusRecord>();
    for (const region of [...slotsOf.keys()].sort()) {
      const winner = mergeStatusSlots(slotsOf.get(region) ?? []);
      if (winner) byRegion.set(region, winner.record);
    }
    this.#merged = { version, byRegion };
    return byRegion;
  }

  async putRegionStatus(record: RegionStatusRecord, expectedEpoch: number | undefined): Promise<void> {
    if (expectedEpoch !== undefined && record.epoch <= expectedEpoch) {
      throw new ConflictError(
        'EPOCH_NOT_INCREASING',
        `epoch ${record.epoch} of ${record.region_id} must be above ${expectedEpoch}`,
      );
    }
    const current = this.#mergedStatuses().get(record.region_id);
    // The fencing token: the merged epoch must be the one the caller decided from (none: nothing
    // stored), so the new epoch, above the expected one, is above every slot's. The adapter's
    // compare-and-set on the writer's own slot always holds here: nothing lands between read and write.
    if (current?.epoch !== expectedEpoch) {
      throw new ConflictError(
        'EPOCH_CONFLICT',
        `status of ${record.region_id} changed concurrently (stored epoch ${current?.epoch ?? 'none'}, expected ${
          expectedEpoch ?? 'none'
        })`,
        this.#tables.region_status.handOut(current),
      );
    }
    putStatusSlot(this.#tables.region_status, this.#writer, record);
  }

  async createHandoff(handoff: Handoff): Promise<void> {
    const { pk, sk } = keys.handoff(handoff.handoff_id);
    const current = this.#tables.handoff.get<Handoff>(pk, sk);
    if (current)
      throw new ConflictError('HANDOFF_EXISTS', `handoff ${handoff.handoff_id} already exists`, current);
    this.#tables.handoff.put(pk, sk, handoff, handoffIndex(handoff));
  }

  async getHandoff(handoffId: string): Promise<Handoff | undefined> {
    const { pk, sk } = keys.handoff(handoffId);
    return this.#tables.handoff.get<Handoff>(pk, sk);
  }

  /**
   * A number that changes whenever any handoff targeting one of `targets` changes in this replica
   * (every handoff is listed under its target, and a listing's version moves with its items): equal
   * numbers mean the same handoff records.
   */
  handoffsVersion(targets: readonly string[]): number {
    const table = this.#tables.handoff;
    let version = 0;
    // Versions only grow: the largest moves whenever any of them does.
    for (const target of targets) version = Math.max(version, table.version(keys.handoffByTarget(target)));
    return version;
  }

  /** The handoff as stored, without a promise: for readers outside the plane (the invariants); never mutate it. */
  peekHandoff(handoffId: string): Handoff | undefined {
    const { pk, sk } = keys.handoff(handoffId);
    return this.#tables.handoff.peek<Handoff>(pk, sk);
  }

  async getHandoffs(handoffIds: readonly string[]): Promise<Map<string, Handoff>> {
    const found = new Map<string, Handoff>();
    for (const handoffId of handoffIds) {
      if (found.has(handoffId)) continue;
      const { pk, sk } = keys.handoff(handoffId);
      const handoff = this.#tables.handoff.get<Handoff>(pk, sk);
      if (handoff) found.set(handoffId, handoff);
    }
    return found;
  }

  async listHandoffsByTarget(regionId: string): Promise<Handoff[]> {
    const table = this.#tables.handoff;
    const pk = keys.handoffByTarget(regionId);
    // Every round of every serving region lists a failed or fenced region's handoffs (its orphans).
    return this.#listed(table, pk, () => table.queryIndex<Handoff>(pk).map((row) => row.value));
  }

  async redirectHandoff(
    handoffId: string,
    change: Parameters<StatePort['redirectHandoff']>[1],
    expectedStatus: HandoffStatus,
  ): Promise<void> {
    const { pk, sk } = keys.handoff(handoffId);
    const table = this.#tables.handoff;
    const current = table.peek<Handoff>(pk, sk);
    if (!current || current.status !== expectedStatus) {
      throw new ConflictError(
        'HANDOFF_CHANGED',
        `handoff ${handoffId} is ${current?.status ?? 'missing'}, not ${expectedStatus}`,
        table.handOut(current),
      );
    }
    const index = table.indexOf(pk, sk);
    // DynamoDB's REMOVE: the reason it was held, and an interrupted acceptance.
    const kept: Record<string, unknown> = { ...current };
    delete kept.held_reason;
    if (change.interrupted) {
      delete kept.accepted_at;
      delete kept.accepted_by;
    }
    table.put(
      pk,
      sk,
      {
        ...(kept as unknown as Handoff),
        target_region: change.target_region,
        status: change.status,
        routing_score: change.routing_score,
        redirected_from: change.redirected_from,
        ...(change.reservation ? { reservation: change.reservation } : {}),
        ...(change.interrupted
          ? { interruptions: [...(current.interruptions ?? []), change.interrupted] }
          : {}),
      },
      // The index moves to the new target and keeps its sort key (the adapter sets gsi1pk only).
      { pk: keys.handoffByTarget(change.target_region), sk: index?.sk ?? handoffIndex(current).sk },
    );
  }

  async transitionHandoff(
    handoffId: string,
    status: HandoffStatus,
    patch: Readonly<Record<string, unknown>>,
    expectedStatuses: readonly HandoffStatus[],
  ): Promise<Handoff> {
    if (expectedStatuses.length === 0) throw new Error('transitionHandoff: expectedStatuses is empty');
    const { pk, sk } = keys.handoff(handoffId);
    const table = this.#tables.handoff;
    const current = table.peek<Handoff & { settlement?: unknown }>(pk, sk);
    if (!current || current.settlement !== undefined || !expectedStatuses.includes(current.status)) {
      throw new ConflictError(
        'HANDOFF_CHANGED',
        `handoff ${handoffId} is ${current?.status ?? 'missing'}, not ${expectedStatuses.join(' or ')}`,
        table.handOut(current),
      );
    }
    const before = table.handOut(current);
    const sets = Object.entries(patch).filter(([, value]) => value !== undefined);
    // An UpdateItem: the handoff stays listed where it is.
    table.put(pk, sk, { ...current, ...Object.fromEntries(sets), status });
    return before;
  }

  async putTargetHealth(view: TargetHealth): Promise<void> {
    const { pk, sk } = keys.targetHealth(view.observer, view.target);
    // A round builds its views for this write (the witness's for every replica it writes).
    this.#tables.target_health.putBuilt(pk, sk, view, null);
  }

  async listTargetHealth(): Promise<TargetHealth[]> {
    const table = this.#tables.target_health;
    return this.#listed(table, HEALTH_PARTITION, () =>
      table.peekQuery<TargetHealth>(HEALTH_PARTITION).map((row) => row.value),
    );
  }

  async putHeartbeat(heartbeat: Heartbeat): Promise<void> {
    const { pk, sk } = keys.heartbeat(heartbeat.region);
    this.#tables.heartbeat.putBuilt(pk, sk, heartbeat, null);
  }

  async listHeartbeats(): Promise<Heartbeat[]> {
    const table = this.#tables.heartbeat;
    return this.#listed(table, HEARTBEAT_PARTITION, () =>
      table.peekQuery<Heartbeat>(HEARTBEAT_PARTITION).map((row) => row.value),
    );
  }

  async createFailover(record: FailoverRecord): Promise<void> {
    const { pk, sk } = keys.failover(record.failover_id);
    const current = this.#tables.failover.get<FailoverRecord>(pk, sk);
    if (current) {
      throw new ConflictError('FAILOVER_EXISTS', `failover ${record.failover_id} already exists`, current);
    }
    this.#tables.failover.put(pk, sk, record, failoverIndex(record));
  }

  async getFailover(failoverId: string): Promise<FailoverRecord | undefined> {
    const { pk, sk } = keys.failover(failoverId);
    return this.#tables.failover.get<FailoverRecord>(pk, sk);
  }

  async listFailovers(failedRegion?: string): Promise<FailoverRecord[]> {
    const table = this.#tables.failover;
    // Both lists change together (a write that ends a failover moves it): one version of the pair.
    const records = this.#listed(table, keys.failoverList, () => {
      const ended = table.queryIndex<FailoverRecord>(keys.failoverList, { reverse: true });
      const active = table.queryIndex<FailoverRecord>(keys.activeFailoverList, { reverse: true });
      // Both lists merged by their sort key (start time, then id), newest first, as the adapter does.
      const rows =
        active.length === 0 ? ended : [...active, ...ended].sort((a, b) => compareListed(b, a, table));
      return rows.map((row) => row.value);
    });
    return failedRegion === undefined ? records : records.filter((r) => r.failed_region === failedRegion);
  }

  async listActiveFailovers(): Promise<FailoverRecord[]> {
    const table = this.#tables.failover;
    return this.#listed(table, keys.activeFailoverList, () =>
      table.queryIndex<FailoverRecord>(keys.activeFailoverList, { reverse: true }).map((row) => row.value),
    );
  }

  /**
   * The version of one of the LISTINGS partitions `listRegionStatuses` and `listFailovers` read (0:
   * the statuses, 1 and 2: the two failover lists): while all are the same, the two listings hand out
   * the same records (the invariants skip re-reading them after every event, asking one number at a
   * time: no array per event).
   */
  listingVersion(part: number): number {
    if (part === 0) return this.#tables.region_status.version(keys.regionStatusPartition);
    return this.#tables.failover.version(part === 1 ? keys.failoverList : keys.activeFailoverList);
  }

  /** Per listed partition: the version it was read at and the stored items, in listing order. */
  readonly #listings = new Map<string, { readonly version: number; readonly items: readonly unknown[] }>();

  /**
   * A listing of `pk` (read by `list`, peeking), kept until anything under it changes: probe rounds,
   * health answers and the invariants read the same views, heartbeats and failovers many times
   * between two writes. A fresh array per call, each item handed out as `handOut` does.
   */
  #listed<T>(table: SimReplica, pk: string, list: () => readonly T[]): T[] {
    const version =
      pk === keys.failoverList
        ? Math.max(table.version(keys.failoverList), table.version(keys.activeFailoverList))
        : table.version(pk);
    // A record type lives in one table of this port, so its partition names the listing.
    let kept = this.#listings.get(pk);
    if (kept?.version !== version) {
      kept = { version, items: list() };
      this.#listings.set(pk, kept);
    }
    return table.handOutAll(kept.items as readonly T[]);
  }

  async updateFailover(
    failoverId: string,
    patch: Partial<Omit<FailoverRecord, 'failover_id' | 'steps'>>,
    options: { readonly expectedStatuses: readonly FailoverStatus[]; readonly step?: FailoverStepRecord },
  ): Promise<FailoverRecord> {
    // The adapter's SET: every defined field of the patch, and the step appended to the steps.
    const sets = Object.entries(patch).filter(([, value]) => value !== undefined);
    if (sets.length === 0 && !options.step) throw new Error('updateFailover: nothing to change');
    // DynamoDB refuses `IN ()` as a malformed expression, not as a failed condition.
    if (options.expectedStatuses.length === 0) throw new Error('updateFailover: expectedStatuses is empty');
    const { pk, sk } = keys.failover(failoverId);
    const table = this.#tables.failover;
    const current = table.peek<FailoverRecord>(pk, sk);
    if (!current || !options.expectedStatuses.includes(current.status)) {
      throw new ConflictError(
        'FAILOVER_CHANGED',
        current
          ? `failover ${failoverId} is ${current.status}, not ${options.expectedStatuses.join(' or ')}`
          : `failover ${failoverId} does not exist`,
        table.handOut(current),
      );
    }
    const next: Record<string, unknown> = { ...current, ...Object.fromEntries(sets) };
    if (options.step) next.steps = [...(current.steps ?? []), options.step];
    // The list it is in moves in this same write (the adapter's SET of gsi1pk; gsi1sk stays).
    const listed = failoverIndex(next as unknown as FailoverRecord);
    table.put(pk, sk, next, { pk: listed.pk, sk: table.indexOf(pk, sk)?.sk ?? listed.sk });
    return table.get<FailoverRecord>(pk, sk) as FailoverRecord;
  }
}

/** Two listed failovers in their list order: by index sort key (start time, then id). */
function compareListed(
  a: { readonly pk: string; readonly sk: string },
  b: { readonly pk: string; readonly sk: string },
  table: SimReplica,
): number {
  const ka = table.indexOf(a.pk, a.sk)?.sk ?? '';
  const kb = table.indexOf(b.pk, b.sk)?.sk ?? '';
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
