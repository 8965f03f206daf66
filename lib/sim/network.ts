/**
 * The simulated network and the regions' endpoints as the probes see them: who is down, which pairs
 * a partition cuts, which regions answer errors or slowly, and which pairs of members delay or lose
 * what they send each other (a link fault, both directions). The probe port calls the target region's
 * own health use cases (the same ones its `/health`, `/api/v1/ping` and `/coordination/status`
 * handlers call) in process, after the pair's latency on the virtual clock, so every observation is
 * what an HTTP probe would have seen, at no I/O cost.
 */

import type { RegionalDeps } from '../app/deps.ts';
import { coordinationStatus, regionHealth } from '../app/regions.ts';
import { messageOf, StateUnavailableError } from '../core/errors.ts';
import type { ProbeObservation } from '../core/health/types.ts';
import type { ProbePort } from '../ports.ts';
import type { SimKernel } from './kernel.ts';

export interface RegionFault {
  /** The region's endpoint resets every connection; its probes and replication stop. */
  down?: boolean;
  /** Share of calls answered 500 (0..1). */
  errorRate?: number;
  /** Added to every answer, ms. */
  slowMs?: number;
}

/** What a link between two members does to what crosses it, both directions. */
export interface LinkFault {
  /** Added to each one-way trip, ms: a probe's round trip takes twice this more. */
  readonly delayMs?: number;
  /** Share of probes lost (0..1): a lost probe gets no answer and times out. 1 is a cut. */
  readonly dropRate?: number;
}

/**
 * How long DynamoDB's replication waits before it sends a lost change again, ms. Replication on a
 * lossy link is delayed, not lost (it retries until the change lands): an expected rate/(1 - rate)
 * retries per change.
 */
export const REPLICATION_RETRY_MS = 1_000;

export class SimNetwork {
  readonly #faults = new Map<string, RegionFault>();
  /** Both directions of every cut pair: member -> the members it is cut from. */
  readonly #cuts = new Map<string, Set<string>>();
  /** Both directions of every faulty link: member -> the members it has a link fault with. */
  readonly #links = new Map<string, Map<string, LinkFault>>();
  #version = 0;

  /**
   * A number that changes whenever a fault, cut or link changes: equal numbers mean the same network,
   * so an observer can keep what it derived from it (the invariants' reachability) until it changes.
   */
  get version(): number {
    return this.#version;
  }

