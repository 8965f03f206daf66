/**
 * The Lambda environment schema (lib/runtime/env.ts): what each function needs follows from the ports
 * it is wired with, and a bad environment fails the cold start with one error that names every
 * variable at fault and why, instead of a 500 on the first request that reaches the missing port.
 */
import { describe, expect, it } from 'vitest';
import { FUNCTION_PORTS, type WiredFunction } from '../../lib/app/deps.ts';
import { AWS_DEPLOYMENT_FACTS } from '../../lib/core/compliance/facts.ts';
import {
  needsOf,
  parseFunctionEnvironment,
  parseNeeds,
  variablesOf,
  WITNESS_PROBE,
} from '../../lib/runtime/env.ts';
import { deploymentPort, type Region } from '../../lib/runtime/lambda.ts';

const REGION = { CORTEX_REGION_ID: 'eu-west-1', CORTEX_TABLE_NAME: 'cortex-state' };
const ENDPOINTS = JSON.stringify({
  'us-east-1': 'https://api.us-east-1.example.com',
  'eu-west-1': 'https://api.eu-west-1.example.com',
});
const CONTROL = {
  ...REGION,
  CORTEX_EVENT_BUS: 'cortex-events',
  CORTEX_FAILOVER_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:cortex-failover',
  CORTEX_REGION_ENDPOINTS: ENDPOINTS,
};

describe('what each function needs of the environment', () => {
  it('derives from its ports: a region, plus the bus, workflow, endpoints or bucket its ports use', () => {
    expect(needsOf('router')).toEqual(['region']);
    expect(needsOf('data')).toEqual(['region']);
    expect(needsOf('resources')).toEqual(['region', 'events']);
    expect(needsOf('latency-sampler')).toEqual(['region', 'events', 'endpoints']);
    expect(needsOf('failovers')).toEqual(['region', 'events', 'workflow', 'endpoints']);
    expect(needsOf('compliance-audit')).toEqual(['region', 'events', 'archive']);
    expect(needsOf(WITNESS_PROBE)).toEqual(['witness', 'endpoints']);
    for (const name of Object.keys(FUNCTION_PORTS) as WiredFunction[]) {
      const ports: readonly string[] = FUNCTION_PORTS[name];
      expect(needsOf(name).includes('events'), name).toBe(ports.includes('events'));
      expect(needsOf(name).includes('workflow'), name).toBe(ports.includes('workflow'));
      expect(needsOf(name).includes('endpoints'), name).toBe(ports.includes('probe'));
    }
  });

  it('splits the variables into required and optional ones', () => {
    expect(variablesOf('failovers')).toEqual({
      required: [
        'CORTEX_REGION_ID',
        'CORTEX_TABLE_NAME',
        'CORTEX_EVENT_BUS',
        'CORTEX_FAILOVER_STATE_MACHINE_ARN',
        'CORTEX_REGION_ENDPOINTS',
      ],
      optional: ['CORTEX_DEPLOYMENT_FACTS', 'CORTEX_ENDPOINT_PARAMETER'],
    });
    expect(variablesOf(WITNESS_PROBE)).toEqual({
      required: ['CORTEX_WITNESS_ID', 'CORTEX_TABLE_NAME', 'CORTEX_REGION_ENDPOINTS'],
      optional: ['CORTEX_ENDPOINT_PARAMETER'],
    });
  });
});

