/**
 * `npm run bench`: prints the foundation's figures. Times are medians and percentiles over many
 * runs on this machine; compare ratios, not absolute numbers, across machines.
 *
 * 1. Routing decisions in process (default topology and a synthetic 35-region one).
 * 2. The router handler, warm, through the middy chain against dynalite.
 * 3. The router bundle's size and import time beside bare middy + the DynamoDB client (bench/import-time.ts).
 */
import { createRouterHandler } from '../functions/router/handler.ts';
import { DynamoStateAdapter } from '../lib/adapters/aws/dynamodb-state.ts';
import { liveStates, readStatuses } from '../lib/app/live-state.ts';
import { decideRoute, type RouteInput } from '../lib/core/routing.ts';
import type { Topology } from '../lib/core/topology/types.ts';
import { validateTopology } from '../lib/core/topology/validate.ts';
import { readTopologyJson } from '../lib/topology/load.ts';
import { syntheticTopologyJson } from '../test/fixtures/topologies.ts';
import { startTestTable } from '../test/support/dynalite.ts';
import { httpEvent, lambdaContext } from '../test/support/events.ts';
import { measureRegionsRead } from './availability.ts';
import { measureFailover } from './failover.ts';
import { formatImportTime, measureImportTimes } from './import-time.ts';
import { measureSamplerCost } from './latency.ts';
import { formatRoundLoad, measureProbeRoundLoad } from './probe-round-load.ts';
import { measureConsistencyChecks, measureLagError } from './replication.ts';
import { measureAccounting } from './resources.ts';
import { formatSimulation, measureSimulation } from './simulation.ts';
import { measureStoreCalls } from './store-calls.ts';

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function summarize(samples: number[]): { p50: number; p99: number; mean: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: samples.reduce((a, b) => a + b, 0) / samples.length,
  };
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

async function routingInProcess(label: string, topology: Topology): Promise<void> {
  const statuses = await readStatuses(topology, {
    listRegionStatuses: async () => [],
  } as unknown as Parameters<typeof readStatuses>[1]);
  const live = liveStates(topology, statuses);
  const source = topology.regions[0]?.region_id ?? '';
  const tasks: RouteInput[] = [
    { task_id: 't', source: { region: source }, requirements: {} },
    {
      task_id: 't',
      source: { region: source },
      requirements: { latency_sensitive: true, max_latency_ms: 250 },
    },
    { task_id: 't', source: { country: 'DE' }, requirements: { compliance: ['soc2'] } },
  ];
  for (let i = 0; i < 20_000; i++) decideRoute(topology, tasks[i % 3] as RouteInput, live); // warm up
  const samples: number[] = [];
  const started = performance.now();
  const n = 60_000;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    decideRoute(topology, tasks[i % 3] as RouteInput, live);
    samples.push((performance.now() - t0) * 1000);
  }
  const elapsed = (performance.now() - started) / 1000;
  const s = summarize(samples);
  console.log(
    `routing in process, ${label} (${topology.regions.length} regions): ${fmt(n / elapsed, 0)} decisions/s, ` +
      `p50 ${fmt(s.p50)} us, p99 ${fmt(s.p99)} us per decision (target p99 <= 50 us at 35 regions)`,
  );
}

async function routerHandlerWarm(): Promise<void> {
  const table = await startTestTable();
  try {
    const handler = createRouterHandler({
      regionId: 'us-east-1',
      topology: validateTopology(readTopologyJson()),
      state: new DynamoStateAdapter({ client: table.doc, tableName: table.tableName }),
      clock: { now: () => Date.now() },
    });
    const call = (i: number) =>
      handler(
        httpEvent({
          method: 'POST',
          path: '/v1/route',
          body: { task_id: `bench-${i}`, requirements: { latency_sensitive: i % 2 === 0 } },
        }),
        lambdaContext,
      );
    for (let i = 0; i < 200; i++) await call(i); // warm up
    const samples: number[] = [];
    for (let i = 200; i < 1_200; i++) {
      const t0 = performance.now();
      const result = await call(i);
      samples.push(performance.now() - t0);
      if (result.statusCode !== 200) throw new Error(`router answered ${result.statusCode}: ${result.body}`);
    }
    const s = summarize(samples);
    console.log(
      `router handler, warm, middy chain + dynalite (new task each call: 1 get, 1 query, 1 conditional put): ` +
        `p50 ${fmt(s.p50, 2)} ms, p99 ${fmt(s.p99, 2)} ms`,
    );
  } finally {
    await table.close();
  }
}

console.log(`cortex bench on node ${process.version}, ${new Date().toISOString()}`);
await routingInProcess('default topology', validateTopology(readTopologyJson()));
await routingInProcess('synthetic topology', validateTopology(syntheticTopologyJson(35)));
await routerHandlerWarm();
for (const figures of await measureImportTimes(['router'])) console.log(formatImportTime(figures));

