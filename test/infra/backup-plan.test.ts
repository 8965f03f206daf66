/**
 * Backups (docs/backups.md): point-in-time recovery on every replica of every table, and in each
 * region that homes tables an AWS Backup vault under the region's table key with a nightly full
 * backup kept 90 days selecting exactly the tables homed there.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { backupVaultName, PITR_RECOVERY_DAYS } from '../../lib/core/dr/backup-age.ts';
import type { PlacedTable } from '../../lib/core/replication/placement.ts';
import { BackupPlan } from '../../lib/infra/backup-plan.ts';
import { StateTable } from '../../lib/infra/state-table.ts';
import { StateTableKey } from '../../lib/infra/state-table-key.ts';
import { type BuiltApp, buildCortexApp, logicalId, templateOf } from './build.ts';
import { actionsOf, allStatements, resourcesOf } from './iam.ts';

/** The stacks that hold tables, each with its template and the table names homed there. */
function tableStacks(built: BuiltApp): { stack: Stack; template: Template; tables: string[] }[] {
  return [built.stateStack, ...built.replicationStacks].map((stack) => ({
    stack,
    template: templateOf(stack),
    tables: built.placement.tables.filter((t) => t.homeRegion === stack.region).map((t) => t.name),
  }));
}

/** The StateTable constructs of a stack that holds tables, by table name. */
function tableConstructs(built: BuiltApp, stack: Stack): Readonly<Record<string, StateTable>> {
  if (stack === built.stateStack) {
    return {
      [`${built.topology.name}-state`]: built.stateStack.stateTable,
      ...(built.stateStack.replicationTables?.tables ?? {}),
    };
  }
  const replication = built.replicationStacks.find((s) => s === stack);
  if (!replication) throw new Error(`${stack.stackName} holds no tables`);
  return replication.tables.tables;
}

