import { Stack, Token } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { PlacedTable } from '../core/replication/placement.ts';
import { StateTableReplica, type TableItemAction } from './state-table.ts';

/** What a function may do on its region's replicas of the selective tables. */
export interface SelectiveAccess {
  /** On every selective table with a replica in this region. Reads and puts only: no mutation. */
  readonly every: readonly TableItemAction[];
  /** Besides `every`, on the tables that are not immutable (written once: never updated or deleted). */
  readonly mutable?: readonly TableItemAction[];
}

/** Actions that change a written record: never on an immutable table, so only in `mutable`. */
const MUTATIONS: ReadonlySet<TableItemAction> = new Set(['UpdateItem', 'DeleteItem']);

export interface SelectiveReplicasProps {
  /**
   * The placement's selective tables (role `selective`), all of them: those without a replica in this
   * stack's region are left out.
   */
  readonly tables: readonly PlacedTable[];
  /**
   * This region's table key (StateTableKey): ReplicationTables encrypts each selective replica with
   * its region's key, under the state table's alias.
   */
  readonly key: kms.IKey;
}

/**
 * This region's replicas of the selective tables (lib/core/replication/placement.ts: one table per
 * selective policy, per jurisdiction for `same_jurisdiction`), referenced by deterministic name like
 * the state table's replica. Only tables with a replica here: a function never reaches another
 * region's copy of selectively replicated data, so residency holds by construction (principle 6).
 */
export class SelectiveReplicas extends Construct {
  /** This region's replicas, in placement order. */
  readonly replicas: readonly { readonly table: PlacedTable; readonly replica: StateTableReplica }[];

  constructor(scope: Construct, id: string, props: SelectiveReplicasProps) {
    super(scope, id);
    const region = Stack.of(this).region;
    if (Token.isUnresolved(region)) {
      throw new Error('SelectiveReplicas: the stack needs a concrete env.region (replicas are per region)');
    }
    const names = new Set<string>();
    for (const table of props.tables) {
      if (table.role !== 'selective') {
        throw new Error(`SelectiveReplicas: ${table.name} is not a selective table (role ${table.role})`);
      }
      if (names.has(table.name)) throw new Error(`SelectiveReplicas: ${table.name} is given twice`);
      names.add(table.name);
    }
    this.replicas = props.tables
      .filter((table) => table.regions.includes(region))
      .map((table) => ({
        table,
        replica: new StateTableReplica(this, table.name, { tableName: table.name, key: props.key }),
      }));
  }

  /**
   * Grants `access.every` on each replica here, and `access.mutable` too on those of tables that are
   * not immutable, with the key use they need (StateTableReplica.grantItemAccess). No index, no other
   * region.
   */
  grantItemAccess(grantee: iam.IGrantable, access: SelectiveAccess): void {
    const mutations = access.every.filter((a) => MUTATIONS.has(a));
    if (mutations.length > 0) {
      throw new Error(
        `SelectiveReplicas: ${mutations.join(', ')} would mutate immutable tables: list it under mutable`,
      );
    }
    for (const { table, replica } of this.replicas) {
      const actions = table.immutable ? access.every : [...access.every, ...(access.mutable ?? [])];
      if (actions.length > 0) replica.grantItemAccess(grantee, actions);
    }
  }
}
