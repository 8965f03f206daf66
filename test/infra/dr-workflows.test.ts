/** The DR runbooks' state machines: Standard, the ASL as written, a role that invokes the DR function only. */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { runbookDefinitionText } from '../../lib/app/dr/definition.ts';
import { DrWorkflows } from '../../lib/infra/dr-workflows.ts';

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
