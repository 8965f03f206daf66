/**
 * The cost inventory is read from the synthesized templates, not kept by hand: every function,
 * schedule, table replica, key and log group the stacks declare is in it, with the properties the
 * bill depends on, and each function carries the job or concern it runs.
 */
import { describe, expect, it } from 'vitest';
import { costInventory, costWorkload } from '../../lib/infra/cost-inventory.ts';
import { buildCortexApp, templateOf } from './build.ts';

function setup() {
  const built = buildCortexApp();
  const stacks = [
    ...built.regionalStacks,
    ...built.witnessStacks,
    built.stateStack,
    ...built.replicationStacks,
  ];
  const inventory = costInventory(built, (stack) => templateOf(stack).toJSON());
  const resources = (type: string) =>
    stacks.flatMap((stack) =>
      Object.entries(templateOf(stack).findResources(type)).map(([id, r]) => ({ stack, id, r })),
    );
  return { built, inventory, resources };
}

describe('cost inventory of the default topology', () => {
  it('holds every function of every stack with its memory, architecture and tracing', () => {
    const { inventory, resources } = setup();
    const functions = resources('AWS::Lambda::Function');
    expect(inventory.functions).toHaveLength(functions.length);
    for (const { stack, id, r } of functions) {
      const item = inventory.functions.find((f) => f.stack === stack.stackName && f.logicalId === id);
      expect(item?.memoryMb, id).toBe(r.Properties.MemorySize ?? 128);
      expect(item?.architecture, id).toBe(r.Properties.Architectures?.[0] ?? 'x86_64');
      expect(item?.tracing, id).toBe(r.Properties.TracingConfig?.Mode === 'Active');
    }
  });

  it('names each function by its job: a probe in every region, a witness probe in the witness stack', () => {
    const { built, inventory } = setup();
    for (const stack of built.regionalStacks) {
      const names = inventory.functions.filter((f) => f.stack === stack.stackName).map((f) => f.name);
      expect(names).toEqual(expect.arrayContaining(['health-probe', 'router', 'health', 'failover']));
    }
    for (const stack of built.witnessStacks) {
      const fns = inventory.functions.filter((f) => f.stack === stack.stackName);
      expect(fns.map((f) => f.name)).toContain('witness-probe');
      expect(fns.every((f) => f.witness)).toBe(true);
    }
  });

  it('follows every enabled schedule to what it runs', () => {
    const { inventory, resources } = setup();
    const schedules = resources('AWS::Scheduler::Schedule').filter(
      ({ r }) => r.Properties.State !== 'DISABLED',
    );
    expect(inventory.schedules).toHaveLength(schedules.length);
    for (const schedule of inventory.schedules) {
      expect(
        schedule.targetFunction ?? schedule.targetStateMachine ?? schedule.targetQueue,
        schedule.logicalId,
      ).toBeDefined();
    }
    expect(inventory.schedules.some((s) => s.task === 'consistency_check')).toBe(true);
  });

  it('follows the minute driver’s schedules to their queue, its entries and the function the queue invokes', () => {
    const { built, inventory } = setup();
    for (const stack of [...built.regionalStacks, ...built.witnessStacks]) {
      const driver = stack.minuteDriver;
      const mine = inventory.schedules.filter((s) => s.stack === stack.stackName && s.targetQueue);
      expect(mine.map((s) => s.messages).sort()).toEqual(
        Object.values(driver.entries)
          .map((e) => e.length)
          .sort(),
      );
      const mappings = inventory.queueMappings.filter((m) => m.stack === stack.stackName);
      expect(mappings).toHaveLength(Object.keys(driver.queues).length);
      for (const schedule of mine) {
        const mapping = mappings.find((m) => m.queue === schedule.targetQueue);
        const fn = inventory.functions.find(
          (f) => f.stack === stack.stackName && f.logicalId === mapping?.targetFunction,
        );
        expect(['health-probe', 'replication-monitor', 'witness-probe']).toContain(fn?.name);
      }
    }
  });

  it('lists the metrics each region publishes from the code’s catalog, and the one dashboard', () => {
    const { built, inventory } = setup();
    for (const stack of built.regionalStacks) {
      const series = inventory.customMetrics.filter((m) => m.stack === stack.stackName).map((m) => m.series);
      // One of each figure per region (the worst link against its target among them); no series a
      // link (the dashboard reads each link's percentiles from the sampler's log lines).
      expect(series).toContain(`RegionAvailability{region=${stack.regionId}}`);
      expect(series).toContain(`LatencyOverTarget{region=${stack.regionId}}`);
      expect(series.filter((s) => s.startsWith('CrossRegionLatency'))).toEqual([]);
      expect(series).toHaveLength(7);
    }
    expect(inventory.dashboards).toBe(1);
  });

  it("routes the probed paths to the functions behind them, and finds the state table's replicas", () => {
    const { built, inventory } = setup();
    const workload = costWorkload(built.topology, { requestsPerMonth: 0 });
    for (const stack of built.regionalStacks) {
      for (const path of new Set([...workload.probeRequests, ...workload.probeEndpoints])) {
        const route = inventory.routes.find(
          (r) => r.stack === stack.stackName && r.routeKey === `GET ${path}`,
        );
        expect(route?.targetFunction, `${stack.stackName} GET ${path}`).toBeDefined();
      }
    }
    const state = inventory.tables.find((t) => t.tableName === inventory.stateTableName);
    expect(state?.replicaRegions.toSorted()).toEqual(
      built.topology.regions.map((r) => r.region_id).toSorted(),
    );
    expect(inventory.kmsKeys.length).toBeGreaterThan(0);
    expect(inventory.logGroups.length).toBeGreaterThan(inventory.functions.length - 1);
    expect(inventory.stateMachines.some((m) => m.taskFunctions.length > 0)).toBe(true);
  });
});
