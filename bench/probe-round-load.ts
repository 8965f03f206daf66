/**
 * The load one probe round puts on its region's replica: the state port's calls and the DynamoDB
 * requests and items they make, counted through a wrapper around the port and a middleware on the
 * client, for one region's round on the default topology against dynalite, all regions healthy,
 * with a history of ended failovers in the table (what every round used to list twice).
 *
 * `node bench/probe-round-load.ts` prints the figures alone; `npm run bench` prints them with the rest.
 */
import { DynamoResourcesAdapter } from '../lib/adapters/aws/dynamodb-resources.ts';
import { DynamoStateAdapter } from '../lib/adapters/aws/dynamodb-state.ts';
import type { ControlDeps } from '../lib/app/deps.ts';
import { runProbeRound } from '../lib/app/probe-round.ts';
import type { FailoverRecord } from '../lib/core/failover/types.ts';
import type { Assessment, ProbeObservation } from '../lib/core/health/types.ts';
import { holdRef } from '../lib/core/resources/pool.ts';
import type { Handoff } from '../lib/core/state/records.ts';
import { validateTopology } from '../lib/core/topology/validate.ts';
import type { StatePort } from '../lib/ports.ts';
import { readTopologyJson } from '../lib/topology/load.ts';
import { startTestTable } from '../test/support/dynalite.ts';

export interface RoundLoad {
  readonly ended_failovers: number;
  /** Holds the region made whose open handoffs its replica holds, settled (older than a minute). */
  readonly holds: number;
  /** StatePort calls in one round, by method. */
  readonly port_calls: Readonly<Record<string, number>>;
  readonly port_calls_total: number;
  /** DynamoDB requests in one round (every page of a Query counts), by command. */
  readonly requests: Readonly<Record<string, number>>;
  readonly requests_total: number;
  /** Items the requests returned (Query Items, GetItem Item, BatchGetItem Responses). */
  readonly items_read: number;
  /** Their size as JSON, in KiB (about what DynamoDB bills reads by). */
  readonly kib_read: number;
}

const START = Date.parse('2026-11-26T12:00:00Z');
const REGION = 'us-east-1';

function endedFailover(i: number): FailoverRecord {
  const at = new Date(START - (i + 1) * 3_600_000).toISOString();
  return {
    failover_id: `failover-eu-west-1-e${i}`,
    kind: 'failover',
    failed_region: i % 2 === 0 ? 'eu-west-1' : 'ap-south-1',
    trigger: 'automatic',
    reason: 'majority of observers report the region unhealthy',
    status: 'completed',
    coordinator: REGION,
    epoch: i,
    dry_run: false,
    initiated_at: at,
    workloads_migrated: 0,
    workloads_pending: 0,
    // A completed failover's record carries its steps (about 16, each with its detail).
    steps: Array.from({ length: 16 }, (_, n) => ({
      action: 'verify_failure' as const,
      phase: 'detection' as const,
      started_at: at,
      ended_at: at,
      outcome: 'succeeded' as const,
      detail: `step ${n} of the failover of the region, as the workflow recorded it`,
      attempt: 1,
    })),
    previous_statuses: [],
    abort_requested: false,
    updated_at: at,
  };
}

