import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BuiltApp, buildCortexApp, templateOf } from './build.ts';

/** `arn:aws:kms:<region>:<account>:alias/cortex-state`, as the template renders it. */
function aliasArn(region: string): unknown {
  return { 'Fn::Join': ['', [`arn:aws:kms:${region}:`, { Ref: 'AWS::AccountId' }, ':alias/cortex-state']] };
}

describe('state stack (CortexState)', () => {
  let built: BuiltApp;
  let template: Template;

  beforeAll(() => {
    built = buildCortexApp();
    template = templateOf(built.stateStack);
  });

  it('lives in the primary-tier region and deploys after every regional stack (they create the keys)', () => {
    const primary = built.topology.regions.find((r) => r.tier === 'primary');
    expect(built.stateStack.stackName).toBe('CortexState');
    expect(built.stateStack.region).toBe(primary?.region_id);
    expect(built.stateStack.dependencies.map((s) => s.stackName).sort()).toEqual(
      built.regionalStacks.map((s) => s.stackName).sort(),
    );
  });

  it('is one global table named after the topology, keyed pk/sk, on demand', () => {
    // Besides it: the replication placement's tables homed here (test/infra/replication-tables.test.ts).
    const names = Object.values(template.findResources('AWS::DynamoDB::GlobalTable')).map(
      (t) => t.Properties.TableName,
    );
    expect(names.filter((n) => n === `${built.topology.name}-state`)).toHaveLength(1);
    expect(names.sort()).toEqual(
      built.placement.tables
        .filter((t) => t.homeRegion === built.stateStack.region)
        .map((t) => t.name)
        .sort(),
    );
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: `${built.topology.name}-state`,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'gsi1pk', AttributeType: 'S' },
        { AttributeName: 'gsi1sk', AttributeType: 'S' },
      ]),
      GlobalSecondaryIndexes: [
        {
          IndexName: 'gsi1',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });

  it('has a replica in every topology region, each with PITR, deletion protection and its own region key', () => {
    const tables = Object.values(template.findResources('AWS::DynamoDB::GlobalTable'));
    const state = tables.find((t) => t.Properties.TableName === `${built.topology.name}-state`);
    const replicas = state?.Properties.Replicas as { Region: string }[];
    expect(replicas.map((r) => r.Region).sort()).toEqual(
      built.topology.regions.map((r) => r.region_id).sort(),
    );
    for (const region of built.topology.regions.map((r) => r.region_id)) {
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        Replicas: Match.arrayWith([
          Match.objectLike({
            Region: region,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
            DeletionProtectionEnabled: true,
            SSESpecification: { KMSMasterKeyId: aliasArn(region) },
          }),
        ]),
      });
    }
  });

  it('encrypts with customer managed KMS keys and is retained when the stack goes', () => {
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      Properties: Match.objectLike({ SSESpecification: { SSEEnabled: true, SSEType: 'KMS' } }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('replicates with streams (global tables need NEW_AND_OLD_IMAGES)', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
  });
});
