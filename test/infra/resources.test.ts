/**
 * The resource pool on AWS: the resources API and the rebalancer with exactly the table actions they
 * use on their own replica, the rebalancer on its schedule, and the router's reservation write
 * limited to the pools' partition.
 */
import { describe, expect, it } from 'vitest';
import { keys } from '../../lib/adapters/aws/state-keys.ts';
import { CONCERN_ACCESS, JOB_TABLE_ACCESS } from '../../lib/infra/regional-stack.ts';
import { logicalId, useRegionalTemplates } from './build.ts';
import { actionsOf, actionsOn, arnIn, resourcesAllowed, roleStatements } from './iam.ts';

const tableArn = (region: string) => arnIn('dynamodb', region, 'table/cortex-state');
const dynamo = (actions: readonly string[]) => actions.map((a) => `dynamodb:${a}`).sort();

describe('resource pool functions', () => {
  const regional = useRegionalTemplates();
  const each = regional.each;

  it('runs the rebalancer every interval_seconds (300 s: every 5 minutes) from EventBridge Scheduler', () => {
    each((stack, template) => {
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'rate(5 minutes)',
        Target: { Arn: { 'Fn::GetAtt': [logicalId(stack.rebalancer.function.node.defaultChild), 'Arn'] } },
      });
      expect(roleStatements(template, stack.rebalancerSchedule.role)).toEqual([
        {
          Effect: 'Allow',
          Action: 'lambda:InvokeFunction',
          Resource: { 'Fn::GetAtt': [logicalId(stack.rebalancer.function.node.defaultChild), 'Arn'] },
        },
      ]);
    });
  });

  it('gives the rebalancer and the resources API their own replica only, with the bus for their events', () => {
    each((stack, template) => {
      for (const [role, expected] of [
        [stack.rebalancer.role, JOB_TABLE_ACCESS.rebalancer],
        [stack.handlers.resources.role, CONCERN_ACCESS.resources.table ?? []],
      ] as const) {
        const statements = roleStatements(template, role);
        expect(actionsOn(statements, tableArn(stack.regionId))).toEqual(dynamo(expected));
        for (const peer of regional.built.topology.regions
          .map((r) => r.region_id)
          .filter((r) => r !== stack.regionId)) {
          expect(actionsOn(statements, tableArn(peer))).toEqual([]);
        }
        expect(resourcesAllowed(statements, 'events:PutEvents')).toEqual([
          { 'Fn::GetAtt': [logicalId(stack.events.bus.node.defaultChild), 'Arn'] },
        ]);
        expect(resourcesAllowed(statements, 'dynamodb:Scan')).toEqual([]);
        expect(
          statements.flatMap(actionsOf).filter((a) => /^(route53|iam|cloudformation|sts):/.test(a)),
        ).toEqual([]);
      }
    });
  });

  it('lets the router release its own region’s holds (UpdateItem on that partition of its replica only)', () => {
    each((stack, template) => {
      const statements = roleStatements(template, stack.handlers.router.role);
      expect(
        statements.filter(
          (s) => s.Effect === 'Allow' && JSON.stringify(s.Condition ?? {}).includes('HOLDS#'),
        ),
      ).toEqual([
        {
          Effect: 'Allow',
          Action: 'dynamodb:UpdateItem',
          Resource: tableArn(stack.regionId),
          Condition: {
            'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [keys.holdPartition(stack.regionId)] },
          },
        },
      ]);
    });
  });

  it('lets the router reserve on the pools partition of its own replica and nowhere else', () => {
    each((stack, template) => {
      const statements = roleStatements(template, stack.handlers.router.role);
      expect(
        statements.filter(
          (s) => s.Effect === 'Allow' && JSON.stringify(s.Condition ?? {}).includes(keys.regionPool('x').pk),
        ),
      ).toEqual([
        {
          Effect: 'Allow',
          Action: 'dynamodb:UpdateItem',
          Resource: tableArn(stack.regionId),
          Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['RESOURCES'] } },
        },
      ]);
    });
  });
});
