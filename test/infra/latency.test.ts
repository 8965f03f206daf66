/**
 * Latency on AWS: the `latency` concern behind the API (GET /v1/latency) and the latency sampler on
 * its EventBridge Scheduler schedule (the topology's sampling interval, whole minutes), with what
 * each role must and must not be allowed.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HandlerFunction } from '../../lib/infra/handler-function.ts';
import { samplerExpression } from '../../lib/infra/regional-stack.ts';
import { type BuiltApp, buildCortexApp, logicalId, templateOf } from './build.ts';
import { actionsAllowed, resourcesAllowed, type Statement, statementsOfRole } from './iam.ts';

function tableArn(region: string): unknown {
  return {
    'Fn::Join': ['', [`arn:aws:dynamodb:${region}:`, { Ref: 'AWS::AccountId' }, ':table/cortex-state']],
  };
}

function roleStatements(template: Template, handler: HandlerFunction): Statement[] {
  return statementsOfRole(template, logicalId(handler.role.node.defaultChild));
}

function dynamoActions(statements: readonly Statement[]): string[] {
  return [...actionsAllowed(statements)].filter((a) => a.startsWith('dynamodb:')).sort();
}

describe('latency in every regional stack', () => {
  let built: BuiltApp;
  const templates = new Map<string, Template>();

  beforeAll(() => {
    built = buildCortexApp();
    for (const stack of built.regionalStacks) templates.set(stack.regionId, templateOf(stack));
  });

  it('GET /v1/latency is an IAM-authorized route to the latency function, which may only Query its replica', () => {
    for (const stack of built.regionalStacks) {
      const template = templates.get(stack.regionId) as Template;
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: 'GET /v1/latency',
        AuthorizationType: 'AWS_IAM',
      });
      const statements = roleStatements(template, stack.handlers.latency);
      expect(dynamoActions(statements)).toEqual(['dynamodb:Query']);
      expect(resourcesAllowed(statements, 'dynamodb:Query')).toContainEqual(tableArn(stack.regionId));
      expect(
        [...actionsAllowed(statements)].filter((a) => /^(events|states|route53|iam|sts):/.test(a)),
      ).toEqual([]);
    }
  });

  it('the sampler runs on its own schedule at the sampling interval; its role may invoke only the sampler', () => {
    for (const stack of built.regionalStacks) {
      const template = templates.get(stack.regionId) as Template;
      const fnArn = { 'Fn::GetAtt': [logicalId(stack.latencySampler.function.node.defaultChild), 'Arn'] };
      const schedule = Object.values(template.findResources('AWS::Scheduler::Schedule')).find(
        (s) => JSON.stringify(s.Properties.Target.Arn) === JSON.stringify(fnArn),
      );
      expect(schedule?.Properties).toMatchObject({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
      const roleId = schedule?.Properties.Target.RoleArn['Fn::GetAtt'][0] as string;
      expect(statementsOfRole(template, roleId)).toEqual([
        { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: fnArn },
      ]);
    }
  });

  it('the sampler reads and writes its own replica, publishes events, and has nothing of the failover path', () => {
    for (const stack of built.regionalStacks) {
      const template = templates.get(stack.regionId) as Template;
      const statements = roleStatements(template, stack.latencySampler);
      expect(dynamoActions(statements)).toEqual(['dynamodb:PutItem', 'dynamodb:Query']);
      expect(resourcesAllowed(statements, 'dynamodb:PutItem')).toEqual([tableArn(stack.regionId)]);
      const actions = [...actionsAllowed(statements)];
      expect(actions).toContain('events:PutEvents');
      expect(actions.filter((a) => /^(states|s3|route53|iam|sts|cloudformation):/.test(a))).toEqual([]);
      const fn =
        template.findResources('AWS::Lambda::Function')[
          logicalId(stack.latencySampler.function.node.defaultChild)
        ];
      expect(Object.keys(fn?.Properties.Environment.Variables)).toEqual(
        expect.arrayContaining([
          'CORTEX_REGION_ID',
          'CORTEX_TABLE_NAME',
          'CORTEX_EVENT_BUS',
          'CORTEX_REGION_ENDPOINTS',
        ]),
      );
    }
  });

  it('the schedule expression is whole minutes, at least one', () => {
    expect(samplerExpression(10)).toBe('rate(1 minute)');
    expect(samplerExpression(60)).toBe('rate(1 minute)');
    expect(samplerExpression(300)).toBe('rate(5 minutes)');
  });
});
