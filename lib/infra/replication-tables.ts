import { CfnOutput, type IAspect, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, type IConstruct } from 'constructs';
import type { PlacedTable, ReplicationPlacement } from '../core/replication/placement.ts';
import { BackupPlan } from './backup-plan.ts';
import type { DeploymentPlan } from './deployment-plan.ts';
import { HandlerFunction } from './handler-function.ts';
import { StateTable } from './state-table.ts';

/**
 * The tables of the replication placement (lib/core/replication/placement.ts) beyond the shared
 * state table: the MRSC table for synchronous data where the regions allow it, and one table per
 * selective policy (per jurisdiction for `same_jurisdiction`) whose replicas are exactly the regions
 * the policy names. Same keys, encryption (each replica with its own region's table key), PITR and
 * deletion protection as the state table; TTL on the expiry attribute where a policy sets a retention.
 *
 * A global table's CloudFormation resource must live in one of its replica regions, and a
 * jurisdiction's table may hold none in the state stack's region: such tables are built by a
 * `CortexState-<region>` stack in their home region (ReplicationTablesStack).
 */
export interface ReplicationTablesProps {
  /** Tables homed in this stack's region; never the global table (StateTable builds that). */
  readonly tables: readonly PlacedTable[];
  /** Alias of each region's table key (DeploymentPlan.tableKeyAlias). */
  readonly tableKeyAlias: string;
}

export class ReplicationTables extends Construct {
  /** By table name. */
  readonly tables: Readonly<Record<string, StateTable>>;

  constructor(scope: Construct, id: string, props: ReplicationTablesProps) {
    super(scope, id);
    const region = Stack.of(this).region;
    const tables: Record<string, StateTable> = {};
    for (const table of props.tables) {
      if (table.role === 'global') {
        throw new Error(`ReplicationTables: ${table.name} is the global table; StateTable builds it`);
      }
      if (table.homeRegion !== region) {
        throw new Error(
          `ReplicationTables: ${table.name} is homed in ${table.homeRegion}, not in this stack's region ${region}`,
        );
      }
      tables[table.name] = new StateTable(this, table.name, {
        tableName: table.name,
        replicaRegions: table.regions.filter((r) => r !== region),
        tableKeyAlias: props.tableKeyAlias,
        ...(table.ttlAttribute !== undefined ? { timeToLiveAttribute: table.ttlAttribute } : {}),
        consistency: table.consistency === 'MRSC' ? 'MRSC' : 'MREC',
      });
    }
    this.tables = tables;
  }
}

/** The placement's tables (except the global table) whose CloudFormation home is `regionId`. */
export function tablesHomedIn(placement: ReplicationPlacement, regionId: string): PlacedTable[] {
  return placement.tables.filter((t) => t.role !== 'global' && t.homeRegion === regionId);
}

export interface ReplicationTablesStackProps extends StackProps {
  readonly plan: DeploymentPlan;
  readonly placement: ReplicationPlacement;
}

/**
 * `CortexState-<region>`: the placement's tables homed in a region other than the state stack's
 * (e.g. a jurisdiction's compliance table with its only replica in eu-west-1). Deploy it after the
 * regional stacks of its tables' regions: they create the table keys it names.
 */
export class ReplicationTablesStack extends Stack {
  readonly tables: ReplicationTables;
  /** Nightly backups of the tables homed here (BackupPlan). */
  readonly backupPlan: BackupPlan;

  constructor(scope: Construct, id: string, props: ReplicationTablesStackProps) {
    super(scope, id, props);
    const homed = tablesHomedIn(props.placement, this.region);
    if (this.region === props.plan.stateRegionId || homed.length === 0) {
      throw new Error(
        `ReplicationTablesStack: ${this.region} must home a table and not be the state stack's region ${props.plan.stateRegionId}`,
      );
    }
    this.tables = new ReplicationTables(this, 'ReplicationTables', {
      tables: homed,
      tableKeyAlias: props.plan.tableKeyAlias,
    });
    new CfnOutput(this, 'TableNames', { value: homed.map((t) => t.name).join(',') });
    this.backupPlan = new BackupPlan(this, 'Backups', {
      tables: homed.map((placed) => ({
        placed,
        table: (this.tables.tables[placed.name] as StateTable).table,
      })),
      topologyName: props.plan.name,
      tableKeyAlias: props.plan.tableKeyAlias,
    });
  }
}

/**
 * Mutations an immutable table refuses to every function role. BatchWriteItem too: a batch put
 * cannot carry the `attribute_not_exists` condition that keeps a written record unchanged, and a
 * batch delete is a delete. PartiQL's update and delete are the same mutations by another door.
 */
export const IMMUTABLE_DENIED_ACTIONS: readonly string[] = [
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
];

/**
 * Adds an explicit Deny of IMMUTABLE_DENIED_ACTIONS on every replica of every immutable table to
 * the role of each HandlerFunction in the scope it is applied to (an Aspect, so functions added by
 * any construct, now or later, are covered). An explicit Deny wins over any Allow, including a grant
 * someone adds by mistake. Puts stay possible: the adapter conditions them on the key being absent.
 * DynamoDB's TTL deletes are the service's own, not a role's: retention still expires items.
 */
export class DenyImmutableTableMutations implements IAspect {
  readonly #tables: readonly PlacedTable[];
  readonly #done = new WeakSet<HandlerFunction>();

  constructor(tables: readonly PlacedTable[]) {
    this.#tables = tables.filter((t) => t.immutable);
  }

  visit(node: IConstruct): void {
    if (!(node instanceof HandlerFunction) || this.#done.has(node) || this.#tables.length === 0) return;
    this.#done.add(node);
    const stack = Stack.of(node);
    const resources = this.#tables.flatMap((table) =>
      table.regions.map((region) =>
        stack.formatArn({ service: 'dynamodb', region, resource: 'table', resourceName: table.name }),
      ),
    );
    node.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DenyMutationOfImmutableTables',
        effect: iam.Effect.DENY,
        actions: [...IMMUTABLE_DENIED_ACTIONS],
        resources,
      }),
    );
  }
}
