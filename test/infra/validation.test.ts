import { Duration, Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import type { ApiRoute } from '../../lib/app/routes.ts';
import { TopologyError } from '../../lib/core/errors.ts';
import type { Region, Topology } from '../../lib/core/topology/types.ts';
import { buildApp } from '../../lib/infra/app.ts';
import { planDeployment } from '../../lib/infra/deployment-plan.ts';
import { FailoverWorkflow } from '../../lib/infra/failover-workflow.ts';
import { HandlerFunction } from '../../lib/infra/handler-function.ts';
import { ProbeSchedule } from '../../lib/infra/probe-schedule.ts';
import { RegionalApi } from '../../lib/infra/regional-api.ts';
import { StateTable } from '../../lib/infra/state-table.ts';
import { defaultTopology, newApp } from './build.ts';

const { topology } = defaultTopology();
const PROJECT_ROOT = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');

function withRegions(update: (regions: readonly Region[]) => Region[]): Topology {
  return { ...topology, regions: update(topology.regions) };
}

function issuesOf(fn: () => unknown): readonly { field: string; reason: string }[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof TopologyError) return error.details;
    throw error;
  }
  throw new Error('expected a TopologyError');
}

describe('deployment plan from the topology', () => {
  it('homes the state table in the primary-tier region and replicates to all others', () => {
    const plan = planDeployment(topology);
    const primary = topology.regions.find((r) => r.tier === 'primary')?.region_id;
    expect(plan.stateRegionId).toBe(primary);
    expect([...plan.replicaRegionIds, plan.stateRegionId].sort()).toEqual(
      topology.regions.map((r) => r.region_id).sort(),
    );
    expect(plan.tableName).toBe(`${topology.name}-state`);
    expect(plan.tableKeyAlias).toBe(`alias/${topology.name}-state`);
  });

  it('rejects a region id that is not an AWS region, naming the field', () => {
    const bad = withRegions(([first, ...rest]) => [
      { ...(first as Region), region_id: 'mars-north' },
      ...rest,
    ]);
    expect(issuesOf(() => planDeployment(bad))).toContainEqual({
      field: 'regions[0].region_id',
      reason: expect.stringContaining('must be an AWS region id'),
    });
  });

  it('rejects a region listed twice', () => {
    const bad = withRegions((regions) => [...regions, { ...(regions[1] as Region), tier: 'edge' }]);
    expect(issuesOf(() => planDeployment(bad))).toContainEqual({
      field: `regions[${topology.regions.length}].region_id`,
      reason: expect.stringContaining('duplicate region'),
    });
  });

  it('rejects a name that cannot prefix a table name and a KMS alias', () => {
    expect(issuesOf(() => planDeployment({ ...topology, name: 'cortex.prod' }))).toContainEqual({
      field: 'name',
      reason: expect.stringContaining('KMS alias'),
    });
  });

  it('fails buildApp with a clear message before creating any stack', () => {
    const { app } = newApp();
    const bad = withRegions(([first, ...rest]) => [{ ...(first as Region), region_id: 'US East' }, ...rest]);
    expect(() => buildApp(app, bad)).toThrow(/regions\[0\]\.region_id: must be an AWS region id/);
    expect(app.node.children).toHaveLength(0);
  });
});

