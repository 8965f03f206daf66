/**
 * A deploy that works on a fresh account and again after a destroy: the stacks carry their order as
 * dependencies in the cloud assembly (keys before tables, tables before witnesses), a first deploy
 * can create every schedule disabled, and a new generation shares no physical name with anything
 * an earlier deployment retained.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { placeReplication } from '../../lib/core/replication/placement.ts';
import { buildApp } from '../../lib/infra/app.ts';
import { withGeneration } from '../../lib/infra/deploy-options.ts';
import { bootstrapRegions, deployWaves, plannedStacks } from '../../lib/infra/deploy-order.ts';
import { planDeployment } from '../../lib/infra/deployment-plan.ts';
import { type BuiltApp, buildCortexApp, defaultTopology, newApp, templateOf } from './build.ts';

type Resource = { Type: string; DeletionPolicy?: string; Properties?: Record<string, unknown> };

/** Properties that give a resource its physical name. */
const NAME_PROPERTIES = [
  'TableName',
  'LogGroupName',
  'AliasName',
  'BucketName',
  'Name',
  'StateMachineName',
  'TopicName',
];

function resourcesOf(built: { regionalStacks: readonly unknown[] } & BuiltApp): Resource[] {
  const stacks = [
    built.stateStack,
    ...built.regionalStacks,
    ...built.replicationStacks,
    ...built.witnessStacks,
  ];
  return stacks.flatMap((stack) =>
    Object.values(templateOf(stack).toJSON().Resources as Record<string, Resource>),
  );
}

/**
 * `Type name` of every retained resource with a physical name; a name built from the stack's own id
 * (`Fn::Select` over `AWS::StackId`) is new with every stack, so it shows as `<per stack>`.
 */
function retainedNames(built: BuiltApp): string[] {
  return resourcesOf(built)
    .filter((r) => r.DeletionPolicy === 'Retain')
    .flatMap((r) =>
      NAME_PROPERTIES.filter((p) => r.Properties?.[p] !== undefined).map((p) => {
        const name = r.Properties?.[p];
        if (typeof name === 'string') return `${r.Type} ${name}`;
        return JSON.stringify(name).includes('AWS::StackId')
          ? `${r.Type} <per stack>`
          : `${r.Type} ${JSON.stringify(name)}`;
      }),
    );
}

let shipped: BuiltApp;
let drill: BuiltApp;

beforeAll(() => {
  shipped = buildCortexApp();
  // One more synth for both switches: what a redeploy drill's first pass deploys.
  const { app, outdir } = newApp();
  const { topology } = defaultTopology();
  drill = { app, outdir, topology, ...buildApp(app, topology, { schedules: 'disabled', generation: 'g2' }) };
});

describe('deploy order', () => {
  it('is in the cloud assembly: keys before tables, tables before witnesses', () => {
    const assembly = shipped.app.synth();
    const dependencies = (id: string) =>
      assembly
        .getStackByName(id)
        .dependencies.map((d) => d.id)
        .filter((d) => !d.endsWith('.assets'))
        .sort();
    const regions = shipped.topology.regions.map((r) => `CortexRegion-${r.region_id}`).sort();
    expect(dependencies('CortexState')).toEqual(regions);
    for (const stack of shipped.replicationStacks) {
      const deps = dependencies(stack.stackName);
      expect(deps.length).toBeGreaterThan(0);
      expect(deps).toContain(`CortexRegion-${stack.region}`);
      for (const d of deps) expect(d).toMatch(/^CortexRegion-/);
    }
    const tables = ['CortexState', ...shipped.replicationStacks.map((s) => s.stackName)].sort();
    expect(shipped.witnessStacks.length).toBeGreaterThan(0);
    for (const witness of shipped.witnessStacks) expect(dependencies(witness.stackName)).toEqual(tables);
    // A regional stack waits for nothing: the tables wait for its key (a dependency back would be a cycle).
    for (const regional of regions) expect(dependencies(regional)).toEqual([]);
  });

  it('is the plan cortex deploy-plan prints, in three waves, with every region bootstrapped', () => {
    const plan = planDeployment(shipped.topology);
    const planned = plannedStacks(plan, shipped.placement);
    const assembly = shipped.app.synth();
    for (const stack of planned) {
      const deps = assembly
        .getStackByName(stack.id)
        .dependencies.map((d) => d.id)
        .filter((d) => !d.endsWith('.assets'));
      expect(deps.sort(), stack.id).toEqual(stack.dependsOn.map((d) => d.id).sort());
      expect(assembly.getStackByName(stack.id).environment.region, stack.id).toBe(stack.region);
    }
    expect(deployWaves(planned)).toEqual([
      ['CortexRegion-us-east-1', 'CortexRegion-eu-west-1', 'CortexRegion-ap-south-1'],
      ['CortexState', 'CortexState-eu-west-1', 'CortexState-ap-south-1'],
      ['CortexWitness-witness-us-west-2'],
    ]);
    expect(bootstrapRegions(plan)).toEqual(['us-east-1', 'eu-west-1', 'ap-south-1', 'us-west-2']);
  });

  it('plans the same order for a topology without replication stacks', () => {
    const { topology } = defaultTopology();
    const plan = planDeployment(topology);
    const none = { ...placeReplication(topology, { homeRegion: plan.stateRegionId }), tables: [] };
    expect(deployWaves(plannedStacks(plan, none))).toEqual([
      ['CortexRegion-us-east-1', 'CortexRegion-eu-west-1', 'CortexRegion-ap-south-1'],
      ['CortexState'],
      ['CortexWitness-witness-us-west-2'],
    ]);
  });
});

