/**
 * Routing throughput with live resource accounting against the foundation's router:
 * the same warm handler through the middy chain against dynalite, once without a resource pool (the
 * topology's static usage) and once with it (pool read, one conditional ADD reservation per task).
 * Each task is completed right after it is routed so the pool never fills; only the route is timed,
 * the settlement (conditional update of the handoff, release ADD) is reported on its own.
 */
import { createResourcesHandler } from '../functions/resources/handler.ts';
import { createRouterHandler } from '../functions/router/handler.ts';
import { DynamoResourcesAdapter } from '../lib/adapters/aws/dynamodb-resources.ts';
import { DynamoStateAdapter } from '../lib/adapters/aws/dynamodb-state.ts';
import type { RegionalDeps } from '../lib/app/deps.ts';
import { validateTopology } from '../lib/core/topology/validate.ts';
import { readTopologyJson } from '../lib/topology/load.ts';
import { startTestTable } from '../test/support/dynalite.ts';
import { httpEvent, lambdaContext } from '../test/support/events.ts';

export interface AccountingFigures {
  readonly routes: number;
  readonly baseline_per_second: number;
  readonly accounted_per_second: number;
  /** accounted / baseline throughput. */
  readonly ratio: number;
  readonly baseline_p50_ms: number;
  readonly accounted_p50_ms: number;
  readonly settle_p50_ms: number;
}

const median = (samples: number[]) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? 0;

async function run(withPool: boolean, routes: number) {
  const table = await startTestTable();
  try {
    const deps: RegionalDeps = {
      regionId: 'us-east-1',
      topology: validateTopology(readTopologyJson()),
      state: new DynamoStateAdapter({ client: table.doc, tableName: table.tableName }),
      clock: { now: () => Date.now() },
      ...(withPool
        ? { resources: new DynamoResourcesAdapter({ client: table.doc, tableName: table.tableName }) }
        : {}),
    };
    const router = createRouterHandler(deps);
    const resources = createResourcesHandler(deps);
    const route = async (i: number) => {
      const result = await router(
        httpEvent({
          method: 'POST',
          path: '/v1/route',
          body: {
            task_id: `bench-${i}`,
            requirements: { latency_sensitive: i % 2 === 0, estimated_tokens: 100 },
          },
        }),
        lambdaContext,
      );
      if (result.statusCode !== 200) throw new Error(`router answered ${result.statusCode}: ${result.body}`);
    };
    const settle = async (i: number) => {
      const handoffId = `cross-region-bench-${i}`;
      const result = await resources(
        {
          ...httpEvent({ method: 'POST', path: `/v1/handoffs/${handoffId}/complete`, body: {} }),
          routeKey: 'POST /v1/handoffs/{handoff_id}/complete',
          pathParameters: { handoff_id: handoffId },
        },
        lambdaContext,
      );
      if (result.statusCode !== 200)
        throw new Error(`complete answered ${result.statusCode}: ${result.body}`);
    };
    for (let i = 0; i < 100; i++) {
      await route(i);
      if (withPool) await settle(i);
    }
    const routeMs: number[] = [];
    const settleMs: number[] = [];
    let routing = 0;
    for (let i = 100; i < 100 + routes; i++) {
      const t0 = performance.now();
      await route(i);
      const t1 = performance.now();
      routing += t1 - t0;
      routeMs.push(t1 - t0);
      if (withPool) {
        await settle(i);
        settleMs.push(performance.now() - t1);
      }
    }
    return { perSecond: (routes / routing) * 1000, p50: median(routeMs), settleP50: median(settleMs) };
  } finally {
    await table.close();
  }
}

export async function measureAccounting(routes = 600): Promise<AccountingFigures> {
  const baseline = await run(false, routes);
  const accounted = await run(true, routes);
  return {
    routes,
    baseline_per_second: baseline.perSecond,
    accounted_per_second: accounted.perSecond,
    ratio: accounted.perSecond / baseline.perSecond,
    baseline_p50_ms: baseline.p50,
    accounted_p50_ms: accounted.p50,
    settle_p50_ms: accounted.settleP50,
  };
}
