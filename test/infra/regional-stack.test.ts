import { Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CONCERNS, type Concern } from '../../lib/app/routes.ts';
import { CONCERN_ACCESS, type RegionalStack } from '../../lib/infra/regional-stack.ts';
import { logicalId, useRegionalTemplates } from './build.ts';
import { actionsOf, allStatements, resourcesOf, type Statement, statementsOfRole } from './iam.ts';

function tableArn(region: string, suffix = ''): unknown {
  return {
    'Fn::Join': [
      '',
      [`arn:aws:dynamodb:${region}:`, { Ref: 'AWS::AccountId' }, `:table/cortex-state${suffix}`],
    ],
  };
}

describe('regional stacks (CortexRegion-<region_id>)', () => {
  const regional = useRegionalTemplates();
  const each = regional.each;

  it('exist once per topology region, named after it and deployed to it', () => {
    expect(regional.built.regionalStacks.map((s) => [s.stackName, s.region])).toEqual(
      regional.built.topology.regions.map((r) => [`CortexRegion-${r.region_id}`, r.region_id]),
    );
  });

  describe('handler functions', () => {
    it('run Node.js 24 on arm64 with tracing and 128-512 MiB: one per concern plus the probe, the failover steps, the privacy sweeper, the compliance audit, the replication monitor, the latency sampler, the rebalancer, the daily operations report and the DR runbooks’ task function', () => {
      each((stack, template) => {
        const functions = template.findResources('AWS::Lambda::Function');
        expect(Object.keys(functions)).toHaveLength(CONCERNS.length + 9);
        // Sampled by their caller: /health (Route 53 about twice a second), the minute driver's rounds,
        // and the jobs scheduled every few minutes (Active would trace every run).
        const sampledUpstream = new Set(
          [
            stack.handlers.health,
            stack.probe,
            stack.replicationMonitor,
            stack.latencySampler,
            stack.rebalancer,
          ].map((h) => logicalId(h.function.node.defaultChild)),
        );
        for (const [id, fn] of Object.entries(functions)) {
          expect(fn.Properties).toMatchObject({
            Runtime: 'nodejs24.x',
            Architectures: ['arm64'],
            Handler: 'index.handler',
            TracingConfig: { Mode: sampledUpstream.has(id) ? 'PassThrough' : 'Active' },
          });
          expect(fn.Properties.MemorySize).toBeGreaterThanOrEqual(128);
          expect(fn.Properties.MemorySize).toBeLessThanOrEqual(512);
        }
        for (const concern of CONCERNS) {
          expect(
            functions[logicalId(stack.handlers[concern].function.node.defaultChild)]?.Properties.Timeout,
          ).toBe(10);
        }
      });
    });

    it('know their region and the table name from the environment', () => {
      each((stack, template) => {
        for (const concern of CONCERNS) {
          const fn = stack.handlers[concern].function;
          const props =
            template.findResources('AWS::Lambda::Function')[logicalId(fn.node.defaultChild)]?.Properties;
          expect(props?.Environment.Variables).toMatchObject({
            CORTEX_REGION_ID: stack.regionId,
            CORTEX_TABLE_NAME: 'cortex-state',
          });
          // Only what a concern is granted shows up in its environment.
          if (!CONCERN_ACCESS[concern].failoverWorkflow) {
            expect(Object.keys(props?.Environment.Variables).sort()).toEqual([
              ...(CONCERN_ACCESS[concern].events ? ['CORTEX_EVENT_BUS'] : []),
              'CORTEX_REGION_ID',
              'CORTEX_TABLE_NAME',
            ]);
          }
        }
      });
    });

    it('log as JSON to their own log group, kept 30 days', () => {
      each((stack, template) => {
        const groups = template.findResources('AWS::Logs::LogGroup');
        const functions = template.findResources('AWS::Lambda::Function');
        for (const handler of [
          ...CONCERNS.map((c) => stack.handlers[c]),
          stack.probe,
          stack.failover,
          stack.privacySweeper,
          stack.complianceAudit,
        ]) {
          const groupId = logicalId(handler.logGroup.node.defaultChild);
          expect(groups[groupId]?.Properties.RetentionInDays).toBe(30);
          expect(functions[logicalId(handler.function.node.defaultChild)]?.Properties.LoggingConfig).toEqual({
            LogFormat: 'JSON',
            LogGroup: { Ref: groupId },
            // No START, END and REPORT lines (docs/aws.md, Idle cost).
            SystemLogLevel: 'WARN',
          });
        }
      });
    });
  });

  describe('HTTP API', () => {
    it('serves a throttled $default stage with JSON access logs to a log group', () => {
      each((stack, template) => {
        template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
        template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
          StageName: '$default',
          AutoDeploy: true,
          DefaultRouteSettings: { ThrottlingBurstLimit: 100, ThrottlingRateLimit: 50 },
          AccessLogSettings: {
            DestinationArn: { 'Fn::GetAtt': [logicalId(stack.api.accessLogGroup.node.defaultChild), 'Arn'] },
            Format: Match.serializedJson(
              Match.objectLike({
                id: '$context.requestId',
                ip: '$context.identity.sourceIp',
                caller: '$context.identity.caller',
                at: '$context.requestTimeEpoch',
                route: '$context.routeKey',
                status: '$context.status',
                ms: '$context.responseLatency',
                error: '$context.integrationErrorMessage',
              }),
            ),
          },
        });
      });
    });

    it('outputs the API URL of its region', () => {
      each((stack, template) => {
        template.hasOutput('ApiUrl', {
          Value: {
            'Fn::Join': [
              '',
              Match.arrayWith([
                { Ref: logicalId(stack.api.api.node.defaultChild) },
                `.execute-api.${stack.regionId}.`,
              ]),
            ],
          },
        });
      });
    });
  });

  describe('table key', () => {
    it('is a rotating KMS key aliased alias/cortex-state in every region, retained with the stack', () => {
      each((stack, template) => {
        template.hasResource('AWS::KMS::Key', {
          Properties: Match.objectLike({ EnableKeyRotation: true }),
          DeletionPolicy: 'Retain',
        });
        template.hasResourceProperties('AWS::KMS::Alias', {
          AliasName: 'alias/cortex-state',
          TargetKeyId: { 'Fn::GetAtt': [logicalId(stack.tableKey.key.node.defaultChild), 'Arn'] },
        });
      });
    });
  });

  describe('IAM (least privilege)', () => {
    function statementsOf(stack: RegionalStack, template: Template, concern: Concern): Statement[] {
      return statementsOfRole(template, logicalId(stack.handlers[concern].role.node.defaultChild));
    }

    // It claims a task's handoff in the owner region's replica (GetItem, PutItem there) and
    // keeps its claim journal in its own (DeleteItem).
    it('lets the router get, query, put and delete items on its own region table, and query its index', () => {
      each((stack, template) => {
        const statements = statementsOf(stack, template, 'router');
        expect(statements).toContainEqual({
          Effect: 'Allow',
          Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
          Resource: tableArn(stack.regionId),
        });
        expect(statements).toContainEqual({
          Effect: 'Allow',
          Action: 'dynamodb:Query',
          Resource: tableArn(stack.regionId, '/index/gsi1'),
        });
      });
    });

    it('lets regions and health only read (GetItem, Query): no PutItem, UpdateItem, DeleteItem', () => {
      each((stack, template) => {
        for (const concern of ['regions', 'health'] as const) {
          const statements = statementsOf(stack, template, concern);
          const dynamoActions = statements
            .filter((s) => s.Effect === 'Allow')
            .flatMap(actionsOf)
            .filter((a) => a.startsWith('dynamodb:'));
          expect(new Set(dynamoActions)).toEqual(new Set(['dynamodb:GetItem', 'dynamodb:Query']));
          expect(statements).toContainEqual({
            Effect: 'Allow',
            Action: ['dynamodb:GetItem', 'dynamodb:Query'],
            Resource: tableArn(stack.regionId),
          });
        }
      });
    });

    it('uses the region table key only through DynamoDB in that region; only writers may encrypt', () => {
      each((stack, template) => {
        const keyArn = { 'Fn::GetAtt': [logicalId(stack.tableKey.key.node.defaultChild), 'Arn'] };
        const viaDynamo = { StringEquals: { 'kms:ViaService': `dynamodb.${stack.regionId}.amazonaws.com` } };
        for (const concern of ['router', 'failovers'] as const) {
          expect(statementsOf(stack, template, concern)).toContainEqual({
            Effect: 'Allow',
            Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
            Resource: keyArn,
            Condition: viaDynamo,
          });
        }
        for (const concern of ['regions', 'health'] as const) {
          expect(statementsOf(stack, template, concern)).toContainEqual({
            Effect: 'Allow',
            Action: 'kms:Decrypt',
            Resource: keyArn,
            Condition: viaDynamo,
          });
        }
      });
    });

    it('grants no wildcard actions and no "*" or index/* resources for DynamoDB or KMS anywhere', () => {
      each((_stack, template) => {
        for (const statement of allStatements(template)) {
          // The one Deny: mutations of immutable tables (test/infra/replication-tables.test.ts).
          if (statement.Effect === 'Deny') {
            expect((statement as { Sid?: string }).Sid).toBe('DenyMutationOfImmutableTables');
            continue;
          }
          expect(statement.Effect).toBe('Allow');
          for (const action of actionsOf(statement)) expect(action, 'wildcard action').not.toContain('*');
          if (actionsOf(statement).some((a) => a.startsWith('dynamodb:'))) {
            for (const resource of resourcesOf(statement))
              expect(JSON.stringify(resource)).not.toContain('*');
          }
          if (actionsOf(statement).some((a) => a.startsWith('kms:'))) {
            for (const resource of resourcesOf(statement)) {
              expect(resource).not.toBe('*');
              // Another region's table key is known only by alias: key/* narrowed to that alias, via DynamoDB.
              if (JSON.stringify(resource).includes('*')) {
                expect(JSON.stringify(resource)).toMatch(/:key\/\*"\]\]\}$/);
                expect(statement.Condition).toEqual({
                  StringEquals: {
                    'kms:ViaService': expect.stringMatching(/^dynamodb\.[a-z0-9-]+\.amazonaws\.com$/),
                  },
                  'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/cortex-state' },
                });
              }
            }
          }
        }
      });
    });

    it('gives the functions no AWS managed policies (no AWSLambdaBasicExecutionRole)', () => {
      each((_stack, template) => {
        for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
          expect(role.Properties.ManagedPolicyArns).toBeUndefined();
        }
      });
    });
  });
});
