import { Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { PlacedTable } from '../core/replication/placement.ts';
import {
  type ItemAccessOptions,
  RemoteStateTableReplica,
  StateTableReplica,
  type TableItemAction,
} from './state-table.ts';

/**
 * What a function is pointed at and granted item actions on (HandlerFunction.useStateTable,
 * grantWriteCounter): one region's replica of the state table, or StateTables.
 */
export interface StateTableAccess {
  /** The state table's name, the same in every region (the functions' CORTEX_TABLE_NAME). */
  readonly tableName: string;
  /** Grants exactly `actions` on the replica(s) and the use of the key that encrypts them. */
  grantItemAccess(
    grantee: iam.IGrantable,
    actions: readonly TableItemAction[],
    options?: ItemAccessOptions,
  ): void;
}

/**
 * Actions only the replication consistency check holds (it samples the state table); it never
 * checks the MRSC table, whose replicas are strongly consistent. BatchGetItem is not among them: the
 * holds reconciler batch-reads handoffs, which live in the MRSC table where the placement has one,
 * and it reads only what GetItem, granted alongside, reads.
 */
export const STATE_TABLE_ONLY_ACTIONS: ReadonlySet<TableItemAction> = new Set(['Scan']);

export interface StateTablesProps {
  /** The state table's physical name (`<name>-state`), the same in every region. */
  readonly tableName: string;
  /** The replicas' region: this stack's (the default) or another topology region's. */
  readonly regionId?: string;
  /** This region's table key (StateTableKey): required for this stack's region, refused for another. */
  readonly key?: kms.IKey;
  /** Alias of the table key in every region (DeploymentPlan.tableKeyAlias): needed for another region. */
  readonly tableKeyAlias?: string;
  /**
   * The placement's MRSC table for synchronous data (role `critical`, `<name>-critical`), encrypted
   * with the same key in each region. @default none: the state table only
   */
  readonly criticalTable?: PlacedTable;
}

/**
 * The tables a region's control-plane state lives in, as one region sees them: its replica of the
 * state table and, when the placement has one (exactly three regions in one MRSC region set), its
 * replica of the MRSC table that holds the synchronous data types (region statuses, failovers,
 * handoffs; lib/runtime/lambda.ts sends those records there). A function granted item actions on the
 * state table gets the same on the MRSC table, except:
 *
 * - grants confined by `leadingKeys` (the RESOURCES and REPLICATION partitions): those partitions
 *   live in the state table only;
 * - Scan (STATE_TABLE_ONLY_ACTIONS): only the consistency check's sampling uses it.
 *
 * Without an MRSC table it grants exactly what its state table replica grants.
 */
export class StateTables extends Construct implements StateTableAccess {
  /** The state table's name: what CORTEX_TABLE_NAME holds (the MRSC table's is derived at runtime). */
  readonly tableName: string;
  readonly regionId: string;
  readonly state: StateTableReplica | RemoteStateTableReplica;
  /** This region's replica of the MRSC table; undefined when the placement has none. */
  readonly critical: StateTableReplica | RemoteStateTableReplica | undefined;

  constructor(scope: Construct, id: string, props: StateTablesProps) {
    super(scope, id);
    const stackRegion = Stack.of(this).region;
    const regionId = props.regionId ?? stackRegion;
    const critical = props.criticalTable;
    if (critical !== undefined) {
      if (critical.role !== 'critical' || critical.consistency !== 'MRSC') {
        throw new Error(
          `StateTables: criticalTable must be the placement's MRSC table (role critical), got ${critical.name} (${critical.role}, ${critical.consistency})`,
        );
      }
      if (critical.name === props.tableName) {
        throw new Error(`StateTables: criticalTable must not be the state table ${props.tableName}`);
      }
      if (!critical.regions.includes(regionId)) {
        throw new Error(
          `StateTables: ${critical.name} has no replica in ${regionId} (its regions: ${critical.regions.join(', ')})`,
        );
      }
    }
    this.tableName = props.tableName;
    this.regionId = regionId;

    const replica = (childId: string, tableName: string) => {
      if (regionId === stackRegion) {
        if (props.key === undefined)
          throw new Error(`StateTables: ${regionId} is this stack's region: key is required`);
        return new StateTableReplica(this, childId, { tableName, key: props.key });
      }
      if (props.key !== undefined) {
        throw new Error(
          `StateTables: key is this stack's region's; ${regionId}'s key is named by tableKeyAlias instead`,
        );
      }
      if (props.tableKeyAlias === undefined) {
        throw new Error(`StateTables: ${regionId} is another region: tableKeyAlias is required`);
      }
      return new RemoteStateTableReplica(this, childId, {
        tableName,
        regionId,
        tableKeyAlias: props.tableKeyAlias,
      });
    };
    this.state = replica('State', props.tableName);
    this.critical = critical ? replica('Critical', critical.name) : undefined;
  }

  grantItemAccess(
    grantee: iam.IGrantable,
    actions: readonly TableItemAction[],
    options: ItemAccessOptions = {},
  ): void {
    this.state.grantItemAccess(grantee, actions, options);
    if (this.critical === undefined || options.leadingKeys !== undefined) return;
    const criticalActions = actions.filter((a) => !STATE_TABLE_ONLY_ACTIONS.has(a));
    if (criticalActions.length > 0) this.critical.grantItemAccess(grantee, criticalActions);
  }
}