describe('construct props', () => {
  function regionStack(region = 'us-east-1'): Stack {
    return new Stack(newApp().app, 'Test', { env: { region } });
  }
  const base = {
    concern: 'health' as const,
    entry: `${PROJECT_ROOT}/functions/health/index.ts`,
    projectRoot: PROJECT_ROOT,
    regionId: 'us-east-1',
    topology,
  };

  it('HandlerFunction rejects a timeout API Gateway would cut off', () => {
    expect(
      () => new HandlerFunction(regionStack(), 'Fn', { ...base, timeout: Duration.seconds(45) }),
    ).toThrow(/timeout must be 1\.\.29 s/);
  });

  it('HandlerFunction rejects a missing entry and a region other than its stack', () => {
    expect(
      () =>
        new HandlerFunction(regionStack(), 'Fn', {
          ...base,
          entry: `${PROJECT_ROOT}/functions/nope/index.ts`,
        }),
    ).toThrow(/entry must be an existing absolute path/);
    expect(() => new HandlerFunction(regionStack('eu-west-1'), 'Fn', base)).toThrow(
      /regionId us-east-1 must be the stack's region eu-west-1/,
    );
  });

  it('RegionalApi rejects a route whose concern has no handler, and duplicate routes', () => {
    const route: ApiRoute = { method: 'GET', path: '/health', concern: 'health', auth: 'none' };
    expect(
      () => new RegionalApi(regionStack(), 'Api', { apiName: 'x', routes: [route], handlers: {} }),
    ).toThrow(/GET \/health: no handler for concern health/);
    const stack = regionStack();
    const fn = new HandlerFunction(stack, 'Fn', base).function as lambda.IFunction;
    expect(
      () => new RegionalApi(stack, 'Api', { apiName: 'x', routes: [route, route], handlers: { health: fn } }),
    ).toThrow(/GET \/health: duplicate route/);
  });

  it('StateTable rejects a replica in its own region', () => {
    expect(
      () =>
        new StateTable(regionStack('us-east-1'), 'Table', {
          tableName: 'cortex-state',
          replicaRegions: ['us-east-1', 'eu-west-1'],
          tableKeyAlias: 'alias/cortex-state',
        }),
    ).toThrow(/must not contain the stack's own region us-east-1/);
  });

  it('HandlerFunction lets background jobs outlast API Gateway, up to Lambda’s 15 minutes', () => {
    const job = {
      ...base,
      concern: 'health-probe' as const,
      entry: `${PROJECT_ROOT}/functions/health/index.ts`,
    };
    expect(
      () => new HandlerFunction(regionStack(), 'Fn', { ...job, timeout: Duration.seconds(80) }),
    ).not.toThrow();
    expect(
      () => new HandlerFunction(regionStack(), 'Fn', { ...job, timeout: Duration.seconds(901) }),
    ).toThrow(/timeout must be 1\.\.900 s/);
  });

  it('HandlerFunction as a witness must run in that witness’s region', () => {
    const witness = topology.witnesses[0];
    if (!witness) throw new Error('the default topology has a witness');
    expect(
      () =>
        new HandlerFunction(regionStack(witness.region), 'Fn', {
          ...base,
          regionId: witness.region,
          witnessId: witness.witness_id,
        }),
    ).not.toThrow();
    expect(
      () =>
        new HandlerFunction(regionStack('eu-west-1'), 'Fn', {
          ...base,
          regionId: 'eu-west-1',
          witnessId: witness.witness_id,
        }),
    ).toThrow(new RegExp(`must be witness ${witness.witness_id}'s region ${witness.region}`));
    expect(() => new HandlerFunction(regionStack(), 'Fn', { ...base, witnessId: 'nobody' })).toThrow(
      /witnessId nobody is not a witness of the topology/,
    );
  });

  it('ProbeSchedule rejects what EventBridge Scheduler cannot run', () => {
    const stack = regionStack();
    const fn = new HandlerFunction(stack, 'Fn', base).function;
    expect(
      () => new ProbeSchedule(stack, 'Every10s', { target: fn, expression: 'rate(10 seconds)' }),
    ).toThrow(/must be rate\(\.\.\.\) or cron\(\.\.\.\)/);
  });

  it('FailoverWorkflow rejects a state machine name Step Functions would refuse', () => {
    const stack = regionStack();
    const fn = new HandlerFunction(stack, 'Fn', base).function;
    expect(
      () =>
        new FailoverWorkflow(stack, 'Wf', {
          stateMachineName: 'cortex failover',
          topology,
          taskFunction: fn,
        }),
    ).toThrow(/invalid state machine name/);
  });
});

describe('deployment plan: witnesses and names', () => {
  it('names the bus, the state machine and the API URL parameters after the topology', () => {
    expect(planDeployment(topology)).toMatchObject({
      eventBusName: `${topology.name}-events`,
      failoverStateMachineName: `${topology.name}-failover`,
      apiUrlParameterPrefix: `/${topology.name}/api-url/`,
      witnesses: topology.witnesses.map((w) => ({ witnessId: w.witness_id, regionId: w.region })),
    });
  });

  it('rejects a witness region that is not an AWS region', () => {
    const bad = { ...topology, witnesses: [{ witness_id: 'witness-moon', region: 'moon-1' }] };
    expect(issuesOf(() => planDeployment(bad))).toContainEqual({
      field: 'witnesses[0].region',
      reason: expect.stringContaining('must be an AWS region id'),
    });
  });
});
