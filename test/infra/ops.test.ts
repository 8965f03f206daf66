/**
 * Operations on AWS: the daily report job on its schedule in every region, and it and the ops API
 * with exactly the table actions they use (their own replica; Query on the others' for the lag
 * check), the bus, and nothing of Route 53, IAM or CloudFormation.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CONCERN_ACCESS, JOB_TABLE_ACCESS } from '../../lib/infra/regional-stack.ts';
import { logicalId, useRegionalTemplates } from './build.ts';
import { actionsOf, actionsOn, arnIn, resourcesAllowed, roleStatements } from './iam.ts';

const tableArn = (region: string) => arnIn('dynamodb', region, 'table/cortex-state');
const dynamo = (actions: readonly string[]) => actions.map((a) => `dynamodb:${a}`).sort();

describe('operations functions', () => {
  const regional = useRegionalTemplates();
  const each = regional.each;

  it('runs the daily operations report once a day in every region from EventBridge Scheduler', () => {
    each((stack, template) => {
      const job = stack.jobs['ops-daily'];
      const fn = logicalId(job.handler.function.node.defaultChild);
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'rate(1 day)',
        Target: { Arn: { 'Fn::GetAtt': [fn, 'Arn'] } },
      });
      const [schedule] = job.schedules;
      expect(schedule).toBeDefined();
      if (!schedule) return;
      expect(roleStatements(template, schedule.role)).toEqual([
        { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [fn, 'Arn'] } },
      ]);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 128,
        Timeout: 60,
        Environment: { Variables: Match.objectLike({ CORTEX_REGION_ID: stack.regionId }) },
      });
    });
  });

  it('gives the daily job and the ops API their own replica, Query on the others, and the bus', () => {
    each((stack, template) => {
      for (const [role, own, remote] of [
        [stack.jobs['ops-daily'].handler.role, JOB_TABLE_ACCESS.opsDaily, JOB_TABLE_ACCESS.opsDailyRemote],
        [stack.handlers.ops.role, CONCERN_ACCESS.ops.table ?? [], CONCERN_ACCESS.ops.remoteTable ?? []],
      ] as const) {
        const statements = roleStatements(template, role);
        expect(actionsOn(statements, tableArn(stack.regionId))).toEqual(dynamo(own));
        for (const peer of regional.built.topology.regions
          .map((r) => r.region_id)
          .filter((r) => r !== stack.regionId)) {
          expect(actionsOn(statements, tableArn(peer))).toEqual(dynamo(remote));
        }
        expect(resourcesAllowed(statements, 'events:PutEvents')).toEqual([
          { 'Fn::GetAtt': [logicalId(stack.events.bus.node.defaultChild), 'Arn'] },
        ]);
        for (const never of ['dynamodb:Scan', 'dynamodb:DeleteItem', 'states:StartExecution']) {
          expect(resourcesAllowed(statements, never)).toEqual([]);
        }
        expect(
          statements.flatMap(actionsOf).filter((a) => /^(route53|iam|cloudformation|sts):/.test(a)),
        ).toEqual([]);
      }
    });
  });

  it('tells the operators of an emergency shutdown and a restore (the bus rule to the topic)', () => {
    each((stack, template) => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventBusName: { Ref: logicalId(stack.events.bus.node.defaultChild) },
        EventPattern: {
          'detail-type': Match.arrayWith(['region.emergency_shutdown', 'region.restored']),
        },
        Targets: [Match.objectLike({ Arn: { Ref: logicalId(stack.events.topic.node.defaultChild) } })],
      });
    });
  });

  it('routes the emergency shutdown and the reports to the ops function, IAM-authorized', () => {
    each((stack, template) => {
      for (const routeKey of [
        'POST /v1/regions/{id}/emergency-shutdown',
        'DELETE /v1/regions/{id}/emergency-shutdown',
        'GET /v1/ops/reports',
        'POST /v1/ops/reports',
        'GET /v1/ops/reports/{id}',
        'GET /v1/ops/incidents',
      ]) {
        template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
          RouteKey: routeKey,
          AuthorizationType: 'AWS_IAM',
        });
      }
      expect(stack.handlers.ops).toBeDefined();
    });
  });
});
