/**
 * The failover path on AWS: the health probe on its schedule, the failover workflow and its task
 * function, the failovers API, the witness. Principle 1 is checked here as permissions: nothing on
 * the path may call Route 53's control plane, IAM or CloudFormation.
 */
import { readFileSync } from 'node:fs';
import { Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  applySubstitutions,
  FAILOVER_DEFINITION_PATH,
  failoverDefinitionText,
  failoverSubstitutions,
  loadFailoverDefinition,
} from '../../lib/app/failover/definition.ts';
import { failoverTimings } from '../../lib/app/failover/timings.ts';
import { failoverWorkflowBounds } from '../../lib/app/failover/workflow-bounds.ts';
import { PROBE_BUNDLE_PATH } from '../../lib/core/health/probe-bundle.ts';
import { HandlerFunction } from '../../lib/infra/handler-function.ts';
import type { RegionalStack } from '../../lib/infra/regional-stack.ts';
import type { WitnessStack } from '../../lib/infra/witness-stack.ts';
import { type BuiltApp, buildCortexApp, defaultTopology, logicalId, newApp, templateOf } from './build.ts';
import {
  actionsAllowed,
  allStatements,
  arnIn,
  resourcesAllowed,
  resourcesOf,
  roleStatements,
  type Statement,
} from './iam.ts';

function noGrants(stateMachineArn: string) {
  return {
    stateMachineArn,
    grantStartExecution: () => {
      throw new Error('no start expected');
    },
    grantTaskResponse: () => {
      throw new Error('no answer expected');
    },
  };
}

const PROJECT_ROOT = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');

function stateMachineArn(region: string): unknown {
  return arnIn('states', region, 'stateMachine:cortex-failover');
}

/** The failover state machine's executions (their names are failover ids, made at run time). */
function executionsArn(region: string): unknown {
  return arnIn('states', region, 'execution:cortex-failover:*');
}

/** The failover workflow's properties (a regional stack has other state machines too). */
function failoverStateMachine(template: Template) {
  const machines = Object.values(
    template.findResources('AWS::StepFunctions::StateMachine', {
      Properties: { StateMachineName: 'cortex-failover' },
    }),
  );
  expect(machines).toHaveLength(1);
  return machines[0]?.Properties;
}

function tableArn(region: string): unknown {
  return arnIn('dynamodb', region, 'table/cortex-state');
}

/** UpdateItem only on the replication marks' partition: the replication write counter, nothing else. */
function writeCounterStatement(region: string): Statement {
  return {
    Effect: 'Allow',
    Action: 'dynamodb:UpdateItem',
    Resource: tableArn(region),
    Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['REPLICATION'] } },
  };
}

/** A function's CloudFormation properties (untyped JSON, as `findResources` returns it). */
function functionProps(template: Template, handler: HandlerFunction) {
  return template.findResources('AWS::Lambda::Function')[logicalId(handler.function.node.defaultChild)]
    ?.Properties;
}

