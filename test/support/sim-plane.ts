/**
 * The whole control plane on the virtual clock, as the logic tests drive it: the simulator's world
 * (lib/sim: every region's real use cases, the failover workflow's ASL, replicated stores with lag,
 * a simulated network) with each region's real HTTP API (the handlers API Gateway routes to, called
 * in process) and the simulator's invariants checked after every event. A simulated hour takes a
 * second or so, and nothing depends on how busy the machine is: these tests never read the wall clock.
 *
 * The real-HTTP, dynalite and DNS-server wiring is tested on the local control plane by a few
 * end-to-end tests (test/e2e); what happens, and when, is tested here.
 */
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { expect } from 'vitest';
import { regionHealth } from '../../lib/app/regions.ts';
import type { DeploymentFacts } from '../../lib/core/compliance/types.ts';
import type { TargetHealth } from '../../lib/core/health/types.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { answerOrder } from '../../lib/local/dns.ts';
import { createControlApi, type RegionalApi } from '../../lib/local/regional-api.ts';
import type { ControlPlaneEvent, StatePort } from '../../lib/ports.ts';
import { InvariantChecker, type Violation } from '../../lib/sim/invariants.ts';
import type { SimAction } from '../../lib/sim/schedule.ts';
import { SimWorld } from '../../lib/sim/world.ts';

// biome-ignore lint/suspicious/noExplicitAny: raw topology JSON, edited freely by the tests.
export type RawTopology = any;

/** An answer's status and parsed JSON body. */
// biome-ignore lint/suspicious/noExplicitAny: answers are JSON checked by shape with expect()
export type Answer = { status: number; body: any };

/** `topology/default.json` as shipped (the spec's busy usage snapshot, 30 s x 3, a witness). */
export function shippedTopology(): RawTopology {
  return JSON.parse(readFileSync(new URL('../../topology/default.json', import.meta.url), 'utf8'));
}

export interface SimPlaneOptions {
  readonly seed?: number;
  /** Replication lag of every link, ms; default 200. */
  readonly lagMs?: number;
  readonly facts?: DeploymentFacts;
}

export class SimPlane {
  readonly world: SimWorld;
  readonly topology: Topology;
  readonly #checker: InvariantChecker;
  readonly #apis = new Map<string, RegionalApi>();
  #requests = 0;

  private constructor(topology: Topology, options: SimPlaneOptions) {
    this.topology = topology;
    this.world = new SimWorld({
      topology,
      seed: options.seed ?? 1,
      ...(options.lagMs === undefined ? {} : { lagMs: options.lagMs }),
      ...(options.facts === undefined ? {} : { facts: options.facts }),
    });
    this.#checker = new InvariantChecker(this.world);
  }

  /** A plane on `raw` (validated as the loader would), its probe rounds started. */
  static async start(raw: RawTopology, options: SimPlaneOptions = {}): Promise<SimPlane> {
    const plane = new SimPlane(validateTopology(raw), options);
    await plane.world.start();
    return plane;
  }

  get regionIds(): readonly string[] {
    return this.world.regionIds;
  }

  /** Virtual ms since the epoch. */
  now(): number {
    return this.world.kernel.now();
  }

  /** The probe interval of the topology, ms. */
  get intervalMs(): number {
    return this.topology.failover_policies.health_check.interval_seconds * 1000;
  }

  /** A region's replica as its own use cases read it. */
  state(regionId: string): StatePort {
    return this.world.state(regionId);
  }

  /** Every event published so far (the EventBridge bus). */
  get events(): readonly ControlPlaneEvent[] {
    return this.world.events;
  }

  /** What the invariants caught so far (lib/sim/invariants.ts). */
  get violations(): readonly Violation[] {
    return this.#checker.violations;
  }