describe('schedules on a first deploy', () => {
  it('are enabled by default and all disabled with schedules=disabled, regional and witness alike', () => {
    const states = (built: BuiltApp) =>
      [...built.regionalStacks, ...built.witnessStacks].flatMap((stack) =>
        Object.values(templateOf(stack).findResources('AWS::Scheduler::Schedule')).map(
          (r) => (r as Resource).Properties?.State,
        ),
      );
    const enabled = states(shipped);
    expect(enabled.length).toBeGreaterThanOrEqual(shipped.regionalStacks.length * 6 + 1);
    expect(new Set(enabled)).toEqual(new Set(['ENABLED']));
    const disabled = states(drill);
    expect(disabled.length).toBe(enabled.length);
    expect(new Set(disabled)).toEqual(new Set(['DISABLED']));
    expect(drill.notices.some((n) => /^Schedules disabled/.test(n))).toBe(true);
  });
});

describe('destroy and redeploy', () => {
  it("retains only resources named after the topology's name (a generation renames them) or new with each stack", () => {
    const names = retainedNames(shipped);
    expect(names).toContain('AWS::DynamoDB::GlobalTable cortex-state');
    expect(
      names.some(
        (n) =>
          /^AWS::Logs::LogGroup \/aws\/vendedlogs\/states\/cortex-failover/.test(n) ||
          n === 'AWS::Logs::LogGroup <per stack>',
      ),
    ).toBe(true);
    for (const name of names) expect(name).toMatch(/ ((\/aws\/vendedlogs\/states\/)?cortex-|<per stack>$)/);
  });

  it('a new generation shares no retained name with the last one, and its functions follow it', () => {
    const before = new Set(retainedNames(shipped));
    const after = retainedNames(drill);
    expect(after.length).toBe(retainedNames(shipped).length);
    for (const name of after.filter((n) => !n.endsWith('<per stack>')))
      expect(before.has(name), name).toBe(false);
    expect(after).toContain('AWS::DynamoDB::GlobalTable cortex-g2-state');

    for (const stack of drill.regionalStacks) {
      const template = templateOf(stack);
      template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/cortex-g2-state' });
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineName: 'cortex-g2-failover',
      });
      const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Resource[];
      expect(functions.length).toBeGreaterThan(0);
      for (const fn of functions) {
        const env = (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
          ?.Variables;
        expect(env?.CORTEX_TABLE_NAME).toBe('cortex-g2-state');
      }
    }
    Template.fromStack(drill.stateStack).hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'cortex-g2-state',
    });
  });

  it('refuses a generation that cannot be part of a physical name', () => {
    const { topology } = defaultTopology();
    expect(() => withGeneration(topology, 'G 2')).toThrow(
      /context generation: must be 1-8 lower-case letters or digits/,
    );
    expect(withGeneration(topology, undefined)).toBe(topology);
  });
});
