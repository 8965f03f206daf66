/**
 * The DR runbooks on AWS: Standard state machines with the ASL as written, a role that invokes the DR
 * function only, composed into every regional stack with the DR task function, whose role holds
 * exactly what its actions use; each runbook's ARN where `cortex dr run` reads it.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { RUNBOOKS, runbookArnParameter, runbookDefinitionText } from '../../lib/app/dr/definition.ts';
import { DR_TASK_ACCESS, DR_TASK_TIMEOUT, DrWorkflows } from '../../lib/infra/dr-workflows.ts';
import { logicalId, useRegionalTemplates } from './build.ts';
import { actionsAllowed, actionsOn, arnIn, resourcesAllowed, roleStatements } from './iam.ts';

function build(prefix = 'cortex') {
  const stack = new Stack(new App(), 'Dr', { env: { account: '111111111111', region: 'eu-west-1' } });
  const fn = new lambda.Function(stack, 'DrFunction', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  });
  new DrWorkflows(stack, 'DrWorkflows', { namePrefix: prefix, taskFunction: fn });
  return { template: Template.fromStack(stack), stack };
}

describe('DrWorkflows', () => {
  const { template } = build();

  it.each([
    ['cortex-regional-dr', 'regional_failure'],
    ['cortex-network-partition', 'network_partition'],
  ] as const)(
    '%s is a Standard state machine with the runbook as written, logged and traced',
    (name, runbook) => {
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineName: name,
        StateMachineType: 'STANDARD',
        DefinitionString: runbookDefinitionText(runbook),
        DefinitionSubstitutions: {
          DrFunctionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DrFunction'), 'Arn'] },
        },
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
      });
    },
  );

  it('its role invokes the DR function and nothing else of Lambda', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } } })
          .Properties.PolicyDocument.Statement,
    );
    const invokes = statements.filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'));
    expect(invokes).toHaveLength(1);
    expect(invokes[0]?.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^DrFunction/), 'Arn'] });
    expect(statements.flatMap((s) => [s.Action].flat())).not.toContain('lambda:*');
  });

  it('refuses a name prefix a state machine name cannot hold', () => {
    expect(() => build('bad prefix!')).toThrow(/invalid name prefix/);
  });
});

const tableArn = (region: string) => arnIn('dynamodb', region, 'table/cortex-state');
const dynamo = (actions: readonly string[]) => actions.map((a) => `dynamodb:${a}`).sort();

describe('the DR runbooks in every regional stack', () => {
  const regional = useRegionalTemplates();
  const each = regional.each;

  it('each region deploys both runbooks around its own DR function, logged with execution data and traced', () => {
    each((stack, template) => {
      const fn = logicalId(stack.drTask.handler.function.node.defaultChild);
      for (const runbook of RUNBOOKS) {
        const machine = stack.drWorkflows.stateMachines[runbook];
        const group = logicalId(stack.drWorkflows.logGroups[runbook].node.defaultChild);
        template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
          StateMachineName:
            runbook === 'regional_failure' ? 'cortex-regional-dr' : 'cortex-network-partition',
          StateMachineType: 'STANDARD',
          DefinitionString: runbookDefinitionText(runbook),
          DefinitionSubstitutions: { DrFunctionArn: { 'Fn::GetAtt': [fn, 'Arn'] } },
          RoleArn: { 'Fn::GetAtt': [logicalId(stack.drWorkflows.role.node.defaultChild), 'Arn'] },
          TracingConfiguration: { Enabled: true },
          LoggingConfiguration: {
            Level: 'ALL',
            IncludeExecutionData: true,
            Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [group, 'Arn'] } } }],
          },
        });
        expect(machine.node.scope).toBe(stack.drWorkflows);
      }
      const resources = template.toJSON().Resources;
      const props = resources[fn].Properties;
      expect(props).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Timeout: DR_TASK_TIMEOUT.toSeconds(),
        TracingConfig: { Mode: 'Active' },
      });
      // The shared composition root (controlDeps) finds the failover workflow as the failover steps do.
      const failoverFn = logicalId(stack.failover.function.node.defaultChild);
      const env = props.Environment.Variables;
      expect(env).toMatchObject({ CORTEX_REGION_ID: stack.regionId, CORTEX_TABLE_NAME: 'cortex-state' });
      for (const name of ['CORTEX_EVENT_BUS', 'CORTEX_FAILOVER_STATE_MACHINE_ARN', 'CORTEX_REGION_ENDPOINTS'])
        expect(env[name], name).toEqual(resources[failoverFn].Properties.Environment.Variables[name]);
    });
  });

  it('the runbooks’ role invokes the DR function and nothing else: no nested execution, no events rule', () => {
    each((stack, template) => {
      const statements = roleStatements(template, stack.drWorkflows.role);
      const fn = logicalId(stack.drTask.handler.function.node.defaultChild);
      expect(resourcesAllowed(statements, 'lambda:InvokeFunction')).toEqual([{ 'Fn::GetAtt': [fn, 'Arn'] }]);
      const actions = [...actionsAllowed(statements)];
      expect(actions.filter((a) => /^(states|events|dynamodb|lambda):/.test(a))).toEqual([
        'lambda:InvokeFunction',
      ]);
      // Every Task of both definitions is the DR function: nothing else for the role to reach.
      for (const runbook of RUNBOOKS) {
        const resources = [...runbookDefinitionText(runbook).matchAll(/"Resource": "([^"]+)"/g)].map(
          (m) => m[1],
        );
        // biome-ignore lint/suspicious/noTemplateCurlyInString: `${DrFunctionArn}` is the ASL's definition substitution, matched literally.
        expect(new Set(resources), runbook).toEqual(new Set(['${DrFunctionArn}']));
      }
    });
  });

  // Invariant: the DR function holds exactly its actions' table access: its own replica's reads and
  // writes, the others' reads, and the consistency check's reconcile the replication API has too.
  it('the DR function reads and writes its own replica as its actions need, and the others only as the consistency check does', () => {
    each((stack, template) => {
      const statements = roleStatements(template, stack.drTask.handler.role);
      expect(actionsOn(statements, tableArn(stack.regionId))).toEqual(dynamo(DR_TASK_ACCESS.table));
      for (const peer of regional.built.topology.regions.map((r) => r.region_id)) {
        if (peer === stack.regionId) continue;
        expect(actionsOn(statements, tableArn(peer)), peer).toEqual(dynamo(DR_TASK_ACCESS.remoteTable));
      }
      const actions = actionsAllowed(statements);
      expect(actions.has('dynamodb:BatchWriteItem')).toBe(false);
      expect([...actions].filter((a) => /^(route53|iam|cloudformation):/.test(a))).toEqual([]);
    });
  });

  it('the DR function starts the failover workflow in any region (its coordinator’s), answers no approval, publishes on its bus', () => {
    each((stack, template) => {
      const statements = roleStatements(template, stack.drTask.handler.role);
      const regions = regional.built.topology.regions.map((r) => r.region_id);
      const starts = resourcesAllowed(statements, 'states:StartExecution');
      const describes = resourcesAllowed(statements, 'states:DescribeExecution');
      expect(starts).toHaveLength(regions.length);
      expect(describes).toHaveLength(regions.length);
      for (const region of regions) {
        expect(starts).toContainEqual(arnIn('states', region, 'stateMachine:cortex-failover'));
        expect(describes).toContainEqual(arnIn('states', region, 'execution:cortex-failover:*'));
      }
      const actions = actionsAllowed(statements);
      expect(actions.has('states:SendTaskSuccess')).toBe(false);
      expect(actions.has('states:StartSyncExecution')).toBe(false);
      expect(resourcesAllowed(statements, 'events:PutEvents')).toEqual([
        { 'Fn::GetAtt': [logicalId(stack.events.bus.node.defaultChild), 'Arn'] },
      ]);
    });
  });

  it('the DR function probes every region’s API on the policy’s paths, its own included (the target may be here)', () => {
    each((stack, template) => {
      const statements = roleStatements(template, stack.drTask.handler.role);
      const topology = regional.built.topology;
      const paths = topology.failover_policies.health_check.endpoints;
      const invokes = resourcesAllowed(statements, 'execute-api:Invoke');
      expect(invokes).toHaveLength(topology.regions.length * paths.length);
      for (const region of topology.regions)
        for (const path of paths)
          expect(invokes).toContainEqual(arnIn('execute-api', region.region_id, `*/*/GET${path}`));
    });
  });

  it('publishes each runbook’s ARN in its region’s SSM parameter and as a stack output', () => {
    each((stack, template) => {
      for (const runbook of RUNBOOKS) {
        const machine = logicalId(stack.drWorkflows.stateMachines[runbook].node.defaultChild);
        template.hasResourceProperties('AWS::SSM::Parameter', {
          Name: runbookArnParameter('cortex', runbook),
          Type: 'String',
          Value: { Ref: machine },
        });
        const outputs = Object.values(template.findOutputs('*'));
        expect(outputs.map((o) => o.Value)).toContainEqual({ Ref: machine });
      }
    });
  });
});
