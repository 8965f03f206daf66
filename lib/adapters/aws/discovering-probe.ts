import { eachEndpoint, PROBE_BUNDLE_PATH } from '../../core/health/probe-bundle.ts';
import type { ProbeObservation } from '../../core/health/types.ts';
import type { ProbePort } from '../../ports.ts';
import { type ProbeAllowList, probeAllowList } from './probe-allow-list.ts';

interface DiscoveringProbeOptions {
  /** Base URLs known at synth (with a domain, every region's). */
  readonly known: Readonly<Record<string, string>>;
  /** Every region (and nothing else) whose URL may be discovered. */
  readonly regions: readonly string[];
  /** Reads one region's API URL (SSM GetParameter in that region); undefined when it is not there. */
  readonly lookup: (region: string) => Promise<string | undefined>;
  /** Builds the real probe once the URLs are known. */
  readonly probeFor: (baseUrls: Readonly<Record<string, string>>) => ProbePort;
  /**
   * Where a region's probe may go; default: the topology's regions, each at a URL `known` names for
   * it or at an API Gateway endpoint of that region (probe-allow-list.ts).
   */
  readonly allow?: ProbeAllowList;
  /** Stamps a refused call's observation; default the system clock (the Lambda runtime's). */
  readonly now?: () => number;
}

/**
 * Finds the API URLs that were not known at synth (no cross-region references), caches them per
 * container, and probes with them. A region whose URL cannot be read yet is probed as unreachable
 * and looked up again on the next call: a region must not look dead because its SSM answered late.
 * Every call is checked against the allow-list first: a URL outside it (a bad SSM value) is never
 * requested; the observation says it was refused.
 */
export class DiscoveringProbe implements ProbePort {
  readonly #options: DiscoveringProbeOptions;
  readonly #urls: Record<string, string>;
  readonly #allow: ProbeAllowList;
  #probe: ProbePort;
  #pending: Promise<void> | undefined;

  constructor(options: DiscoveringProbeOptions) {
    this.#options = options;
    this.#urls = { ...options.known };
    this.#allow = options.allow ?? probeAllowList({ regions: options.regions, named: options.known });
    this.#probe = options.probeFor(this.#urls);
  }

  async probe(
    observer: string,
    target: string,
    endpoint: string,
    timeoutMs: number,
  ): Promise<ProbeObservation> {
    const [refused] = (await this.#refused(observer, target, [endpoint], [endpoint])) ?? [];
    return refused ?? this.#probe.probe(observer, target, endpoint, timeoutMs);
  }

  /** A round's endpoints on `target` through the real probe's bundle, after the same discovery and allow-list. */
  async probeEndpoints(
    observer: string,
    target: string,
    endpoints: readonly string[],
    timeoutMs: number,
  ): Promise<ProbeObservation[]> {
    const refused = await this.#refused(observer, target, endpoints, [PROBE_BUNDLE_PATH, ...endpoints]);
    if (refused) return refused;
    const probe = this.#probe;
    if (probe.probeEndpoints) return probe.probeEndpoints(observer, target, endpoints, timeoutMs);
    return Promise.all(endpoints.map((endpoint) => probe.probe(observer, target, endpoint, timeoutMs)));
  }

  /**
   * Discovers `target` when it is a topology region not yet known, then checks the `paths` a call
   * would request against the allow-list: the first refusal fails every one of `endpoints` without a
   * request; undefined when every path may go.
   */
  async #refused(
    observer: string,
    target: string,
    endpoints: readonly string[],
    paths: readonly string[],
  ): Promise<ProbeObservation[] | undefined> {
    if (!(target in this.#urls) && this.#options.regions.includes(target)) await this.#discover();
    const base = this.#urls[target];
    const refused =
      base === undefined ? undefined : paths.map((p) => this.#refusal(target, base, p)).find(Boolean);
    if (!refused) return undefined;
    return eachEndpoint({ observer, target, at: (this.#options.now ?? Date.now)() }, endpoints, {
      ok: false,
      error: `refused: ${refused}`,
      latency_ms: 0,
    });
  }

  #refusal(target: string, base: string, endpoint: string): string | undefined {
    let url: URL;
    try {
      url = new URL(`${base.replace(/\/+$/, '')}${endpoint.startsWith('/') ? '' : '/'}${endpoint}`);
    } catch {
      return `"${base.slice(0, 200)}" is not a URL`;
    }
    return this.#allow(target, url);
  }

  #discover(): Promise<void> {
    this.#pending ??= (async () => {
      const missing = this.#options.regions.filter((r) => !(r in this.#urls));
      const found = await Promise.all(
        missing.map(
          async (region) => [region, await this.#options.lookup(region).catch(() => undefined)] as const,
        ),
      );
      let changed = false;
      for (const [region, url] of found) {
        if (url) {
          this.#urls[region] = url.replace(/\/+$/, '');
          changed = true;
        }
      }
      if (changed) this.#probe = this.#options.probeFor({ ...this.#urls });
    })().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }
}
