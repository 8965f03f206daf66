/**
 * The few interfaces the use cases need. Adapters in lib/adapters implement them; the contract
 * suites in test/contract run against every adapter.
 */
import type { Handoff, RegionStatusRecord } from './core/state/records.ts';

/** Shared state: the global table (DynamoDB on AWS, a dynalite per region locally). */
export interface StatePort {
  /** One region's status record, or undefined when none was ever written (it is then healthy). */
  getRegionStatus(regionId: string): Promise<RegionStatusRecord | undefined>;
  /** Every region status record this replica holds. */
  listRegionStatuses(): Promise<RegionStatusRecord[]>;
  /**
   * Writes a status record only if the stored epoch equals `expectedEpoch` (undefined: none stored)
   * and the new epoch is higher; otherwise throws ConflictError carrying the current record.
   */
  putRegionStatus(record: RegionStatusRecord, expectedEpoch: number | undefined): Promise<void>;
  /** Creates a handoff; throws ConflictError (code HANDOFF_EXISTS) carrying the stored one if it exists. */
  createHandoff(handoff: Handoff): Promise<void>;
  /** One handoff by id, or undefined. */
  getHandoff(handoffId: string): Promise<Handoff | undefined>;
  /** Handoffs whose target is the region, oldest first. */
  listHandoffsByTarget(regionId: string): Promise<Handoff[]>;
}

/** Wall-clock time as an input (principle 8): the simulator can compress or freeze it. */
export interface Clock {
  /** Current time in epoch milliseconds. */
  now(): number;
}
