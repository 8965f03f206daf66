/**
 * The failover's redirect_traffic step moves a pending task's reserved resources with it: reserved
 * in its new region before the handoff points there, released in the failed region after; a task
 * the new region has no room for stays pending where it was. Local runtime, real dynalite stores.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runFailoverAction } from '../../lib/app/failover/actions.ts';
import type { ReservedHandoff } from '../../lib/app/resources/accounting.ts';
import { readPools } from '../../lib/app/resources/pools.ts';
import { ConflictError } from '../../lib/core/errors.ts';
import { hourBucket } from '../../lib/core/resources/pool.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { type LocalRuntime, startLocalRuntime } from '../../lib/runtime/local.ts';
import { failover, handoff } from '../contract/state.contract.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { ManualScheduler } from '../support/manual-time.ts';

const US = 'us-east-1';
const EU = 'eu-west-1';
const FAILOVER_ID = 'failover-us-east-1-e0';

let runtime: LocalRuntime;
let dataDir: string;
let scheduler: ManualScheduler;

/** The default topology in a quiet hour (a third of the spec's usage snapshot). */
function quietTopology(edit: (json: ReturnType<typeof defaultTopologyJson>) => void = () => {}) {
  const json = defaultTopologyJson();
  for (const allocation of Object.values(json.global_resource_pool.regional_allocation) as {
    current_usage: Record<string, number>;
  }[]) {
    for (const key of Object.keys(allocation.current_usage)) {
      allocation.current_usage[key] = Math.floor((allocation.current_usage[key] ?? 0) / 3);
    }
  }
  edit(json);
  return validateTopology(json);
}

async function start(topology = quietTopology()) {
  dataDir = await mkdtemp(join(tmpdir(), 'cortex-redirect-'));
  scheduler = new ManualScheduler();
  runtime = await startLocalRuntime({
    topology,
    dataDir,
    fresh: true,
    inMemory: true,
    scheduler,
    replicationLagMs: 0,
  });
}

afterEach(async () => {
  await runtime.close();
  await rm(dataDir, { recursive: true, force: true });
});

const deps = () => runtime.region(EU).deps;

async function pools() {
  const resources = deps().resources;
  if (!resources) throw new Error('the local runtime wires the resource pool');
  return readPools(runtime.topology, resources, scheduler.now());
}

/** A pending task on us-east-1 holding 2 workers and 1000 tokens there, us-east-1 failed, a failover running. */
async function seed(): Promise<void> {
  const { state, resources } = deps();
  if (!resources) throw new Error('the local runtime wires the resource pool');
  const before = await pools();
  const reservation = {
    region: US,
    hour: hourBucket(scheduler.now()),
    workers: 2,
    tokens: 1000,
    compute_units: 0,
  };
  await resources.reserve(reservation, before.get(US) as NonNullable<ReturnType<typeof before.get>>);
  const task = { task_id: 'task-free', requirements: { workers: 2, estimated_tokens: 1000 } };
  await state.createHandoff({
    ...handoff({
      handoff_id: 'cross-region-task-free',
      task_id: 'task-free',
      source_region: US,
      target_region: US,
    }),
    task,
    reservation,
  } as ReservedHandoff);
  await state.putRegionStatus(
    {
      region_id: US,
      status: 'failed',
      role: 'primary',
      epoch: 1,
      updated_at: '2026-11-26T12:00:00Z',
      updated_by: FAILOVER_ID,
      reason: 'test',
    },
    undefined,
  );
  await state.createFailover(
    failover({ failover_id: FAILOVER_ID, failed_region: US, coordinator: EU, target_region: EU }),
  );
}

describe('redirect_traffic with the resource pool', () => {
  it('reserves the task in its new region and releases it in the failed one', async () => {
    await start();
    await seed();
    const before = await pools();
    const result = await runFailoverAction(deps(), { action: 'redirect_traffic', failover_id: FAILOVER_ID });
    expect(result).toMatchObject({ outcome: 'succeeded' });
    expect(result.detail).toMatch(/^1 pending handoff\(s\) re-routed/);

    const moved = (await deps().state.getHandoff('cross-region-task-free')) as ReservedHandoff;
    expect(moved).toMatchObject({ status: 'pending', redirected_from: US });
    expect(moved.target_region).not.toBe(US);
    expect(moved.reservation).toMatchObject({ region: moved.target_region, workers: 2, tokens: 1000 });

    const after = await pools();
    const to = moved.target_region;
    expect(after.get(US)?.usage.workers).toBe((before.get(US)?.usage.workers ?? 0) - 2);
    expect(after.get(US)?.usage.tokens_used).toBe((before.get(US)?.usage.tokens_used ?? 0) - 1000);
    expect(after.get(to)?.usage.workers).toBe((before.get(to)?.usage.workers ?? 0) + 2);
    expect(after.get(to)?.usage.tokens_used).toBe((before.get(to)?.usage.tokens_used ?? 0) + 1000);
  });

  it('keeps a task pending where it was when no region has room for it', async () => {
    await start();
    await seed();
    // Fill every other region's workers.
    const { resources } = deps();
    for (const [region, pool] of await pools()) {
      if (region === US) continue;
      await resources?.reportUsage(
        region,
        pool.hour,
        { ...pool.usage, workers: pool.allocation.workers - 1 },
        new Date(scheduler.now()).toISOString(),
      );
    }
    const before = await pools();
    const result = await runFailoverAction(deps(), { action: 'redirect_traffic', failover_id: FAILOVER_ID });
    expect(result.detail).toMatch(
      /0 pending handoff\(s\) re-routed .*kept pending: task-free \(.*eu-west-1: insufficient workers: needs 2, 1 free/,
    );
    expect(await deps().state.getHandoff('cross-region-task-free')).toMatchObject({ target_region: US });
    const after = await pools();
    for (const [region, pool] of after) expect(pool.usage, region).toEqual(before.get(region)?.usage);
  });

  it('keeps it pending, releasing nothing, when its new region fills up between the read and the reservation', async () => {
    await start();
    await seed();
    const base = deps();
    const resources = base.resources;
    if (!resources) throw new Error('the local runtime wires the resource pool');
    // Another router takes the last room at the moment this step reserves.
    const racing = {
      ...base,
      resources: new Proxy(resources, {
        get(target, property, receiver) {
          if (property === 'reserve') {
            return async () => {
              throw new ConflictError('CAPACITY_EXHAUSTED', 'the region filled up meanwhile');
            };
          }
          const value = Reflect.get(target, property, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }),
    };
    const before = await pools();
    const result = await runFailoverAction(racing, { action: 'redirect_traffic', failover_id: FAILOVER_ID });
    expect(result.detail).toMatch(
      /kept pending: task-free \(.*: no room to reserve its resources \(the region filled up meanwhile\)\)/,
    );
    const kept = (await base.state.getHandoff('cross-region-task-free')) as ReservedHandoff;
    expect(kept).toMatchObject({ target_region: US, status: 'pending' });
    expect(kept.reservation?.region).toBe(US);
    const after = await pools();
    for (const [region, pool] of after) expect(pool.usage, region).toEqual(before.get(region)?.usage);
  });
});
