/**
 * The environment the CDK writes is the one the Lambda root parses: for every function of every
 * synthesized stack, its variables, with CloudFormation's references resolved as they would be on
 * deployment, parse with the schema of the ports it is wired with (lib/runtime/env.ts). A function
 * the stacks forgot a variable for would fail every cold start: here it fails the test, and the
 * synth itself refuses one missing a required variable (an error annotation of HandlerFunction).
 */
import { fileURLToPath } from 'node:url';
import { type CfnElement, Stack } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONCERNS } from '../../lib/app/routes.ts';
import { BACKGROUND_JOBS, HandlerFunction } from '../../lib/infra/handler-function.ts';
import {
  type LambdaFunction,
  parseFunctionEnvironment,
  variablesOf,
  WITNESS_PROBE,
} from '../../lib/runtime/env.ts';
import { type BuiltApp, buildCortexApp, newApp, templateOf } from './build.ts';

type Json = Record<string, unknown>;

const ACCOUNT = '123456789012';

/**
 * The value CloudFormation gives `value` in `stack`: pseudo parameters, `Ref` and `Fn::GetAtt` of the
 * template's own resources, and `Fn::Join`. Anything else fails the test, naming it.
 */
function resolve(value: unknown, stack: Stack, resources: Readonly<Record<string, Json>>): string {
  if (typeof value === 'string') return value;
  const v = value as Json;
  if (Array.isArray(v['Fn::Join'])) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => resolve(part, stack, resources)).join(separator);
  }
  if (typeof v.Ref === 'string') {
    const pseudo: Record<string, string> = {
      'AWS::Region': stack.region,
      'AWS::AccountId': ACCOUNT,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
    };
    if (pseudo[v.Ref] !== undefined) return pseudo[v.Ref] as string;
    return physicalName(v.Ref, stack, resources);
  }
  if (Array.isArray(v['Fn::GetAtt'])) {
    const [id, attribute] = v['Fn::GetAtt'] as [string, string];
    const type = resources[id]?.Type;
    if (type === 'AWS::Events::EventBus' && attribute === 'Name') return physicalName(id, stack, resources);
    if (type === 'AWS::ApiGatewayV2::Api' && attribute === 'ApiEndpoint') {
      return `https://${physicalName(id, stack, resources)}.execute-api.${stack.region}.amazonaws.com`;
    }
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)} in ${stack.stackName}`);
}

/** What `Ref` answers for resource `id`: its given name, or a name CloudFormation would generate. */
function physicalName(id: string, stack: Stack, resources: Readonly<Record<string, Json>>): string {
  const resource = resources[id];
  if (!resource) throw new Error(`${stack.stackName} has no resource ${id}`);
  const properties = (resource.Properties ?? {}) as Json;
  switch (resource.Type) {
    case 'AWS::Events::EventBus':
      return String(properties.Name);
    case 'AWS::StepFunctions::StateMachine':
      return `arn:aws:states:${stack.region}:${ACCOUNT}:stateMachine:${String(properties.StateMachineName)}`;
    case 'AWS::ApiGatewayV2::Api':
      return 'a1b2c3d4e5';
    case 'AWS::S3::Bucket':
      return typeof properties.BucketName === 'string'
        ? properties.BucketName
        : `cortex-${id.toLowerCase().slice(0, 40)}`;
    default:
      throw new Error(`${stack.stackName}: no physical name for ${resource.Type} ${id}`);
  }
}

/** Every Lambda function of `stack` with the function it is wired as (HandlerFunction), by logical id. */
function wiredFunctions(stack: Stack): Map<string, LambdaFunction> {
  const wired = new Map<string, LambdaFunction>();
  for (const construct of stack.node.findAll()) {
    if (!(construct instanceof HandlerFunction)) continue;
    wired.set(stack.getLogicalId(construct.function.node.defaultChild as CfnElement), construct.wired);
  }
  return wired;
}

describe('every function gets the environment its ports need', () => {
  let built: BuiltApp;
  beforeAll(() => {
    built = buildCortexApp();
    // Synthesized here, under the hook's timeout: the stacks and their cdk-nag checks take a while.
    for (const stack of [...built.regionalStacks, ...built.witnessStacks]) templateOf(stack);
  });

  it('every Cortex function of every stack parses its environment with its schema', () => {
    const seen = new Set<LambdaFunction>();
    for (const stack of [...built.regionalStacks, ...built.witnessStacks]) {
      const resources = (templateOf(stack).toJSON().Resources ?? {}) as Record<string, Json>;
      const wired = wiredFunctions(stack);
      for (const [id, resource] of Object.entries(resources)) {
        if (resource.Type !== 'AWS::Lambda::Function') continue;
        const variables = ((resource.Properties as Json).Environment as Json | undefined)?.Variables as
          | Json
          | undefined;
        const cortex = Object.keys(variables ?? {}).filter((name) => name.startsWith('CORTEX_'));
        const name = wired.get(id);
        // CDK's own helper functions (log retention, custom resources) read no CORTEX_ variable.
        if (name === undefined) {
          expect(cortex, `${stack.stackName} ${id}`).toEqual([]);
          continue;
        }
        const env = Object.fromEntries(
          Object.entries(variables ?? {}).map(([key, value]) => [key, resolve(value, stack, resources)]),
        );
        expect(() => parseFunctionEnvironment(name, env), `${stack.stackName} ${name}`).not.toThrow();
        // Nothing set that the function never reads: a variable of no need is a wiring mistake too.
        const { required, optional } = variablesOf(name);
        expect(
          cortex.filter((v) => !required.includes(v) && !optional.includes(v)),
          `${stack.stackName} ${name}`,
        ).toEqual([]);
        seen.add(name);
      }
    }
    // Every HTTP concern, every background job and the witness probe was checked.
    const expected: LambdaFunction[] = [...CONCERNS, ...BACKGROUND_JOBS, WITNESS_PROBE];
    expect(expected.filter((name) => !seen.has(name))).toEqual([]);
  });

  it('the synth refuses a function missing a variable its ports need, naming it', () => {
    const { app } = newApp();
    const stack = new Stack(app, 'Forgetful', { env: { region: 'eu-west-1', account: ACCOUNT } });
    const handler = new HandlerFunction(stack, 'Resources', {
      concern: 'resources',
      entry: fileURLToPath(new URL('../../functions/resources/index.ts', import.meta.url)),
      projectRoot: fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, ''),
      regionId: 'eu-west-1',
      topology: built.topology,
    });
    handler.function.addEnvironment('CORTEX_TABLE_NAME', 'cortex-state');
    expect(() => app.synth()).toThrow(
      'resources needs CORTEX_EVENT_BUS (lib/runtime/env.ts) and its environment does not set them',
    );
  });
});