  /** Runs `ms` of virtual time, every invariant checked after every event. */
  async advance(ms: number): Promise<void> {
    await this.world.kernel.run(this.now() + ms, () => this.#checker.check());
  }

  /** `n` probe intervals of virtual time. */
  rounds(n: number): Promise<void> {
    return this.advance(n * this.intervalMs);
  }

  /**
   * Runs virtual time a second at a time until `check` passes (returns without throwing), at most
   * `withinMs`; its last error otherwise. The virtual clock's vi.waitFor.
   */
  async until<T>(check: () => Promise<T> | T, withinMs: number, stepMs = 1_000): Promise<T> {
    const deadline = this.now() + withinMs;
    for (;;) {
      try {
        return await check();
      } catch (error) {
        if (this.now() >= deadline) throw error;
      }
      await this.advance(Math.min(stepMs, deadline - this.now()));
    }
  }

  /** Until every observer (the other regions and the witnesses) sees every region healthy. */
  async untilAllHealthy(withinMs = 10 * this.intervalMs): Promise<void> {
    const observers = this.regionIds.length - 1 + this.topology.witnesses.length;
    await this.until(async () => {
      for (const region of this.regionIds) {
        const views: TargetHealth[] = await this.state(region).listTargetHealth();
        expect(views.filter((v) => v.target === region && v.verdict === 'healthy').length).toBe(observers);
      }
    }, withinMs);
  }

  /** A fault, a heal or any other simulator action (lib/sim/schedule.ts SimAction), applied now. */
  fault(action: SimAction): Promise<void> {
    return this.world.apply(action);
  }

  /** `region` cut from every other member (regions and witnesses). */
  isolate(region: string): Promise<void> {
    return this.fault({
      kind: 'partition',
      groups: [this.regionIds.filter((r) => r !== region), [region]],
    });
  }

  /**
   * One HTTP request to `region`'s API, answered by its real handlers in process, as API Gateway
   * would route it. A region that is down answers nothing: the call throws, as a reset would.
   */
  async call(region: string, method: string, path: string, body?: unknown): Promise<Answer> {
    if (this.world.network.isDown(region) || this.world.isCrashed(region)) {
      throw new Error(`${region} is down: connection reset`);
    }
    let api = this.#apis.get(region);
    if (!api) {
      api = createControlApi(this.world.deps(region));
      this.#apis.set(region, api);
    }
    const result = await api(this.#event(method, path, body));
    const text = result.body ?? '';
    return { status: result.statusCode ?? 200, body: text === '' ? undefined : JSON.parse(text) };
  }

  get(region: string, path: string): Promise<Answer> {
    return this.call(region, 'GET', path);
  }

  post(region: string, path: string, body: unknown = {}): Promise<Answer> {
    return this.call(region, 'POST', path, body);
  }

  /**
   * What the service name answers from `client`'s side: the first region by the deployment's order
   * (latency from the client, or the failover chain) whose `/health` answers 200, as the Route 53
   * health checks and the local DNS server decide; the first by that order when none does.
   */
  async dnsAnswer(client = this.regionIds[0] as string): Promise<string> {
    const order = answerOrder(this.topology, client);
    for (const region of order) {
      if (this.world.network.isDown(region) || this.world.isCrashed(region)) continue;
      if ((await regionHealth(this.world.deps(region))).serving) return region;
    }
    return order[0] as string;
  }

  /** No invariant broke (call at the end of each test). */
  expectNoViolations(): void {
    expect(this.violations.map((v) => `${v.invariant} at ${v.at_ms} ms: ${v.detail}`)).toEqual([]);
  }

  #event(method: string, path: string, body: unknown): APIGatewayProxyEventV2 {
    const mark = path.indexOf('?');
    const rawPath = mark === -1 ? path : path.slice(0, mark);
    const rawQueryString = mark === -1 ? '' : path.slice(mark + 1);
    const query = new URLSearchParams(rawQueryString);
    const queryStringParameters = rawQueryString === '' ? undefined : Object.fromEntries(query);
    const now = this.now();
    this.#requests += 1;
    return {
      version: '2.0',
      routeKey: '$default',
      rawPath,
      rawQueryString,
      headers: { 'content-type': 'application/json', host: 'sim.cortex.local' },
      ...(queryStringParameters ? { queryStringParameters } : {}),
      requestContext: {
        accountId: 'sim',
        apiId: 'cortex-sim',
        domainName: 'sim.cortex.local',
        domainPrefix: 'sim',
        http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'sim-plane' },
        requestId: `sim-${this.#requests}`,
        routeKey: '$default',
        stage: '$default',
        time: new Date(now).toUTCString(),
        timeEpoch: now,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      isBase64Encoded: false,
    };
  }
}
