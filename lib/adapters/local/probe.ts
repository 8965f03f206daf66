/**
 * The local ProbePort: one observer (a region or the witness) calls one endpoint of another
 * region's local endpoint (lib/local/control-plane.ts), in simulated time.
 *
 * A pair a partition separates (or a down observer) answers `unreachable` at once, with
 * `latency_ms` = the timeout: on AWS such a call would hang until its timeout, but waiting here
 * would only stretch the round without changing what it observes. Every other call is a real HTTP
 * request through the same HttpProbe the Lambda uses (given by the composition root, which builds it
 * unsigned: lib/local/http-probe.ts), so the target endpoint's own faults (down:
 * `reset`, errors: `http 500`, slow: late or `timeout`) are observed as they happen. The timeout is
 * the simulated one scaled to real time, and latency is measured on the simulated clock, so both
 * read in simulated ms.
 */
import type { ProbeObservation } from '../../core/health/types.ts';
import type { Clock, ProbePort } from '../../ports.ts';

export interface ProbeNetwork {
  /** A partition separates `a` and `b`. */
  partitioned(a: string, b: string): boolean;
  isDown(member: string): boolean;
}

/** What the HTTP probe is built with: the endpoints and the clocks observations are read on. */
export interface HttpProbeConfig {
  readonly baseUrls: Readonly<Record<string, string>>;
  readonly clock: Clock;
  readonly monotonic: () => number;
  readonly fetch?: typeof fetch;
}

export interface LocalProbeOptions {
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
    const { clock, network } = this.#options;
    if (network.isDown(observer) || network.partitioned(observer, target)) {
      return {
        observer,
        target,
        endpoint,
        at: clock.now(),
        ok: false,
        error: 'unreachable',
        latency_ms: timeoutMs,
      };
    }
    this.#http ??= this.#options.httpProbe({
      baseUrls: this.#options.endpoints(),
      clock,
      // Latency on the simulated clock reads in simulated ms.
      monotonic: () => clock.now(),
      ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
    });
    const { pairLatencyMs, sleep } = this.#options;
    const delay = pairLatencyMs && sleep ? pairLatencyMs(observer, target) : 0;
    if (delay <= 0 || !sleep) {
      return this.#http.probe(observer, target, endpoint, Math.max(1, Math.ceil(timeoutMs / clock.speed)));
    }
    const start = clock.now();
    if (delay >= timeoutMs) {
      await sleep(timeoutMs);
      return { observer, target, endpoint, at: start, ok: false, error: 'timeout', latency_ms: timeoutMs };
    }
    await sleep(delay);
    const left = timeoutMs - delay;
    const seen = await this.#http.probe(
      observer,
      target,
      endpoint,
      Math.max(1, Math.ceil(left / clock.speed)),
    );
    return { ...seen, at: start, latency_ms: Math.round(clock.now() - start) };
  }
}
