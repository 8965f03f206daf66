/**
 * Privacy and compliance on AWS: the privacy and compliance concerns, the hourly privacy sweeper, the daily
 * compliance audit, and the optional audit report bucket in each region (its retention from the
 * topology), with what each role must and must not be allowed.
 */
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { placeReplication } from '../../lib/core/replication/placement.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { buildApp } from '../../lib/infra/app.ts';
import { AuditBucket, auditRetention } from '../../lib/infra/audit-bucket.ts';
import type { HandlerFunction } from '../../lib/infra/handler-function.ts';
import type { RegionalStack } from '../../lib/infra/regional-stack.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { defaultTopology, logicalId, newApp, useRegionalTemplates } from './build.ts';
import { actionsAllowed, allStatements, resourcesAllowed, type Statement, statementsOfRole } from './iam.ts';
import { acknowledgements, awsSolutionsFindings, type NagFinding } from './nag.ts';

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'];

function tableArn(region: string, suffix = ''): unknown {
  return {
    'Fn::Join': [
      '',
      [`arn:aws:dynamodb:${region}:`, { Ref: 'AWS::AccountId' }, `:table/cortex-state${suffix}`],
    ],
  };
}

/** This region's replicas of the default topology's selective tables, in placement order. */
function selectiveArns(region: string): unknown[] {
  return placeReplication(validateTopology(defaultTopologyJson()))
    .tables.filter((t) => t.role === 'selective' && t.regions.includes(region))
    .map((t) => ({
      'Fn::Join': ['', [`arn:aws:dynamodb:${region}:`, { Ref: 'AWS::AccountId' }, `:table/${t.name}`]],
    }));
}

function roleStatements(template: Template, handler: HandlerFunction): Statement[] {
  return statementsOfRole(template, logicalId(handler.role.node.defaultChild));
}

function dynamoActions(statements: readonly Statement[]): string[] {
  return [...actionsAllowed(statements)].filter((a) => a.startsWith('dynamodb:')).sort();
}

function functionProps(template: Template, handler: HandlerFunction) {
  return template.findResources('AWS::Lambda::Function')[logicalId(handler.function.node.defaultChild)]
    ?.Properties;
}

/** The schedule that invokes `handler`, and the actions its role may take. */
function scheduleOf(template: Template, handler: HandlerFunction) {
  const fnArn = { 'Fn::GetAtt': [logicalId(handler.function.node.defaultChild), 'Arn'] };
  const schedule = Object.values(template.findResources('AWS::Scheduler::Schedule')).find(
    (s) => JSON.stringify(s.Properties.Target.Arn) === JSON.stringify(fnArn),
  );
  const roleId = schedule?.Properties.Target.RoleArn['Fn::GetAtt'][0] as string;
  return { schedule: schedule?.Properties, statements: statementsOfRole(template, roleId), fnArn };
}