// Failover timing in simulated seconds, speed 10 (local work is multiplied by the speed as well, so
// a higher speed inflates the orchestration share; see bench/failover.ts).
// Spec usage: the shipped snapshot, where no survivor has 50 % free (the failover spreads the work);
// the status flip is the moment a serving replacement takes the failed region's place.
for (const [interval, usage] of [
  [10, 'quiet'],
  [30, 'quiet'],
  [10, 'spec'],
  [30, 'spec'],
] as const) {
  const t = await measureFailover(interval, 10, usage);
  console.log(
    `failover, ${t.usage} usage, policy ${t.policy} (detection window ${t.detection_window_s} s), us-east-1 down -> ${t.target}${t.mode ? ` (${t.mode})` : ''}: ` +
      `serving replacement ${t.status_flip_s} s after the fault; ` +
      `detected ${t.detected_s} s, status flip (data-plane DNS flip) ${t.status_flip_s} s, DNS answer changed ${t.dns_flip_s} s, ` +
      `completed ${t.completed_s} s after the fault; orchestration (failover started -> status flip) ${t.orchestration_s} s ` +
      `including a ${t.drain_s} s drain (target: at most 5 s beyond the drain)`,
  );
}

// Replication: consistency checks across 3 local regions, and the lag monitor's error
// against an injected lag in simulated seconds (see bench/replication.ts).
for (const c of await measureConsistencyChecks([100, 10_000])) {
  console.log(
    `consistency check, ${c.sample_size} keys sampled across 3 regions (local dynalite): ${c.sampled} compared, ` +
      `${c.inconsistent} inconsistent, median ${fmt(c.median_ms)} ms of ${c.runs} runs ` +
      `(${fmt((c.sampled / c.median_ms) * 1000, 0)} keys/s)`,
  );
}
for (const [injected, interval] of [
  [1, 1],
  [5, 1],
  [5, 5],
  [30, 5],
  [120, 5],
] as const) {
  const e = await measureLagError(injected, interval);
  console.log(
    `lag measurement, injected ${e.injected_s} s on us-east-1 -> eu-west-1, beat every ${e.beat_interval_s} s: ` +
      `mean error ${e.mean_error_s} s, max |error| ${e.max_abs_error_s} s over ${e.readings} readings ` +
      `(simulated seconds; a reading is at most one beat interval under the true lag)`,
  );
}

// Latency sampler: one region's run at 3 and 35 regions (see bench/latency.ts).
for (const topology of [validateTopology(readTopologyJson()), validateTopology(syntheticTopologyJson(35))]) {
  const c = await measureSamplerCost(topology);
  console.log(
    `latency sampler run, ${c.regions} regions, one region: ${c.requests} probe requests, ${c.store_calls} store calls, ` +
      `median ${fmt(c.wall_ms_p50)} ms here (loopback endpoints, dynalite); on the network about ${c.network_ms} ms ` +
      `(samples per pair x the slowest round trip in its matrix row)`,
  );
}

// What one probe round reads and writes: quiet, after 50 ended failovers, and with 50 settled holds to
// reconcile too (bench/probe-round-load.ts).
for (const [failovers, holds] of [
  [0, 0],
  [50, 0],
  [50, 50],
] as const) {
  console.log(formatRoundLoad(await measureProbeRoundLoad(failovers, holds)));
}

// GET /v1/regions after a simulated day of availability samples: the day read vs the ledger (bench/availability.ts).
for (const r of await measureRegionsRead(50)) {
  console.log(
    `GET /v1/regions, default topology, after a simulated day, availability from the ${r.label}: ` +
      `${r.store_calls} availability store call(s), ${r.availability_bytes} bytes read, p50 ${fmt(r.p50_ms, 1)} ms per call (dynalite)`,
  );
}

// Resource accounting: the router with live reservations vs without (bench/resources.ts).
{
  const a = await measureAccounting();
  console.log(
    `router with live resource accounting (pool read + conditional ADD per task): ${fmt(a.accounted_per_second, 0)} routes/s ` +
      `vs ${fmt(a.baseline_per_second, 0)} routes/s without (ratio ${fmt(a.ratio, 2)}); p50 ${fmt(a.accounted_p50_ms, 2)} ms vs ` +
      `${fmt(a.baseline_p50_ms, 2)} ms; settling a handoff (complete) p50 ${fmt(a.settle_p50_ms, 2)} ms`,
  );
}

// Deterministic simulation: schedules per second, simulated hours per wall second and the CPU a
// schedule takes, in one worker and over every core; the figure for 10,000 schedules is measured on
// 400 and scaled (bench/simulation.ts; the run itself: `npx cortex simulate --schedules 10000`).
for (const workers of [1, undefined]) console.log(formatSimulation(await measureSimulation(400, workers)));

// One store call's CPU through the local stores, dynalite on LevelDB and in memory (bench/store-calls.ts).
for (const c of await measureStoreCalls()) {
  console.log(
    `store call through the local stores, dynalite on ${c.storage}: GetItem ${fmt(c.get_cpu_ms, 3)} ms CPU, ` +
      `Query ${fmt(c.query_cpu_ms, 3)} ms CPU (median of interleaved rounds)`,
  );
}
