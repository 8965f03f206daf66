import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { EXPIRY_ATTRIBUTE, type ReplicationPlacement } from '../core/replication/placement.ts';
import { BackupPlan } from './backup-plan.ts';
import type { DeploymentPlan } from './deployment-plan.ts';
import { ReplicationTables, tablesHomedIn } from './replication-tables.ts';
import { StateTable } from './state-table.ts';

export interface StateStackProps extends StackProps {
  readonly plan: DeploymentPlan;
  /** The replication placement: its tables homed in this region are built here too. @default none */
  readonly placement?: ReplicationPlacement;
}

/**
 * `CortexState`: the shared state's global table, in the plan's home region with a replica in every
 * other region. Deploy it after the regional stacks: they create the per-region table keys it names.
 */
export class StateStack extends Stack {
  readonly stateTable: StateTable;
  /** The placement's other tables homed here (MRSC, selective); undefined without a placement. */
  readonly replicationTables: ReplicationTables | undefined;
  /** Nightly backups of every table homed here; undefined without a placement (it says what they hold). */
  readonly backupPlan: BackupPlan | undefined;

  constructor(scope: Construct, id: string, props: StateStackProps) {
    super(scope, id, props);
    if (this.region !== props.plan.stateRegionId) {
      throw new Error(
        `StateStack: env.region must be the plan's home region ${props.plan.stateRegionId}, got ${this.region}`,
      );
    }
    this.stateTable = new StateTable(this, 'StateTable', {
      tableName: props.plan.tableName,
      replicaRegions: props.plan.replicaRegionIds,
      tableKeyAlias: props.plan.tableKeyAlias,
      // Records the plane no longer needs (consistency checks after a week) carry `expires_at`.
      timeToLiveAttribute: EXPIRY_ATTRIBUTE,
    });
    new CfnOutput(this, 'TableName', { value: this.stateTable.table.tableName });
    const homed = props.placement ? tablesHomedIn(props.placement, this.region) : [];
    this.replicationTables =
      homed.length > 0
        ? new ReplicationTables(this, 'ReplicationTables', {
            tables: homed,
            tableKeyAlias: props.plan.tableKeyAlias,
          })
        : undefined;
    const globalTable = props.placement?.tables.find((t) => t.role === 'global');
    const homedTables = homed.map((placed) => {
      const built = this.replicationTables?.tables[placed.name];
      if (!built) throw new Error(`StateStack: ${placed.name} was not built`);
      return { placed, table: built.table };
    });
    this.backupPlan = globalTable
      ? new BackupPlan(this, 'Backups', {
          tables: [{ placed: globalTable, table: this.stateTable.table }, ...homedTables],
          topologyName: props.plan.name,
          tableKeyAlias: props.plan.tableKeyAlias,
        })
      : undefined;
  }
}