export async function measureProbeRoundLoad(endedFailovers = 50, holds = 0): Promise<RoundLoad> {
  const table = await startTestTable();
  try {
    const topology = validateTopology(readTopologyJson());
    const clock = { t: START, now: () => clock.t };
    const requests: Record<string, number> = {};
    let itemsRead = 0;
    let bytesRead = 0;
    let counting = false;
    table.client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (counting) {
          const name = String(context.commandName).replace(/Command$/, '');
          requests[name] = (requests[name] ?? 0) + 1;
          const output = result.output as {
            Items?: unknown[];
            Item?: unknown;
            Responses?: Record<string, unknown[]>;
          };
          const items = [
            ...(output.Items ?? []),
            ...(output.Item ? [output.Item] : []),
            ...Object.values(output.Responses ?? {}).flat(),
          ];
          itemsRead += items.length;
          bytesRead += items.reduce<number>((n, item) => n + JSON.stringify(item).length, 0);
        }
        return result;
      },
      { step: 'initialize', name: 'benchRequestCounter' },
    );
    const adapter = new DynamoStateAdapter({ client: table.doc, tableName: table.tableName });
    for (let i = 0; i < endedFailovers; i++) await adapter.createFailover(endedFailover(i));
    const resources = new DynamoResourcesAdapter({ client: table.doc, tableName: table.tableName, clock });
    await seedHolds(adapter, resources, holds, clock.now());
    const portCalls: Record<string, number> = {};
    const state = new Proxy(adapter, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (counting) portCalls[String(property)] = (portCalls[String(property)] ?? 0) + 1;
          return value.apply(target, args);
        };
      },
    }) as StatePort;
    const probe = {
      probe: async (observer: string, target: string, endpoint: string): Promise<ProbeObservation> => ({
        observer,
        target,
        endpoint,
        ok: true,
        status: 200,
        latency_ms: 20,
        at: clock.now(),
        ...(endpoint === '/coordination/status'
          ? { reported_status: 'healthy' as const, available_capacity: 0.6 }
          : {}),
      }),
    };
    const deps = (regionId: string): ControlDeps => ({
      regionId,
      topology,
      state,
      clock,
      probe,
      events: { publish: async () => {} },
      workflow: { startFailover: async () => {}, answerApproval: async () => {} },
      resources,
      replica: () => state,
    });
    // Warm-up rounds of every region, so views, heartbeats and statuses are as in a steady state.
    const previous = new Map<string, Assessment>();
    const round = async (regionId: string) => {
      const before = previous.get(regionId);
      const report = await runProbeRound(deps(regionId), before ? { previous: before } : {});
      previous.set(regionId, report.assessment);
    };
    const interval = topology.failover_policies.health_check.interval_seconds * 1000;
    for (let i = 0; i < 3; i++) {
      for (const region of topology.regions) await round(region.region_id);
      clock.t += interval;
    }
    counting = true;
    await round(REGION);
    counting = false;
    const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
    return {
      ended_failovers: endedFailovers,
      holds,
      port_calls: portCalls,
      port_calls_total: sum(portCalls),
      requests,
      requests_total: sum(requests),
      items_read: itemsRead,
      kib_read: Math.round(bytesRead / 102.4) / 10,
    };
  } finally {
    await table.close();
  }
}

export function formatRoundLoad(load: RoundLoad): string {
  const list = (counts: Readonly<Record<string, number>>) =>
    Object.entries(counts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, n]) => `${name} ${n}`)
      .join(', ');
  return (
    `probe round load, default topology, ${REGION}, ${load.ended_failovers} ended failovers, ${load.holds} settled holds: ` +
    `${load.port_calls_total} state port calls (${list(load.port_calls)}); ` +
    `${load.requests_total} DynamoDB requests (${list(load.requests)}), ${load.items_read} items (${load.kib_read} KiB) read`
  );
}

/**
 * `count` tasks this region routed to eu-west-1, each with its open handoff and the hold of its
 * reservation (what the holds reconciler reads back each round once they are a minute old).
 */
async function seedHolds(
  state: DynamoStateAdapter,
  resources: DynamoResourcesAdapter,
  count: number,
  now: number,
): Promise<void> {
  if (count === 0) return;
  const hour = new Date(now).toISOString().slice(0, 13);
  const target = 'eu-west-1';
  await resources.seedPool({
    region: target,
    allocation: { workers: 10 * count, tokens_per_hour: 1_000_000, compute_units: 10 * count },
    usage: { workers: 0, tokens_used: 0, compute_units: 0 },
    hour,
    allocation_version: 0,
  });
  for (let i = 0; i < count; i++) {
    const handoffId = `cross-region-bench-${i}`;
    const hold = holdRef(handoffId, target, REGION, now);
    const reservation = { region: target, hour, workers: 1, tokens: 0, compute_units: 1, hold };
    const pool = await resources.getPool(target, hour);
    if (!pool) throw new Error('no pool');
    await resources.reserve(reservation, pool);
    const at = new Date(now).toISOString();
    await state.createHandoff({
      handoff_id: handoffId,
      task_id: `bench-${i}`,
      source_region: REGION,
      target_region: target,
      routing_score: 80,
      status: 'pending',
      created_at: at,
      task: { task_id: `bench-${i}`, requirements: {} },
      request_hash: 'bench',
      decision: { candidates: [], excluded: [] },
      reservation,
    } as Handoff);
  }
}

if (import.meta.main) {
  for (const [failovers, holds] of [
    [0, 0],
    [50, 0],
    [50, 50],
  ] as const) {
    console.log(formatRoundLoad(await measureProbeRoundLoad(failovers, holds)));
  }
}