describe('privacy and compliance in every regional stack (default: no audit bucket)', () => {
  const regional = useRegionalTemplates();
  const each = regional.each;

  describe('privacy API', () => {
    it('records requests on its own replica, and may only find (Query) and erase (DeleteItem) in the others', () => {
      each((stack, template) => {
        const statements = roleStatements(template, stack.handlers.privacy);
        expect(dynamoActions(statements)).toEqual([
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
        ]);
        for (const action of ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query']) {
          expect(resourcesAllowed(statements, `dynamodb:${action}`)).toContainEqual(tableArn(stack.regionId));
        }
        for (const peer of REGIONS.filter((r) => r !== stack.regionId)) {
          expect(resourcesAllowed(statements, 'dynamodb:DeleteItem')).toContainEqual(tableArn(peer));
          expect(resourcesAllowed(statements, 'dynamodb:Query')).toContainEqual(
            tableArn(peer, '/index/gsi1'),
          );
          for (const action of ['GetItem', 'PutItem', 'UpdateItem']) {
            expect(
              resourcesAllowed(statements, `dynamodb:${action}`),
              `${action} on ${peer}`,
            ).not.toContainEqual(tableArn(peer));
          }
        }
        const services = new Set([...actionsAllowed(statements)].map((a) => a.split(':')[0]));
        expect([...services].sort()).toEqual(['dynamodb', 'events', 'kms', 'logs', 'xray']);
        expect(
          functionProps(template, stack.handlers.privacy).Environment.Variables.CORTEX_EVENT_BUS,
        ).toEqual({
          Ref: logicalId(stack.events.bus.node.defaultChild),
        });
      });
    });
  });

  describe('privacy sweeper', () => {
    it('runs hourly on its own schedule, whose role may invoke only the sweeper', () => {
      each((stack, template) => {
        const { schedule, statements, fnArn } = scheduleOf(template, stack.privacySweeper);
        expect(schedule).toMatchObject({ ScheduleExpression: 'rate(1 hour)', State: 'ENABLED' });
        expect(statements).toEqual([{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: fnArn }]);
        expect(functionProps(template, stack.privacySweeper)).toMatchObject({
          Handler: 'index.handler',
          Timeout: 300,
          Environment: { Variables: { CORTEX_REGION_ID: stack.regionId, CORTEX_TABLE_NAME: 'cortex-state' } },
        });
      });
    });

    it('has the privacy API’s table access and events, and nothing of the failover path', () => {
      each((stack, template) => {
        const statements = roleStatements(template, stack.privacySweeper);
        expect(dynamoActions(statements)).toEqual(
          dynamoActions(roleStatements(template, stack.handlers.privacy)),
        );
        for (const peer of REGIONS.filter((r) => r !== stack.regionId)) {
          expect(resourcesAllowed(statements, 'dynamodb:DeleteItem')).toContainEqual(tableArn(peer));
          expect(resourcesAllowed(statements, 'dynamodb:PutItem')).not.toContainEqual(tableArn(peer));
        }
        const actions = [...actionsAllowed(statements)];
        expect(actions).toContain('events:PutEvents');
        expect(actions.filter((a) => /^(states|s3|route53|iam|sts|cloudformation):/.test(a))).toEqual([]);
      });
    });
  });

  describe('compliance API and daily audit', () => {
    it('the API reads and writes its own replica only (no update, no delete, no other region)', () => {
      each((stack, template) => {
        const statements = roleStatements(template, stack.handlers.compliance);
        expect(dynamoActions(statements)).toEqual([
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:Scan',
        ]);
        expect(resourcesAllowed(statements, 'dynamodb:PutItem')).toEqual([tableArn(stack.regionId)]);
        expect(resourcesAllowed(statements, 'dynamodb:Scan')).toEqual(
          expect.arrayContaining(selectiveArns(stack.regionId)),
        );
        expect(resourcesAllowed(statements, 'dynamodb:Scan')).toHaveLength(
          selectiveArns(stack.regionId).length,
        );
        expect(actionsAllowed(statements).has('events:PutEvents')).toBe(true);
      });
    });

    it('the audit runs daily in every region on its replica, and without a bucket has no S3 access', () => {
      each((stack, template) => {
        const { schedule, statements: scheduler } = scheduleOf(template, stack.complianceAudit);
        expect(schedule).toMatchObject({ ScheduleExpression: 'rate(1 day)' });
        expect(scheduler).toHaveLength(1);
        const statements = roleStatements(template, stack.complianceAudit);
        expect(dynamoActions(statements)).toEqual([
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:Scan',
        ]);
        // It reads this region's selectively replicated records: its replicas of the selective tables only.
        expect(resourcesAllowed(statements, 'dynamodb:Scan')).toEqual(
          expect.arrayContaining(selectiveArns(stack.regionId)),
        );
        expect(resourcesAllowed(statements, 'dynamodb:Scan')).toHaveLength(
          selectiveArns(stack.regionId).length,
        );
        for (const action of ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']) {
          expect(resourcesAllowed(statements, action)).not.toContainEqual(
            tableArn(REGIONS.find((r) => r !== stack.regionId) as string),
          );
        }
        expect([...actionsAllowed(statements)].filter((a) => a.startsWith('s3:'))).toEqual([]);
        expect(
          functionProps(template, stack.complianceAudit).Environment.Variables.CORTEX_AUDIT_BUCKET,
        ).toBeUndefined();
        expect(stack.auditBucket).toBeUndefined();
        template.resourceCountIs('AWS::S3::Bucket', 0);
      });
    });
  });

  it('operators are told of overdue data-subject requests', () => {
    each((_stack, template) => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: { 'detail-type': Match.arrayWith(['privacy.request_overdue']) },
      });
    });
  });
});