  /** Whether any pair is cut (as `cuts().length > 0`, without building the list). */
  anyCut(): boolean {
    for (const others of this.#cuts.values()) if (others.size > 0) return true;
    return false;
  }

  isDown(member: string): boolean {
    return this.#faults.get(member)?.down === true;
  }

  /** A partition separates `a` and `b` (both directions). */
  partitioned(a: string, b: string): boolean {
    return this.#cuts.get(a)?.has(b) === true;
  }

  /** `from` cannot reach `to` at all: either is down, a partition cuts them, or their link loses everything. */
  blocked(from: string, to: string): boolean {
    return (
      from !== to &&
      (this.isDown(from) ||
        this.isDown(to) ||
        this.partitioned(from, to) ||
        (this.#links.get(from)?.get(to)?.dropRate ?? 0) >= 1)
    );
  }

  /** The link fault between `a` and `b` (the same both ways); empty when the link is clean. */
  linkOf(a: string, b: string): LinkFault {
    return this.#links.get(a)?.get(b) ?? {};
  }

  /** Some fault on the pair itself: a cut, a delay or losses. */
  linkFaulty(a: string, b: string): boolean {
    return this.partitioned(a, b) || this.#links.get(a)?.has(b) === true;
  }

  /**
   * Changes the link between `a` and `b` (both directions); a field set to 0 clears it, and a link
   * with nothing left is clean again.
   */
  setLink(a: string, b: string, fault: LinkFault): void {
    if (a === b) return;
    this.#version++;
    const merged = { ...this.linkOf(a, b), ...fault };
    const kept: { delayMs?: number; dropRate?: number } = {};
    if ((merged.delayMs ?? 0) > 0) kept.delayMs = merged.delayMs;
    if ((merged.dropRate ?? 0) > 0) kept.dropRate = Math.min(1, merged.dropRate as number);
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      let links = this.#links.get(from);
      if (kept.delayMs === undefined && kept.dropRate === undefined) {
        links?.delete(to);
        continue;
      }
      if (!links) {
        links = new Map();
        this.#links.set(from, links);
      }
      links.set(to, kept);
    }
  }

  /**
   * Extra ms a change replicated between `a` and `b` takes on their link: its delay, plus the
   * retries of what it loses. Infinite when it loses everything (replication waits for the link).
   */
  replicationDelayMs(a: string, b: string): number {
    const { delayMs = 0, dropRate = 0 } = this.linkOf(a, b);
    if (dropRate >= 1) return Number.POSITIVE_INFINITY;
    return delayMs + Math.round((REPLICATION_RETRY_MS * dropRate) / (1 - dropRate));
  }

  faultOf(member: string): RegionFault {
    return this.#faults.get(member) ?? {};
  }

  setFault(member: string, fault: RegionFault): void {
    this.#version++;
    this.#faults.set(member, { ...this.faultOf(member), ...fault });
  }

  cut(a: string, b: string): void {
    if (a === b) return;
    this.#version++;
    this.#cutsOf(a).add(b);
    this.#cutsOf(b).add(a);
  }

  join(a: string, b: string): void {
    this.#version++;
    this.#cuts.get(a)?.delete(b);
    this.#cuts.get(b)?.delete(a);
  }

  heal(): void {
    this.#version++;
    this.#faults.clear();
    this.#cuts.clear();
    this.#links.clear();
  }

  /** Every faulty link (`a|b`, a < b) with its fault, for reports. */
  links(): [string, LinkFault][] {
    const pairs: [string, LinkFault][] = [];
    for (const [a, others] of this.#links) {
      for (const [b, fault] of others) if (a < b) pairs.push([`${a}|${b}`, fault]);
    }
    return pairs.sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  }

  /** Every cut pair (`a|b`, a < b), for reports. */
  cuts(): string[] {
    const pairs: string[] = [];
    for (const [a, others] of this.#cuts) for (const b of others) if (a < b) pairs.push(`${a}|${b}`);
    return pairs.sort();
  }

  #cutsOf(member: string): Set<string> {
    let cuts = this.#cuts.get(member);
    if (!cuts) {
      cuts = new Set();
      this.#cuts.set(member, cuts);
    }
    return cuts;
  }
}

/** Answers faster than this are not waited for on the virtual clock (see SimProbe.probe). */
const FAST_ANSWER_MS = 1_000;

export interface SimProbeOptions {
  readonly kernel: SimKernel;
  readonly network: SimNetwork;
  /** A region's deps, whose health use cases answer its endpoints. */
  readonly depsOf: (regionId: string) => RegionalDeps | undefined;
  /** One-way latency between two members, ms (the topology's matrix); default 20. */
  readonly latencyMs?: (from: string, to: string) => number;
}

/** The ProbePort of every observer (regions and witnesses) in the simulation. */
export class SimProbe implements ProbePort {
  readonly #options: SimProbeOptions;

  constructor(options: SimProbeOptions) {
    this.#options = options;
  }

  async probe(
    observer: string,
    target: string,
    endpoint: string,
    timeoutMs: number,
  ): Promise<ProbeObservation> {
    const [seen] = await this.#call(observer, target, [endpoint], timeoutMs);
    return seen as ProbeObservation;
  }

  /**
   * A round's endpoints in one request, as the HTTP probe bundles them: one trip across the network
   * (one loss, one delay), one answer of the target's function (an error fault fails it whole), and
   * inside it each endpoint answered as its own route answers it.
   */
  probeEndpoints(
    observer: string,
    target: string,
    endpoints: readonly string[],
    timeoutMs: number,
  ): Promise<ProbeObservation[]> {
    return this.#call(observer, target, endpoints, timeoutMs);
  }

  async #call(
    observer: string,
    target: string,
    endpoints: readonly string[],
    timeoutMs: number,
  ): Promise<ProbeObservation[]> {
    const { kernel, network } = this.#options;
    const start = kernel.now();
    const each = (fields: Omit<ProbeObservation, 'observer' | 'target' | 'endpoint' | 'at'>) =>
      endpoints.map((endpoint): ProbeObservation => ({ observer, target, endpoint, at: start, ...fields }));
    if (network.isDown(observer) || network.partitioned(observer, target)) {
      // As the local probe: a cut path is reported at once, with the timeout as its latency.
      return each({ ok: false, error: 'unreachable', latency_ms: timeoutMs });
    }
    const link = network.linkOf(observer, target);
    if (link.dropRate !== undefined && (link.dropRate >= 1 || kernel.random() < link.dropRate)) {
      // Lost on the way there or back, like a dropped packet: no answer before the timeout.
      await kernel.sleep(timeoutMs);
      return each({ ok: false, error: 'timeout', latency_ms: timeoutMs });
    }
    if (network.isDown(target)) {
      return each({ ok: false, error: 'reset', latency_ms: 1 });
    }
    const fault = network.faultOf(target);
    const oneWay = (this.#options.latencyMs?.(observer, target) ?? 20) + (link.delayMs ?? 0);
    const rtt = 2 * oneWay + (fault.slowMs ?? 0);
    if (rtt >= timeoutMs) {
      await kernel.sleep(timeoutMs);
      return each({ ok: false, error: 'timeout', latency_ms: timeoutMs });
    }
    // A fast answer is reported with its latency at once: waiting for it on the clock would only add
    // events (a round's probes finish together either way); a slow one takes its time.
    if (rtt >= FAST_ANSWER_MS) await kernel.sleep(rtt);
    const latency_ms = Math.max(rtt, kernel.now() - start);
    if (fault.errorRate !== undefined && fault.errorRate > 0 && kernel.random() < fault.errorRate) {
      return each({ ok: false, status: 500, error: 'http 500', latency_ms });
    }
    const deps = this.#options.depsOf(target);
    if (!deps) return each({ ok: false, error: 'refused', latency_ms });
    return Promise.all(
      endpoints.map((endpoint) => answer(deps, observer, target, endpoint, start, latency_ms)),
    );
  }
}

/**
 * One endpoint as the target's own route answers it, after the network let the call through. Each
 * observation is one literal, its fields in one order (observer, target, endpoint, at, then the
 * answer's): every probe of every round makes three.
 */
async function answer(
  deps: RegionalDeps,
  observer: string,
  target: string,
  endpoint: string,
  at: number,
  latency_ms: number,
): Promise<ProbeObservation> {
  try {
    switch (endpoint) {
      case '/health': {
        const health = await regionHealth(deps);
        return health.serving
          ? { observer, target, endpoint, at, ok: true, status: 200, latency_ms }
          : { observer, target, endpoint, at, ok: false, status: 503, error: 'http 503', latency_ms };
      }
      case '/coordination/status': {
        const seen = await coordinationStatus(deps);
        return {
          observer,
          target,
          endpoint,
          at,
          ok: true,
          status: 200,
          latency_ms,
          reported_status: seen.status,
          available_capacity: seen.available_capacity,
          reported_heartbeat: seen.heartbeat,
          reported_peers: seen.peers.map((p) => ({
            region: p.region,
            status: p.status,
            epoch: p.epoch,
            role: p.role,
          })),
        };
      }
      default:
        return { observer, target, endpoint, at, ok: true, status: 200, latency_ms };
    }
  } catch (error) {
    // As the handlers' error boundary (functions/shared/http.ts): a region cut off from the MRSC
    // table's majority answers 503, anything else 500.
    const status = error instanceof StateUnavailableError ? 503 : 500;
    return {
      observer,
      target,
      endpoint,
      at,
      ok: false,
      status,
      error: `http ${status} (${messageOf(error)})`,
      latency_ms,
    };
  }
}