describe('the failover path', () => {
  let built: BuiltApp;
  const templates = new Map<string, Template>();

  beforeAll(() => {
    // With an imported zone: Route 53 records and health checks exist, and still no role may touch them.
    built = buildCortexApp({ dns: { domain: 'cortex.example.com', hostedZoneId: 'Z0123456789ABCDEFGHIJ' } });
    for (const stack of [...built.regionalStacks, ...built.witnessStacks]) {
      templates.set(stack.stackName, templateOf(stack));
    }
  });

  function eachRegion(fn: (stack: RegionalStack, template: Template) => void): void {
    expect(built.regionalStacks.length).toBeGreaterThan(1);
    for (const stack of built.regionalStacks) fn(stack, templates.get(stack.stackName) as Template);
  }

  function eachWitness(fn: (stack: WitnessStack, template: Template) => void): void {
    expect(built.witnessStacks.length).toBe(built.topology.witnesses.length);
    for (const stack of built.witnessStacks) fn(stack, templates.get(stack.stackName) as Template);
  }

  describe('principle 1: the data plane only', () => {
    it('no role in any stack may call Route 53, IAM or CloudFormation', () => {
      const stacks = built.app.node.children.filter(Stack.isStack);
      expect(stacks.length).toBe(
        built.regionalStacks.length + built.witnessStacks.length + built.replicationStacks.length + 1,
      );
      for (const stack of stacks) {
        for (const action of actionsAllowed(allStatements(templateOf(stack)))) {
          expect(action, `${stack.stackName} allows ${action}`).not.toMatch(
            /^(route53|iam|cloudformation|sts):/i,
          );
        }
      }
    });

    it('still has the Route 53 health checks and records that take a failed region out of DNS', () => {
      eachRegion((_stack, template) => {
        template.resourceCountIs('AWS::Route53::HealthCheck', 1);
        expect(Object.keys(template.findResources('AWS::Route53::RecordSet')).length).toBeGreaterThan(1);
      });
    });
  });

  describe('health probe', () => {
    it('runs a round per invocation from its queue of the minute’s rounds; its timeout is one round', () => {
      eachRegion((stack, template) => {
        template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
          FunctionName: { Ref: logicalId(stack.probe.function.node.defaultChild) },
          EventSourceArn: {
            'Fn::GetAtt': [logicalId(stack.minuteDriver.queues.HealthProbe?.node.defaultChild), 'Arn'],
          },
          BatchSize: 1,
        });
        const timeout = functionProps(template, stack.probe).Timeout as number;
        // The policy's 10 s probe timeout, the round's state I/O and a cold start: no waiting.
        expect(timeout).toBeGreaterThan(built.topology.failover_policies.health_check.timeout_seconds);
        expect(timeout).toBeLessThanOrEqual(20);
      });
    });

    it('may start only its own region’s failover state machine', () => {
      eachRegion((stack, template) => {
        const statements = roleStatements(template, stack.probe.role);
        expect(resourcesAllowed(statements, 'states:StartExecution')).toEqual([
          stateMachineArn(stack.regionId),
        ]);
        // A start whose name is taken asks whether that execution still runs.
        expect(resourcesAllowed(statements, 'states:DescribeExecution')).toEqual([
          executionsArn(stack.regionId),
        ]);
        const states = [...actionsAllowed(statements)].filter((a) => a.startsWith('states:')).sort();
        expect(states).toEqual(['states:DescribeExecution', 'states:StartExecution']);
      });
    });

    // Each round also settles the region's duplicate handoff claims (a claim is read back in
    // the replica it was written in: GetItem on the peers' replicas, nothing else there) and moves
    // orphaned handoffs (UpdateItem, DeleteItem on its own replica).
    it('writes its own replica only, reads items of the peers; publishes to its own bus only', () => {
      eachRegion((stack, template) => {
        const statements = roleStatements(template, stack.probe.role);
        const dynamo = [...actionsAllowed(statements)].filter((a) => a.startsWith('dynamodb:')).sort();
        expect(dynamo).toEqual([
          'dynamodb:BatchGetItem',
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
        ]);
        for (const action of ['dynamodb:PutItem', 'dynamodb:DeleteItem']) {
          expect(resourcesAllowed(statements, action), action).toEqual([tableArn(stack.regionId)]);
        }
        const peers = built.topology.regions.map((r) => r.region_id).filter((r) => r !== stack.regionId);
        for (const action of ['dynamodb:GetItem', 'dynamodb:BatchGetItem']) {
          expect(new Set(resourcesAllowed(statements, action)), action).toEqual(
            new Set([stack.regionId, ...peers].map((r) => tableArn(r))),
          );
        }
        expect(statements.filter((s) => s.Action === 'dynamodb:UpdateItem')).toEqual([
          writeCounterStatement(stack.regionId),
        ]);
        expect(resourcesAllowed(statements, 'events:PutEvents')).toEqual([
          { 'Fn::GetAtt': [logicalId(stack.events.bus.node.defaultChild), 'Arn'] },
        ]);
      });
    });

    it("may GET only the policy's endpoints and their bundle, only on the peer regions' APIs", () => {
      const paths = [PROBE_BUNDLE_PATH, ...built.topology.failover_policies.health_check.endpoints];
      eachRegion((stack, template) => {
        const peers = built.topology.regions.map((r) => r.region_id).filter((r) => r !== stack.regionId);
        const allowed = resourcesAllowed(roleStatements(template, stack.probe.role), 'execute-api:Invoke');
        expect(allowed).toHaveLength(peers.length * paths.length);
        for (const peer of peers) {
          for (const path of paths)
            expect(allowed).toContainEqual(arnIn('execute-api', peer, `*/*/GET${path}`));
        }
      });
    });

    it('knows its region, table, bus, state machine and every region’s API URL from the environment', () => {
      eachRegion((stack, template) => {
        const env = functionProps(template, stack.probe).Environment.Variables;
        expect(env).toEqual({
          CORTEX_REGION_ID: stack.regionId,
          CORTEX_TABLE_NAME: 'cortex-state',
          CORTEX_EVENT_BUS: { Ref: logicalId(stack.events.bus.node.defaultChild) },
          CORTEX_FAILOVER_STATE_MACHINE_ARN: stateMachineArn(stack.regionId),
          CORTEX_REGION_ENDPOINTS: JSON.stringify(
            Object.fromEntries(
              built.topology.regions.map((r) => [
                r.region_id,
                `https://${r.region_id}.api.cortex.example.com`,
              ]),
            ),
          ),
        });
      });
    });
  });

  describe('failover workflow', () => {
    it('is a Standard state machine named cortex-failover, logging ALL with execution data, traced', () => {
      eachRegion((stack, template) => {
        template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
          StateMachineName: 'cortex-failover',
          StateMachineType: 'STANDARD',
          TracingConfiguration: { Enabled: true },
          LoggingConfiguration: {
            Level: 'ALL',
            IncludeExecutionData: true,
            Destinations: [
              {
                CloudWatchLogsLogGroup: {
                  LogGroupArn: {
                    'Fn::GetAtt': [logicalId(stack.failoverWorkflow.logGroup.node.defaultChild), 'Arn'],
                  },
                },
              },
            ],
          },
        });
        template.hasResourceProperties('AWS::Logs::LogGroup', {
          LogGroupName: '/aws/vendedlogs/states/cortex-failover',
          RetentionInDays: 30,
        });
      });
    });

    it('deploys statemachines/failover.asl.json as text with the substitutions definition.ts computes', () => {
      const file = JSON.parse(readFileSync(FAILOVER_DEFINITION_PATH, 'utf8'));
      eachRegion((stack, template) => {
        const sm = failoverStateMachine(template);
        expect(sm.DefinitionString).toBe(failoverDefinitionText(built.topology));
        // The file as it is, plus the execution's TimeoutSeconds (a number: no substitution can hold it).
        const { TimeoutSeconds: _timeout, ...fromFile } = JSON.parse(sm.DefinitionString);
        expect(fromFile).toEqual(file);
        const fnArn = { 'Fn::GetAtt': [logicalId(stack.failover.function.node.defaultChild), 'Arn'] };
        const fake = `arn:aws:lambda:${stack.regionId}:123456789012:function:cortex-failover-steps`;
        const expected = failoverSubstitutions(built.topology, fake);
        expect(sm.DefinitionSubstitutions).toEqual(
          Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, v === fake ? fnArn : v])),
        );
        // Substituted as Step Functions will, the template's definition is the one the local runtime runs.
        const deployed = Object.fromEntries(
          Object.entries(sm.DefinitionSubstitutions).map(([k, v]) => [k, typeof v === 'string' ? v : fake]),
        ) as Record<string, string>;
        const asl = applySubstitutions(sm.DefinitionString, deployed);
        expect(JSON.parse(asl)).toEqual(JSON.parse(loadFailoverDefinition(built.topology, fake)));
      });
    });

    it("bounds every execution by TimeoutSeconds: twice the topology's failover budget plus the people's windows", () => {
      const timings = failoverTimings(built.topology);
      const phases = Object.values(timings.phase_timeout_seconds).reduce((a, b) => a + b, 0);
      const bounds = failoverWorkflowBounds(built.topology);
      expect(bounds.execution_timeout_seconds).toBe(
        2 * (phases + timings.closing_timeout_seconds) +
          timings.approval_timeout_seconds +
          bounds.operator_rounds * timings.operator_timeout_seconds,
      );
      eachRegion((_stack, template) => {
        const sm = failoverStateMachine(template);
        const definition = JSON.parse(sm.DefinitionString);
        expect(definition.TimeoutSeconds).toBe(bounds.execution_timeout_seconds);
        // Within a Standard workflow's one year, and past what it may wait for people.
        expect(definition.TimeoutSeconds).toBeLessThanOrEqual(365 * 24 * 3600);
        expect(definition.TimeoutSeconds).toBeGreaterThan(
          timings.approval_timeout_seconds + bounds.operator_rounds * timings.operator_timeout_seconds,
        );
        // The loop bounds reach the deployed definition as substitutions too.
        expect(sm.DefinitionSubstitutions).toMatchObject({
          DrainPollLimit: String(bounds.drain_polls),
          SyncPollLimit: String(bounds.sync_polls),
          PromotionPollLimit: String(bounds.promotion_polls),
          OperatorRoundLimit: String(bounds.operator_rounds),
        });
      });
    });

    it('its role may invoke only the failover function (no other Lambda, no states:*)', () => {
      eachRegion((stack, template) => {
        const statements = roleStatements(template, stack.failoverWorkflow.role);
        expect(resourcesAllowed(statements, 'lambda:InvokeFunction')).toEqual([
          { 'Fn::GetAtt': [logicalId(stack.failover.function.node.defaultChild), 'Arn'] },
        ]);
        const services = new Set([...actionsAllowed(statements)].map((a) => a.split(':')[0]));
        expect([...services].sort()).toEqual(['lambda', 'logs', 'xray']);
      });
    });

    it('is named by a deterministic ARN that equals the state machine it creates', () => {
      eachRegion((stack) => {
        expect(stack.resolve(stack.failoverWorkflow.stateMachineArn)).toEqual(
          stateMachineArn(stack.regionId),
        );
        expect(stack.failoverWorkflow.stateMachine.stateMachineName).toBeDefined();
      });
    });
  });

  describe('failover steps function', () => {
    it('updates records on its own replica and only reads the other regions’ replicas', () => {
      eachRegion((stack, template) => {
        const statements = roleStatements(template, stack.failover.role);
        const own = tableArn(stack.regionId);
        for (const action of [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:Query',
        ]) {
          expect(resourcesAllowed(statements, action), action).toContainEqual(own);
        }
        for (const peer of built.topology.regions
          .map((r) => r.region_id)
          .filter((r) => r !== stack.regionId)) {
          expect(resourcesAllowed(statements, 'dynamodb:GetItem')).toContainEqual(tableArn(peer));
          expect(resourcesAllowed(statements, 'dynamodb:Query')).toContainEqual(tableArn(peer));
          for (const write of ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']) {
            expect(resourcesAllowed(statements, write), `${write} on ${peer}`).not.toContainEqual(
              tableArn(peer),
            );
          }
        }
        expect(resourcesAllowed(statements, 'dynamodb:DeleteItem')).toEqual([]);
      });
    });

    it('publishes events but starts and answers no workflow', () => {
      eachRegion((stack, template) => {
        const actions = actionsAllowed(roleStatements(template, stack.failover.role));
        expect(actions.has('events:PutEvents')).toBe(true);
        expect([...actions].filter((a) => a.startsWith('states:'))).toEqual([]);
      });
    });

    it('has a timeout as long as the longest phase, within Lambda’s 15 minutes', () => {
      const longest = Math.max(
        ...built.topology.failover_policies.failover_sequence.map((s) => s.timeout_seconds),
      );
      eachRegion((stack, template) => {
        expect(functionProps(template, stack.failover).Timeout).toBe(Math.min(900, Math.max(60, longest)));
      });
    });
  });

  describe('failovers API', () => {
    it('starts and answers the cortex-failover state machines by exact ARN (the coordinator’s region), no heartbeat or stop', () => {
      const regions = built.topology.regions.map((r) => r.region_id);
      eachRegion((stack, template) => {
        const handler = stack.handlers.failovers;
        const statements = roleStatements(template, handler.role);
        const states = [...actionsAllowed(statements)].filter((a) => a.startsWith('states:')).sort();
        expect(states).toEqual([
          'states:DescribeExecution',
          'states:SendTaskFailure',
          'states:SendTaskSuccess',
          'states:StartExecution',
        ]);
        for (const action of states) {
          const allowed = resourcesAllowed(statements, action);
          expect(allowed).toHaveLength(regions.length);
          const arns =
            action === 'states:DescribeExecution' ? regions.map(executionsArn) : regions.map(stateMachineArn);
          expect(allowed).toEqual(expect.arrayContaining(arns));
        }
        const env = functionProps(template, handler).Environment.Variables;
        expect(env.CORTEX_FAILOVER_STATE_MACHINE_ARN).toEqual(stateMachineArn(stack.regionId));
        expect(env.CORTEX_EVENT_BUS).toEqual({ Ref: logicalId(stack.events.bus.node.defaultChild) });
        expect(typeof env.CORTEX_REGION_ENDPOINTS).toBe('string');
      });
    });

    it('creates failover records on its own replica, updates them in the coordinator’s, deletes nothing', () => {
      eachRegion((stack, template) => {
        const statements = roleStatements(template, stack.handlers.failovers.role);
        const dynamo = [...actionsAllowed(statements)].filter((a) => a.startsWith('dynamodb:')).sort();
        expect(dynamo).toEqual([
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
        ]);
        const regions = built.topology.regions.map((r) => r.region_id);
        expect(new Set(resourcesAllowed(statements, 'dynamodb:UpdateItem'))).toEqual(
          new Set(regions.map((r) => tableArn(r))),
        );
        expect(resourcesAllowed(statements, 'dynamodb:PutItem')).toEqual([tableArn(stack.regionId)]);
      });
    });

    it('useFailoverWorkflow grants exactly start and answer on the named state machine', () => {
      const stack = new Stack(newApp().app, 'Unit', { env: { region: 'eu-west-1' } });
      const fn = new HandlerFunction(stack, 'Fn', {
        concern: 'health',
        entry: `${PROJECT_ROOT}/functions/health/index.ts`,
        projectRoot: PROJECT_ROOT,
        regionId: 'eu-west-1',
        topology: defaultTopology().topology,
      });
      // The table every function's composition root reads (lib/runtime/env.ts); the synth requires it.
      fn.function.addEnvironment('CORTEX_TABLE_NAME', 'cortex-state');
      const arn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:cortex-failover';
      const granted: string[] = [];
      fn.useFailoverWorkflow(
        {
          stateMachineArn: arn,
          grantStartExecution: (_grantee, regions) => granted.push(`start ${regions ?? 'own'}`),
          grantTaskResponse: (_grantee, regions) => granted.push(`answer ${regions ?? 'own'}`),
        },
        ['start', 'answer'],
      );
      fn.useFailoverWorkflow({ ...noGrants(arn) }, []);
      expect(granted).toEqual(['start own', 'answer own']);
      const env = functionProps(templateOf(stack), fn).Environment.Variables;
      expect(env.CORTEX_FAILOVER_STATE_MACHINE_ARN).toBe(arn);
    });
  });

  describe('notifications', () => {
    it('a custom bus cortex-events forwards failover.*, fencing, failed regions, restarts and overdue privacy requests to SNS', () => {
      eachRegion((stack, template) => {
        template.hasResourceProperties('AWS::Events::EventBus', { Name: 'cortex-events' });
        template.hasResourceProperties('AWS::Events::Rule', {
          EventBusName: { Ref: logicalId(stack.events.bus.node.defaultChild) },
          EventPattern: {
            'detail-type': [
              { prefix: 'failover.' },
              'region.fenced',
              'region.declared_failed',
              'component.restart_requested',
              'region.saturated',
              'privacy.request_overdue',
              'region.emergency_shutdown',
              'region.restored',
            ],
          },
          Targets: [Match.objectLike({ Arn: { Ref: logicalId(stack.events.topic.node.defaultChild) } })],
        });
      });
    });

    it('the topic is encrypted with a rotating customer key, denies non-TLS publishing, and opens to no service but CloudWatch alarms (monitoring.test.ts)', () => {
      eachRegion((stack, template) => {
        const keyId = logicalId(stack.events.topicKey.node.defaultChild);
        template.hasResourceProperties('AWS::SNS::Topic', {
          KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
        });
        template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
        const policies = Object.values(template.findResources('AWS::KMS::Key')).concat(
          Object.values(template.findResources('AWS::SNS::TopicPolicy')),
        );
        expect(JSON.stringify(policies)).not.toContain('events.amazonaws.com');
        template.hasResourceProperties('AWS::SNS::TopicPolicy', {
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: 'Deny',
                Action: 'sns:Publish',
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              }),
            ]),
          },
        });
      });
    });

    // Invariant: only this account's rules on this region's bus may publish operator notifications
    // (a confused-deputy guard), and the role may do nothing else.
    it("EventBridge publishes through a role only this bus's rules may assume, with publish and the topic key's two actions", () => {
      eachRegion((stack, template) => {
        const roleId = logicalId(stack.events.notifyRole.node.defaultChild);
        template.hasResourceProperties('AWS::Events::Rule', {
          Targets: [Match.objectLike({ RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] } })],
        });
        const role = template.findResources('AWS::IAM::Role')[roleId];
        const trust = role?.Properties.AssumeRolePolicyDocument.Statement;
        expect(trust).toEqual([
          expect.objectContaining({
            Principal: { Service: 'events.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': expect.anything() },
              ArnLike: { 'aws:SourceArn': expect.anything() },
            },
          }),
        ]);
        expect(JSON.stringify(trust)).toContain(':rule/cortex-events/*');
        const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
          JSON.stringify(p.Properties.Roles).includes(roleId),
        );
        const actions = policies.flatMap((p) =>
          p.Properties.PolicyDocument.Statement.flatMap((s: { Action: string | string[] }) => s.Action),
        );
        expect(actions.sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey', 'sns:Publish']);
      });
    });
  });

  describe('witness (CortexWitness-<witness_id>)', () => {
    it('runs in its own region outside the topology, with the probe bundle’s witnessHandler', () => {
      eachWitness((stack, template) => {
        const witness = built.topology.witnesses.find((w) => w.witness_id === stack.witnessId);
        expect(stack.region).toBe(witness?.region);
        const props = functionProps(template, stack.probe);
        expect(props.Handler).toBe('index.witnessHandler');
        expect(props.Environment.Variables).toMatchObject({
          CORTEX_WITNESS_ID: stack.witnessId,
          CORTEX_TABLE_NAME: 'cortex-state',
        });
        expect(props.Environment.Variables.CORTEX_REGION_ID).toBeUndefined();
        template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(1 minute)' });
        template.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
        // No workflow at all: its probe rounds come from a queue.
        template.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
      });
    });

    it('writes its views into every region’s replica remotely, and may do nothing else with the state', () => {
      eachWitness((stack, template) => {
        const statements = roleStatements(template, stack.probe.role);
        for (const region of built.topology.regions.map((r) => r.region_id)) {
          for (const action of ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']) {
            expect(resourcesAllowed(statements, action)).toContainEqual(tableArn(region));
          }
        }
        const actions = [...actionsAllowed(statements)];
        expect(actions.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual([
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
        ]);
        const counters = statements.filter((s) => s.Action === 'dynamodb:UpdateItem');
        expect(counters).toHaveLength(1);
        expect(counters[0]).toMatchObject({ ...writeCounterStatement('any'), Resource: expect.any(Array) });
        expect(new Set(resourcesOf(counters[0] as Statement))).toEqual(
          new Set(built.topology.regions.map((r) => tableArn(r.region_id))),
        );
        expect(actions.filter((a) => /^(states|events):/.test(a))).toEqual([]);
      });
    });
  });
});
