import { Duration, RemovalPolicy, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import {
  BACKUP_STRATEGY,
  backupVaultName,
  PITR_RECOVERY_DAYS,
  retentionNeeds,
} from '../core/dr/backup-age.ts';
import type { PlacedTable } from '../core/replication/placement.ts';
import { StateTableKey } from './state-table-key.ts';

/** AWS Backup's cron for the spec's nightly full backup (`0 2 * * *`), in UTC. */
const NIGHTLY_FULL_SCHEDULE = 'cron(0 2 * * ? *)';

export interface BackupPlanProps {
  /** The tables whose CloudFormation home is this stack, each with what the placement put in it. */
  readonly tables: readonly { readonly placed: PlacedTable; readonly table: dynamodb.TableV2 }[];
  /** The topology's name (with its generation): names the vault and the plan. */
  readonly topologyName: string;
  /** Alias of this region's table key (DeploymentPlan.tableKeyAlias): the vault uses the same key. */
  readonly tableKeyAlias: string;
}

/**
 * Backups of the tables homed in one region (spec `backup_strategy`):
 *
 * - continuous: DynamoDB point-in-time recovery on every replica of every table (StateTable), a
 *   35-day window. It is the spec's continuous backup of master_state and active_tasks (7 days)
 *   and covers its 15-minute incremental backups of worker_state and metrics (30 days): a restore
 *   to any second of the window, where AWS Backup's shortest schedule is an hour and each DynamoDB
 *   backup is a full copy (30 days of quarter-hourly copies would be 2,880 of them per table).
 * - full: an AWS Backup plan with one rule, every night at 02:00 UTC, kept 90 days, for every
 *   table homed here. A table holds several data types and each one's retention is the longest
 *   its data needs (retentionNeeds): the state table holds all three classes and keeps 35 days of
 *   point-in-time recovery and 90 of nightly backups.
 *
 * The vault is encrypted with this region's table key (the one that already encrypts the
 * replicas: no key of its own). AWS Backup takes the key's ARN, not its alias, and the key is the
 * regional stack's, so its ARN is read from the SSM parameter that stack writes
 * (StateTableKey.arnParameterName), resolved by CloudFormation at deploy time in this region.
 *
 * No copy to another region: the spec asks for none, every replica already holds the data in its
 * own region with its own point-in-time recovery, and a jurisdiction's table may not leave it.
 */
export class BackupPlan extends Construct {
  readonly vault: backup.BackupVault;
  readonly plan: backup.BackupPlan;
  /** The role AWS Backup assumes to back the tables up and to restore them. */
  readonly role: iam.Role;
  /** Days each backup kind keeps, per table (the longest its data needs), in the order given. */
  readonly retention: readonly { readonly table: string; readonly days: ReturnType<typeof retentionNeeds> }[];

  constructor(scope: Construct, id: string, props: BackupPlanProps) {
    super(scope, id);
    if (props.tables.length === 0) throw new Error('BackupPlan: no table to back up');
    const region = Stack.of(this).region;
    for (const { placed } of props.tables) {
      if (placed.homeRegion !== region) {
        throw new Error(
          `BackupPlan: ${placed.name} is homed in ${placed.homeRegion}, not in this stack's region ${region}`,
        );
      }
    }
    this.retention = props.tables.map(({ placed }) => ({ table: placed.name, days: retentionNeeds(placed) }));
    for (const { table, days } of this.retention) {
      const continuous = Math.max(days.continuous, days.incremental);
      if (continuous > PITR_RECOVERY_DAYS) {
        throw new Error(
          `BackupPlan: ${table} needs ${continuous} days of continuous backups; point-in-time recovery keeps ${PITR_RECOVERY_DAYS}`,
        );
      }
    }

    const vaultName = backupVaultName(props.topologyName);
    if (!/^[A-Za-z0-9_-]{2,50}$/.test(vaultName)) {
      throw new Error(
        `BackupPlan: the vault name ${vaultName} must be 2-50 letters, digits, '-' or '_' (AWS Backup): the topology's name with its generation may be at most ${50 - backupVaultName('').length} characters`,
      );
    }
    const keyArn = ssm.StringParameter.valueForStringParameter(
      this,
      StateTableKey.arnParameterName(props.tableKeyAlias),
    );
    const key = kms.Key.fromKeyArn(this, 'TableKey', keyArn);
    this.vault = new backup.BackupVault(this, 'Vault', {
      backupVaultName: vaultName,
      encryptionKey: key,
      // Recovery points outlive the stack (a vault holding any cannot be deleted anyway), and no
      // principal may delete one or shorten its lifecycle: only the plan's retention expires them.
      removalPolicy: RemovalPolicy.RETAIN,
      blockRecoveryPointDeletion: true,
    });

    this.plan = new backup.BackupPlan(this, 'Plan', {
      backupPlanName: `${props.topologyName}-tables`,
      backupVault: this.vault,
    });
    this.plan.addRule(
      new backup.BackupPlanRule({
        ruleName: 'NightlyFull',
        scheduleExpression: events.Schedule.expression(NIGHTLY_FULL_SCHEDULE),
        scheduleExpressionTimezone: TimeZone.ETC_UTC,
        startWindow: Duration.hours(1),
        completionWindow: Duration.hours(8),
        deleteAfter: Duration.days(BACKUP_STRATEGY.full.retention_days),
      }),
    );

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description: `AWS Backup: nightly backups and restores of ${props.tables.map((t) => t.placed.name).join(', ')}`,
    });
    this.plan.addSelection('Tables', {
      backupSelectionName: 'tables',
      resources: props.tables.map(({ table }) => backup.BackupResource.fromDynamoDbTable(table)),
      role: this.role,
      allowRestores: true,
    });
    // The tables and the vault share the region's table key: a backup reads the table through it
    // and writes the recovery point with it; AWS Backup makes the grants DynamoDB uses.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: [keyArn],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:CreateGrant'],
        resources: [keyArn],
        conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }),
    );
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
      reason:
        "AWS Backup's own policy for backup jobs: it follows the service as DynamoDB's backup actions change (StartAwsBackupJob, the advanced backup features), which a hand-written copy would miss silently, failing the nightly backups. Only AWS Backup can assume the role, and only this plan's selection passes it.",
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores]',
      reason:
        "AWS Backup's own policy for restore jobs (a restore creates a new table from a recovery point); the role is the one an operator passes to start-restore-job (docs/backups.md).",
    });
  }
}