describe('the audit report bucket (-c auditBucket=true)', () => {
  let stacks: readonly RegionalStack[];
  const templates = new Map<string, Template>();

  let app: ReturnType<typeof newApp>['app'];
  let findings: NagFinding[];

  beforeAll(() => {
    const scratch = newApp();
    app = scratch.app;
    app.node.setContext('auditBucket', 'true');
    stacks = buildApp(app, defaultTopology().topology).regionalStacks;
    // Its cdk-nag findings are checked here, on this synth: no other file builds this variant.
    findings = awsSolutionsFindings(app, scratch.outdir);
    for (const stack of stacks) templates.set(stack.regionId, Template.fromStack(stack));
  });

  it('cdk-nag: report no unacknowledged error; acknowledge only the log bucket’s own logging and the report writer’s object ARN', () => {
    expect(findings).toEqual([]);
    const added = acknowledgements(app)
      .map((a) => `${a.id.replace(/^Annotation::/, '')} @ ${a.path.split('/').slice(1).join('/')}`)
      .filter((kind) => kind.includes('AuditReports') || kind.includes('s3'));
    // One of each per region.
    expect(added.filter((kind) => kind === 'AwsSolutions-S1 @ AuditReports/AccessLogs')).toHaveLength(3);
    const writer =
      /^AwsSolutions-IAM5\[Resource::<AuditReportsBucket[0-9A-F]{8}\.Arn>\/\*\] @ ComplianceAudit\/Handler\/Role$/;
    expect(added.filter((kind) => writer.test(kind))).toHaveLength(3);
    expect(added).toHaveLength(6);
  });

  function each(
    fn: (stack: RegionalStack, template: Template, bucket: NonNullable<RegionalStack['auditBucket']>) => void,
  ) {
    expect(stacks.map((s) => s.regionId)).toEqual(REGIONS);
    for (const stack of stacks) {
      expect(stack.auditBucket, stack.regionId).toBeDefined();
      fn(stack, templates.get(stack.regionId) as Template, stack.auditBucket as AuditBucket);
    }
  }

  it('is in each region, KMS-encrypted with its own rotating key, versioned, private, logged, retained', () => {
    each((_stack, template, audit) => {
      const keyId = logicalId(audit.key.node.defaultChild);
      template.hasResource('AWS::S3::Bucket', {
        Properties: Match.objectLike({
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              {
                BucketKeyEnabled: true,
                ServerSideEncryptionByDefault: {
                  SSEAlgorithm: 'aws:kms',
                  KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] },
                },
              },
            ],
          },
          VersioningConfiguration: { Status: 'Enabled' },
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
          LoggingConfiguration: {
            DestinationBucketName: { Ref: logicalId(audit.accessLogs.node.defaultChild) },
            LogFilePrefix: 'audit-bucket/',
          },
        }),
        DeletionPolicy: 'Retain',
      });
      template.hasResource('AWS::KMS::Key', {
        Properties: Match.objectLike({ EnableKeyRotation: true }),
        DeletionPolicy: 'Retain',
      });
    });
  });

  it('keeps reports immutable for the topology’s compliance retention (2555 days), then expires them', () => {
    expect(auditRetention(defaultTopology().topology)).toEqual({
      days: 2555,
      immutable: true,
      source: 'replication_strategies.selective.compliance_data_replication (coordination/compliance/*)',
    });
    each((_stack, template, audit) => {
      const bucket = template.findResources('AWS::S3::Bucket')[logicalId(audit.bucket.node.defaultChild)];
      expect(bucket?.Properties).toMatchObject({
        ObjectLockEnabled: true,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2555 } },
        },
        LifecycleConfiguration: {
          Rules: [
            {
              ExpirationInDays: 2555,
              NoncurrentVersionExpiration: { NoncurrentDays: 1 },
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
              Status: 'Enabled',
            },
          ],
        },
      });
    });
  });

  it('denies every request without TLS, on the report bucket and its log bucket', () => {
    each((_stack, template, audit) => {
      for (const bucket of [audit.bucket, audit.accessLogs]) {
        template.hasResourceProperties('AWS::S3::BucketPolicy', {
          Bucket: { Ref: logicalId(bucket.node.defaultChild) },
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: 'Deny',
                Action: 's3:*',
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              }),
            ]),
          },
        });
      }
    });
  });

  it('lets the audit only put objects in it (no read, list, delete or retention change), named in its environment', () => {
    each((stack, template, audit) => {
      const bucketId = logicalId(audit.bucket.node.defaultChild);
      const statements = roleStatements(template, stack.complianceAudit);
      expect([...actionsAllowed(statements)].filter((a) => a.startsWith('s3:'))).toEqual(['s3:PutObject']);
      expect(resourcesAllowed(statements, 's3:PutObject')).toEqual([
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] },
      ]);
      expect(statements).toContainEqual({
        Effect: 'Allow',
        Action: 'kms:GenerateDataKey',
        Resource: { 'Fn::GetAtt': [logicalId(audit.key.node.defaultChild), 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': `s3.${stack.regionId}.amazonaws.com` } },
      });
      expect(
        functionProps(template, stack.complianceAudit).Environment.Variables.CORTEX_AUDIT_BUCKET,
      ).toEqual({
        Ref: bucketId,
      });
      // Nobody else touches it.
      const others = allStatements(template).filter((s) =>
        [...actionsAllowed([s])].some((a) => a.startsWith('s3:')),
      );
      expect(others).toHaveLength(1);
    });
  });

  it('a retention policy that is not immutable: lifecycle only, no Object Lock', () => {
    const json = defaultTopologyJson();
    const policy = json.replication_strategies.selective.policies.find(
      (p: { policy_id: string }) => p.policy_id === 'compliance_data_replication',
    );
    policy.immutable = false;
    policy.retention_days = 400;
    const topology = validateTopology(json);
    expect(auditRetention(topology)).toMatchObject({ days: 400, immutable: false });
    const stack = new Stack(newApp().app, 'Unit', { env: { region: 'eu-west-1' } });
    const audit = new AuditBucket(stack, 'Audit', { retention: auditRetention(topology) });
    const bucket =
      Template.fromStack(stack).findResources('AWS::S3::Bucket')[logicalId(audit.bucket.node.defaultChild)];
    expect(bucket?.Properties.ObjectLockEnabled).toBeUndefined();
    expect(bucket?.Properties.LifecycleConfiguration.Rules[0].ExpirationInDays).toBe(400);
  });

  it('rejects a retention it cannot enforce', () => {
    const stack = new Stack(newApp().app, 'Unit', { env: { region: 'eu-west-1' } });
    expect(
      () => new AuditBucket(stack, 'Audit', { retention: { days: 0, immutable: true, source: 'x' } }),
    ).toThrow(/retention days must be an integer from 1 to 36500, got 0/);
  });
});
