/**
 * The local ProbePort: one observer (a region or the witness) calls one endpoint of another
 * region's local endpoint (lib/local/control-plane.ts), in simulated time.
 *
 * A pair a partition separates (or a down observer) answers `unreachable` at once, with
 * `latency_ms` = the timeout: on AWS such a call would hang until its timeout, but waiting here
 * would only stretch the round without changing what it observes. Every other call is a real HTTP
 * request through the same HttpProbe the Lambda uses (given by the composition root, which builds it
 * unsigned: lib/local/http-probe.ts), so the target endpoint's own faults (down:
 * `reset`, errors: `http 500`, slow: late or `timeout`) are observed as they happen.
 *
 * Latency reads in simulated ms, made of two parts. What the simulation injects (the pair's
 * network latency, a slow fault's delay at the target) counts at its simulated value: it is slept
 * on the scaled clock. Everything else (the HTTP round trip, the target's work, a busy machine's
 * late timers) is real time and counts as it is, not multiplied by the speed: on AWS a region that
 * answers in 30 ms reads 30 ms, and a plane at speed 30 on a loaded machine must not read a 300 ms
 * stall as a 9 s p99 and fail over a live region for it. A call times out when both parts together
 * reach the timeout.
 */
import { eachEndpoint } from '../../core/health/probe-bundle.ts';
import type { ProbeObservation } from '../../core/health/types.ts';
import type { Clock, ProbePort } from '../../ports.ts';

export interface ProbeNetwork {
  /** A partition separates `a` and `b`. */
  partitioned(a: string, b: string): boolean;
  isDown(member: string): boolean;
  /** Simulated ms the member's endpoint waits before it answers (a slow fault); absent: none. */
  extraLatencyMs?(member: string): number;
}

/** What the HTTP probe is built with: the endpoints and the clocks observations are read on. */
export interface HttpProbeConfig {
  readonly baseUrls: Readonly<Record<string, string>>;
  readonly clock: Clock;
  readonly monotonic: () => number;
  readonly fetch?: typeof fetch;
}

interface LocalProbeOptions {
  /**
   * Base URL of each region's endpoint (`http://127.0.1.1:4600`), read on the first probe: the
   * endpoints bind after the deps that hold this probe are built.
   */
  readonly endpoints: () => Readonly<Record<string, string>>;
  readonly network: ProbeNetwork;
  /** Simulated time; `speed` simulated ms pass per real ms. */
  readonly clock: Clock & { readonly speed: number };
  readonly fetch?: typeof fetch;
  /** Builds the probe that makes the HTTP calls, once, on the first call not cut off. */
  readonly httpProbe: (config: HttpProbeConfig) => ProbePort;
  /**
   * The simulated network's round trip from one member to another, in simulated ms (the
   * topology's latency matrix), added to each call so the latency sampler measures something real.
   * Absent or 0: no injected delay.
   */
  readonly pairLatencyMs?: (from: string, to: string) => number;
  /** Waits simulated ms (the SimClock's sleep); needed for `pairLatencyMs`. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Real monotonic ms (default `performance.now`): the part of a call the simulation does not inject. */
  readonly realNow?: () => number;
}

export class LocalProbe implements ProbePort {
  readonly #options: LocalProbeOptions;
  #http: ProbePort | undefined;

  constructor(options: LocalProbeOptions) {
    this.#options = options;
  }

  async probe(
    observer: string,
    target: string,
    endpoint: string,
    timeoutMs: number,
  ): Promise<ProbeObservation> {
    const [seen] = await this.#call(observer, target, [endpoint], timeoutMs, async (http, budgetMs) => [
      await http.probe(observer, target, endpoint, budgetMs),
    ]);
    return seen as ProbeObservation;
  }

  /** A round's endpoints on `target` in one request, as the HTTP probe bundles them: one network path, one delay. */
  async probeEndpoints(
    observer: string,
    target: string,
    endpoints: readonly string[],
    timeoutMs: number,
  ): Promise<ProbeObservation[]> {
    return this.#call(observer, target, endpoints, timeoutMs, (http, budgetMs) =>
      http.probeEndpoints
        ? http.probeEndpoints(observer, target, endpoints, budgetMs)
        : Promise.all(endpoints.map((endpoint) => http.probe(observer, target, endpoint, budgetMs))),
    );
  }

  /** The simulated network around one request (`send`) carrying `endpoints`. */
  async #call(
    observer: string,
    target: string,
    endpoints: readonly string[],
    timeoutMs: number,
    send: (http: ProbePort, budgetRealMs: number) => Promise<ProbeObservation[]>,
  ): Promise<ProbeObservation[]> {
    const { clock, network } = this.#options;
    if (network.isDown(observer) || network.partitioned(observer, target)) {
      return eachEndpoint({ observer, target, at: clock.now() }, endpoints, {
        ok: false,
        error: 'unreachable',
        latency_ms: timeoutMs,
      });
    }
    this.#http ??= this.#options.httpProbe({
      baseUrls: this.#options.endpoints(),
      clock,
      // The HTTP part of a call is measured in real ms; probe() adds what the simulation injected.
      monotonic: this.#options.realNow ?? (() => performance.now()),
      ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
    });
    const { pairLatencyMs, sleep } = this.#options;
    const start = clock.now();
    const timedOut = (endpoint: string): ProbeObservation => ({
      observer,
      target,
      endpoint,
      at: start,
      ok: false,
      error: 'timeout',
      latency_ms: timeoutMs,
    });
    const pair = pairLatencyMs && sleep ? pairLatencyMs(observer, target) : 0;
    if (pair > 0 && sleep) {
      await sleep(Math.min(pair, timeoutMs));
      if (pair >= timeoutMs) return endpoints.map(timedOut);
    }
    // The target's injected delay passes in real time at 1/speed of its simulated value.
    const slow = Math.max(0, network.extraLatencyMs?.(target) ?? 0);
    const slowRealMs = slow / clock.speed;
    const left = timeoutMs - pair;
    // Real ms to wait: the injected delay scaled, plus what the timeout leaves for real time.
    const budgetRealMs = slow >= left ? left / clock.speed : slowRealMs + (left - slow);
    const seen = await send(this.#http, Math.max(1, Math.ceil(budgetRealMs)));
    return seen.map((one) => {
      if (one.error === 'timeout') return timedOut(one.endpoint);
      const latency = pair + slow + Math.max(0, one.latency_ms - slowRealMs);
      if (latency > timeoutMs) return timedOut(one.endpoint);
      return { ...one, at: start, latency_ms: Math.round(latency * 10) / 10 };
    });
  }
}