describe('parsing a function environment', () => {
  it('answers the typed values, JSON parsed, and ignores variables of no need', () => {
    const env = parseFunctionEnvironment('failovers', {
      ...CONTROL,
      CORTEX_ENDPOINT_PARAMETER: '/cortex/api-url/{region}',
      AWS_REGION: 'eu-west-1',
    });
    expect(env).toEqual({
      ...REGION,
      CORTEX_EVENT_BUS: 'cortex-events',
      CORTEX_FAILOVER_STATE_MACHINE_ARN: CONTROL.CORTEX_FAILOVER_STATE_MACHINE_ARN,
      CORTEX_REGION_ENDPOINTS: JSON.parse(ENDPOINTS),
      CORTEX_ENDPOINT_PARAMETER: '/cortex/api-url/{region}',
    });
    expect(Object.isFrozen(env)).toBe(true);
  });

  it('names every missing variable in one error, with the function', () => {
    expect(() => parseFunctionEnvironment('failovers', REGION)).toThrow(
      'invalid Lambda environment of failovers: CORTEX_EVENT_BUS is not set; CORTEX_FAILOVER_STATE_MACHINE_ARN is not set; CORTEX_REGION_ENDPOINTS is not set',
    );
    expect(() => parseFunctionEnvironment(WITNESS_PROBE, { CORTEX_TABLE_NAME: 'cortex-state' })).toThrow(
      'invalid Lambda environment of witness-probe: CORTEX_WITNESS_ID is not set; CORTEX_REGION_ENDPOINTS is not set',
    );
  });

  it('names each malformed variable with its value and what it is not', () => {
    const bad = {
      CORTEX_REGION_ID: 'Europe',
      CORTEX_TABLE_NAME: '',
      CORTEX_EVENT_BUS: 'bus with spaces',
      CORTEX_FAILOVER_STATE_MACHINE_ARN: 'arn:aws:lambda:eu-west-1:123456789012:function:x',
      CORTEX_REGION_ENDPOINTS: JSON.stringify({ 'eu-west-1': 'ftp://x' }),
      CORTEX_ENDPOINT_PARAMETER: '/cortex/api-url/us-east-1',
    };
    expect(() => parseFunctionEnvironment('health-probe', bad)).toThrow(
      [
        'invalid Lambda environment of health-probe: CORTEX_REGION_ID "Europe" is not a region id',
        'CORTEX_TABLE_NAME "" is not a table name',
        'CORTEX_EVENT_BUS "bus with spaces" is not a bus name',
        'CORTEX_FAILOVER_STATE_MACHINE_ARN "arn:aws:lambda:eu-west-1:123456789012:function:x" is not a state machine ARN',
        'CORTEX_REGION_ENDPOINTS is not a JSON object of URLs (eu-west-1 is not a URL)',
        'CORTEX_ENDPOINT_PARAMETER "/cortex/api-url/us-east-1" is not an SSM parameter name with {region}',
      ].join('; '),
    );
  });

  it('names JSON that does not parse, without echoing the document', () => {
    expect(() => parseNeeds(['endpoints'], { CORTEX_REGION_ENDPOINTS: '{"eu-west-1":' })).toThrow(
      /^invalid Lambda environment: CORTEX_REGION_ENDPOINTS is not a JSON object of URLs \(.+\)$/,
    );
    expect(() => parseNeeds(['region'], { ...REGION, CORTEX_DEPLOYMENT_FACTS: '{}' })).toThrow(
      /CORTEX_DEPLOYMENT_FACTS is not deployment facts \(invalid deployment facts: encryption_at_rest must be an object/,
    );
  });

  it('counts an optional variable set to the empty string as unset, never a required one', () => {
    expect(
      parseFunctionEnvironment('compliance-audit', {
        ...REGION,
        CORTEX_EVENT_BUS: 'cortex-events',
        CORTEX_AUDIT_BUCKET: '',
        CORTEX_DEPLOYMENT_FACTS: '',
      }),
    ).toEqual({ ...REGION, CORTEX_EVENT_BUS: 'cortex-events' });
    expect(() =>
      parseFunctionEnvironment('compliance-audit', {
        ...REGION,
        CORTEX_EVENT_BUS: '',
        CORTEX_AUDIT_BUCKET: 'A_B',
      }),
    ).toThrow('CORTEX_EVENT_BUS "" is not a bus name; CORTEX_AUDIT_BUCKET "A_B" is not a bucket name');
  });
});

describe('the Lambda root builds the deployment port from the parsed environment', () => {
  const deploymentOf = (env: Record<string, string>) =>
    deploymentPort({ env: parseFunctionEnvironment('router', env) } as unknown as Region);

  it('takes the deployment facts from CORTEX_DEPLOYMENT_FACTS, else the controls lib/infra builds', () => {
    expect(deploymentOf(REGION)).toEqual(AWS_DEPLOYMENT_FACTS);
    const local = { ...AWS_DEPLOYMENT_FACTS, source: 'aws-custom', access_logging: false };
    expect(deploymentOf({ ...REGION, CORTEX_DEPLOYMENT_FACTS: JSON.stringify(local) })).toEqual(local);
    expect(() => deploymentOf({ ...REGION, CORTEX_DEPLOYMENT_FACTS: '[]' })).toThrow(
      /^invalid Lambda environment of router: CORTEX_DEPLOYMENT_FACTS is not deployment facts/,
    );
  });
});