describe('backups', () => {
  let built: BuiltApp;

  beforeAll(() => {
    built = buildCortexApp();
  });

  it('keep point-in-time recovery on every replica of every table, 35 days', () => {
    let replicas = 0;
    for (const { template } of tableStacks(built)) {
      for (const table of Object.values(template.findResources('AWS::DynamoDB::GlobalTable'))) {
        for (const replica of table.Properties.Replicas as Record<string, unknown>[]) {
          expect(replica.PointInTimeRecoverySpecification, String(table.Properties.TableName)).toEqual({
            PointInTimeRecoveryEnabled: true,
            RecoveryPeriodInDays: PITR_RECOVERY_DAYS,
          });
          replicas += 1;
        }
      }
    }
    expect(replicas).toBe(built.placement.tables.reduce((n, t) => n + t.regions.length, 0));
  });

  it('back up every table nightly at 02:00 UTC, kept 90 days, in a vault of the region that homes it', () => {
    for (const { stack, template, tables } of tableStacks(built)) {
      template.resourceCountIs('AWS::Backup::BackupPlan', 1);
      template.hasResourceProperties('AWS::Backup::BackupPlan', {
        BackupPlan: {
          BackupPlanName: `${built.topology.name}-tables`,
          BackupPlanRule: [
            {
              RuleName: 'NightlyFull',
              ScheduleExpression: 'cron(0 2 * * ? *)',
              ScheduleExpressionTimezone: 'Etc/UTC',
              StartWindowMinutes: 60,
              CompletionWindowMinutes: 480,
              Lifecycle: { DeleteAfterDays: 90 },
              TargetBackupVault: { 'Fn::GetAtt': [Match.anyValue(), 'BackupVaultName'] },
            },
          ],
        },
      });
      // The selection names exactly this stack's tables (their home replicas), nothing by tag.
      const selections = Object.values(template.findResources('AWS::Backup::BackupSelection'));
      expect(selections, stack.stackName).toHaveLength(1);
      const selection = selections[0]?.Properties.BackupSelection;
      expect(selection.ListOfTags).toBeUndefined();
      const constructs = tableConstructs(built, stack);
      const tableIds = tables.map((name) => {
        const table = constructs[name];
        if (!table) throw new Error(`no StateTable ${name} in ${stack.stackName}`);
        return logicalId(table.table.node.defaultChild);
      });
      expect(
        selection.Resources.map((r: { 'Fn::GetAtt': [string, string] }) => r['Fn::GetAtt'][0]).sort(),
      ).toEqual(tableIds.sort());
    }
  });

  it("encrypt the vault with the region's table key, read from the parameter its regional stack writes", () => {
    for (const { stack, template } of tableStacks(built)) {
      template.hasResourceProperties('AWS::Backup::BackupVault', {
        BackupVaultName: backupVaultName(built.topology.name),
        EncryptionKeyArn: { Ref: Match.stringLikeRegexp('Parameter') },
        AccessPolicy: {
          Statement: [
            Match.objectLike({
              Effect: 'Deny',
              Action: ['backup:DeleteRecoveryPoint', 'backup:UpdateRecoveryPointLifecycle'],
            }),
          ],
        },
      });
      template.hasResource('AWS::Backup::BackupVault', { DeletionPolicy: 'Retain' });
      const parameters = template.toJSON().Parameters as Record<string, { Type: string; Default: string }>;
      expect(Object.values(parameters), stack.stackName).toContainEqual({
        Type: 'AWS::SSM::Parameter::Value<String>',
        Default: StateTableKey.arnParameterName(`alias/${built.topology.name}-state`),
      });
      // No key of its own: the cost model prices every key.
      template.resourceCountIs('AWS::KMS::Key', 0);
    }
    for (const regional of built.regionalStacks) {
      templateOf(regional).hasResourceProperties('AWS::SSM::Parameter', {
        Name: '/cortex-state/key-arn',
        Value: { 'Fn::GetAtt': [logicalId(regional.tableKey.key.node.defaultChild), 'Arn'] },
      });
    }
  });

  it('give AWS Backup a role only it assumes, its managed backup and restore policies, and the table key alone', () => {
    for (const { template } of tableStacks(built)) {
      const roles = Object.values(template.findResources('AWS::IAM::Role')).filter((r) =>
        JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('backup.amazonaws.com'),
      );
      expect(roles).toHaveLength(1);
      const role = roles[0];
      expect(role?.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'backup.amazonaws.com' } },
      ]);
      expect(JSON.stringify(role?.Properties.ManagedPolicyArns)).toMatch(
        /AWSBackupServiceRolePolicyForBackup/,
      );
      expect(JSON.stringify(role?.Properties.ManagedPolicyArns)).toMatch(
        /AWSBackupServiceRolePolicyForRestores/,
      );
      const statements = allStatements(template);
      const keyStatements = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
      const keyActions = keyStatements.flatMap(actionsOf).sort();
      expect(keyActions).toEqual([
        'kms:CreateGrant',
        'kms:Decrypt',
        'kms:DescribeKey',
        'kms:GenerateDataKey',
      ]);
      for (const s of keyStatements) expect(JSON.stringify(resourcesOf(s))).not.toContain('*');
    }
  });

  it('refuse a table homed in another region, no table, and a vault name AWS Backup would refuse', () => {
    const app = new App();
    const stack = new Stack(app, 'S', { env: { region: 'us-east-1' } });
    const table = new StateTable(stack, 'T', {
      tableName: 'x-state',
      replicaRegions: [],
      tableKeyAlias: 'alias/x-state',
    });
    const placed: PlacedTable = {
      name: 'x-state',
      role: 'global',
      regions: ['eu-west-1'],
      homeRegion: 'eu-west-1',
      consistency: 'single-region',
      immutable: false,
      dataTypes: ['metrics'],
      policies: [],
    };
    expect(
      () =>
        new BackupPlan(stack, 'B', {
          tables: [{ placed, table: table.table }],
          topologyName: 'x',
          tableKeyAlias: 'alias/x-state',
        }),
    ).toThrow(/x-state is homed in eu-west-1, not in this stack's region us-east-1/);
    expect(
      () => new BackupPlan(stack, 'C', { tables: [], topologyName: 'x', tableKeyAlias: 'alias/x-state' }),
    ).toThrow(/no table/);
    const longName = `${'n'.repeat(40)}-g2`;
    expect(
      () =>
        new BackupPlan(stack, 'D', {
          tables: [{ placed: { ...placed, homeRegion: 'us-east-1' }, table: table.table }],
          topologyName: longName,
          tableKeyAlias: 'alias/x-state',
        }),
    ).toThrow(/the vault name n+-g2-backups must be 2-50 .* at most 42 characters/);
  });

  it('keep for each table the longest retention its data needs', () => {
    const plan = built.stateStack.backupPlan;
    expect(plan?.retention.find((r) => r.table === `${built.topology.name}-state`)?.days).toEqual({
      continuous: 7,
      incremental: 30,
      full: 90,
    });
    for (const stack of built.replicationStacks) {
      for (const r of stack.backupPlan.retention)
        expect(r.days).toEqual({ continuous: 0, incremental: 0, full: 90 });
    }
  });
});
