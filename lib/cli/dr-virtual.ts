/**
 * A DR drill on the virtual clock, in process: the simulator's world (lib/sim/world.ts: every
 * region's real use cases and stores, the failover workflow's ASL, probes and replication on
 * virtual time) behind each region's real API handlers (lib/local/regional-api.ts), the runbooks in
 * the ASL interpreter (lib/runtime/local-dr.ts) waiting on the same clock. Nothing here waits on a
 * wall-clock timer and nothing real is measured as simulated time: a round of the drill takes what
 * its handlers take in CPU, the detection window and the partition's three minutes cost nothing, and
 * a busy machine can neither slow the drill down nor make a probe see a live region late (on the
 * local plane at `--speed 30` a 300 ms answer is 9 simulated seconds, past the p99 trigger). Every
 * invariant of the simulator is checked after every event; a violation is a miss of the drill.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { DrillFault, DrillHarness } from '../app/dr/drill.ts';
import { runDrill } from '../app/dr/drill.ts';
import type { DrillReport } from '../app/dr/report.ts';
import { regionHealth } from '../app/regions.ts';
import type { DrillScenario } from '../core/dr/objectives.ts';
import type { Topology } from '../core/topology/types.ts';
import { answerOrder } from '../local/dns.ts';
import { createControlApi, type RegionalApi } from '../local/regional-api.ts';
import type { HealthViews } from '../ports.ts';
import { createLocalRunbooks } from '../runtime/local-dr.ts';
import { InvariantChecker } from '../sim/invariants.ts';
import { SimWorld } from '../sim/world.ts';

/** The scenarios the virtual clock runs; data_corruption needs the local plane's replication drills. */
export const VIRTUAL_SCENARIOS: readonly DrillScenario[] = [
  'complete_regional_failure',
  'network_partition',
  'cascading_failure',
];

interface VirtualDrillOptions {
  readonly scenario: DrillScenario;
  readonly region?: string;
  readonly breakAction?: string;
  /** cascading_failure: ms after the first failover names its target until the target goes down. */
  readonly cascadeAfterMs?: number;
  readonly progress?: (line: string) => void;
  /** The simulator's seed (its random choices: jitter, sampling). @default 1 */
  readonly seed?: number;
}

/** One drill on a fresh virtual-clock plane of `topology`, its invariants checked throughout. */
export async function drillOnVirtualClock(
  topology: Topology,
  options: VirtualDrillOptions,
): Promise<DrillReport> {
  if (!VIRTUAL_SCENARIOS.includes(options.scenario)) {
    throw new RangeError(`${options.scenario} runs on the local plane, not on the virtual clock`);
  }
  const world = new SimWorld({ topology, seed: options.seed ?? 1 });
  const checker = new InvariantChecker(world);
  await world.start();
  const advance = (ms: number) => world.kernel.run(world.kernel.now() + ms, () => checker.check());
  const serving = await untilServing(
    {
      regions: world.regionIds,
      witnesses: world.topology.witnesses.length,
      stateOf: (region) => world.state(region),
      now: () => world.kernel.now(),
      wait: advance,
    },
    world.kernel.now() + 10 * world.topology.failover_policies.health_check.interval_seconds * 1000,
  );
  if (!serving) {
    options.progress?.(
      `[${options.scenario}] not every observer saw every region healthy within 10 probe intervals; the warm-up judges`,
    );
  }
  const report = await runDrill(virtualHarness(world, advance), {
    scenario: options.scenario,
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.breakAction === undefined ? {} : { breakAction: options.breakAction }),
    ...(options.cascadeAfterMs === undefined ? {} : { cascadeAfterMs: options.cascadeAfterMs }),
    ...(options.progress ? { progress: options.progress } : {}),
  });
  const violations = checker.violations.map(
    (v) => `invariant ${v.invariant} broken at ${v.at_ms} ms: ${v.detail}`,
  );
  if (violations.length === 0) return report;
  return {
    ...report,
    verdict: { ...report.verdict, met: false, misses: [...report.verdict.misses, ...violations] },
  };
}

