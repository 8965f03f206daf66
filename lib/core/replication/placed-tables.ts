/**
 * What a replication placement is made of: the tables with their replicas, the selective policies
 * with the table each region writes to, and the placement as it is built (placement.ts).
 */
import type { FieldIssue } from '../errors.ts';
import type { Topology } from '../topology/types.ts';

/** The number attribute (epoch seconds) holding an item's expiry in tables with a retention. */
export const EXPIRY_ATTRIBUTE = 'expires_at';

/** DynamoDB table names: 3-255 of letters, digits, `_`, `-` and `.`. */
export const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

export type TableConsistency = 'MREC' | 'MRSC' | 'single-region';

/** `global`: the shared state table; `critical`: the MRSC table; `selective`: a policy's table. */
export type TableRole = 'global' | 'critical' | 'selective';

export interface PlacedTable {
  /** Physical name, the same in every replica region. */
  readonly name: string;
  readonly role: TableRole;
  /** Every region holding a replica, in topology order. */
  readonly regions: readonly string[];
  /** Where the table's CloudFormation resource lives: the home region when it holds one, else the first. */
  readonly homeRegion: string;
  readonly consistency: TableConsistency;
  /** Expiry attribute (epoch seconds) when items expire; TTL on AWS, readers' check locally. */
  readonly ttlAttribute?: string;
  readonly retentionDays?: number;
  /** Written once: puts only where the key is absent (or expired), no update, no delete. */
  readonly immutable: boolean;
  /** The `same_jurisdiction` table's jurisdiction. */
  readonly jurisdiction?: string;
  /** Data types of the synchronous and asynchronous strategies that live here. */
  readonly dataTypes: readonly string[];
  /** Selective policies whose data lives here. */
  readonly policies: readonly string[];
}

export interface PlacedPolicy {
  readonly policyId: string;
  /** `replication_strategies.selective.policies[i]`. */
  readonly field: string;
  readonly dataPattern: string;
  readonly target: 'all' | 'same_jurisdiction' | 'regions';
  /** Rules (a)-(c) above: its data must not leave a localizing region's jurisdiction. */
  readonly jurisdictionBound: boolean;
  readonly immutable: boolean;
  readonly retentionDays?: number;
  /** Region -> the policy's table that region writes to (absent: the region holds none). */
  readonly tableByRegion: Readonly<Record<string, string>>;
}

export interface MrscDecision {
  readonly allowed: boolean;
  /** The region set all the topology's regions lie in, when there is one. */
  readonly regionSet?: string;
  readonly reason: string;
}

export interface ReplicationPlacement {
  /** Global table first, then the MRSC table (if any), then selective tables in policy order. */
  readonly tables: readonly PlacedTable[];
  readonly policies: readonly PlacedPolicy[];
  /** Synchronous and asynchronous data type -> table name. */
  readonly dataTypes: Readonly<Record<string, string>>;
  readonly mrsc: MrscDecision;
  /** What the operator should know (the MRSC decision always; spans that need care). */
  readonly warnings: readonly FieldIssue[];
  /** Placements that cannot be deployed; non-empty means nothing may be built from this placement. */
  readonly errors: readonly FieldIssue[];
}

export interface PlacementOptions {
  /**
   * The region owning the tables' CloudFormation resources when it holds a replica (the state stack's
   * region). @default the primary-tier region, else the first region (as the deployment plan)
   */
  readonly homeRegion?: string;
}

/** The placement as it is built: each step adds tables, policies and issues in order. */
export interface Placing {
  readonly topology: Topology;
  readonly regionIds: readonly string[];
  readonly mrsc: MrscDecision;
  readonly tables: PlacedTable[];
  readonly policies: PlacedPolicy[];
  readonly warnings: FieldIssue[];
  readonly errors: FieldIssue[];
  /** The region owning a table's resource: the home region when it holds a replica, else the first. */
  readonly homeOf: (regions: readonly string[]) => string;
  readonly jurisdictionOf: (regionId: string) => string | undefined;
}