/** A plane as the warm-up before a drill reads it: its regions' replicas and its clock. */
interface WarmingPlane {
  readonly regions: readonly string[];
  readonly witnesses: number;
  /** A region's replica, of which the warm-up reads the health views. */
  readonly stateOf: (region: string) => HealthViews;
  readonly now: () => number;
  readonly wait: (ms: number) => Promise<void>;
}

/**
 * Until every observer (the other regions and the witnesses) sees every region healthy, a second at
 * a time: a drill starts from a quiet plane. False when that did not happen by `deadline`.
 */
export async function untilServing(plane: WarmingPlane, deadline: number): Promise<boolean> {
  const observers = plane.regions.length - 1 + plane.witnesses;
  for (;;) {
    let healthy = true;
    for (const region of plane.regions) {
      const views = await plane.stateOf(region).listTargetHealth();
      if (views.filter((v) => v.target === region && v.verdict === 'healthy').length < observers)
        healthy = false;
    }
    if (healthy) return true;
    if (plane.now() >= deadline) return false;
    await plane.wait(1_000);
  }
}

function virtualHarness(world: SimWorld, advance: (ms: number) => Promise<void>): DrillHarness {
  const topology = world.topology;
  const apis = new Map<string, RegionalApi>();
  let requests = 0;
  const unreachable = (region: string) => world.network.isDown(region) || world.isCrashed(region);
  return {
    topology,
    now: () => world.kernel.now(),
    sleep: advance,
    async call(region, method, path, body) {
      if (unreachable(region)) throw new Error(`${region} is down: connection reset`);
      let api = apis.get(region);
      if (!api) {
        api = createControlApi(world.deps(region));
        apis.set(region, api);
      }
      requests += 1;
      const result = await api(apiEvent(method, path, body, world.kernel.now(), requests));
      const text = result.body ?? '';
      return { status: result.statusCode ?? 200, body: text === '' ? undefined : JSON.parse(text) };
    },
    // What the service name answers for the client: the first region by the deployment's order
    // whose /health answers 200 (the local DNS server's and Route 53's rule).
    async serviceRegion(client) {
      const order = answerOrder(topology, client);
      for (const region of order) {
        if (unreachable(region)) continue;
        if ((await regionHealth(world.deps(region))).serving) return region;
      }
      return order[0] as string;
    },
    async fault(fault: DrillFault) {
      if (fault.kind === 'corrupt') throw new Error('data_corruption runs on the local plane');
      await world.apply(
        fault.kind === 'down'
          ? { kind: 'down', region: fault.region }
          : fault.kind === 'partition'
            ? { kind: 'partition', groups: fault.groups }
            : { kind: 'heal' },
      );
    },
    runbook: createLocalRunbooks({
      depsFor: (region) => world.deps(region),
      sleep: (ms) => world.kernel.sleep(ms),
    }),
  };
}

/** The API Gateway (HTTP API, payload 2.0) event a request would arrive as. */
function apiEvent(
  method: string,
  path: string,
  body: unknown,
  now: number,
  n: number,
): APIGatewayProxyEventV2 {
  const mark = path.indexOf('?');
  const rawPath = mark === -1 ? path : path.slice(0, mark);
  const rawQueryString = mark === -1 ? '' : path.slice(mark + 1);
  const queryStringParameters =
    rawQueryString === '' ? undefined : Object.fromEntries(new URLSearchParams(rawQueryString));
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers: { 'content-type': 'application/json', host: 'drill.cortex.local' },
    ...(queryStringParameters ? { queryStringParameters } : {}),
    requestContext: {
      accountId: 'drill',
      apiId: 'cortex-drill',
      domainName: 'drill.cortex.local',
      domainPrefix: 'drill',
      http: {
        method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'cortex-dr-drill',
      },
      requestId: `drill-${n}`,
      routeKey: '$default',
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    isBase64Encoded: false,
  };
}
