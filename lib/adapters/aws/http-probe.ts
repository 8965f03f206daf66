/**
 * The probe port over HTTP: one GET of a region's endpoint (API Gateway on AWS, the local region
 * server on loopback) with a hard deadline. Every failure becomes an observation, never an error:
 * a probe that throws would look like "no data" to the quorum, not like "down".
 */

import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { messageOf } from '../../core/errors.ts';
import {
  type BundlePart,
  eachEndpoint,
  PROBE_BUNDLE_PATH,
  partLatencyMs,
  type RoundOutcome,
  splitForBundle,
} from '../../core/health/probe-bundle.ts';
import type { ProbeObservation, ReportedPeerStatus } from '../../core/health/types.ts';
import { REGION_STATUSES, type RegionStatus } from '../../core/state/records.ts';
import type { Clock, ProbePort } from '../../ports.ts';

/** AWS credentials as the SigV4 signer takes them (structurally @smithy/types AwsCredentialIdentity). */
interface ProbeCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

interface HttpProbeOptions {
  /** Base URL of each target region's API, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com`. */
  readonly baseUrls: Readonly<Record<string, string>>;
  /** Stamps each observation (`at`); simulated time locally. */
  readonly clock: Clock;
  /** Monotonic milliseconds for latency; default `performance.now`. Wall clocks jump, latencies must not. */
  readonly monotonic?: () => number;
  /**
   * Paths behind IAM auth (API Gateway `AWS_IAM`), signed with SigV4 for `execute-api` in the target's
   * region. Default: `/coordination/status` and the bundle (`/coordination/probe`). `/health` stays
   * unsigned: Route 53 checkers cannot sign.
   */
  readonly signedPaths?: readonly string[];
  /** Default: the SDK's default chain (`@aws-sdk/credential-provider-node`), resolved on first signed call. */
  readonly credentials?: () => Promise<ProbeCredentials>;
  /** The AWS region a target's API lives in; default: the target id itself (region ids are AWS regions). */
  readonly signingRegionOf?: (target: string) => string;
  /** Injected for tests; default global `fetch`. */
  readonly fetch?: typeof fetch;
}

/** Bodies beyond this are not status documents; reading them would only spend the deadline. */
const MAX_STATUS_BODY_BYTES = 64 * 1024;

export class HttpProbe implements ProbePort {
  readonly #baseUrls: ReadonlyMap<string, URL>;
  readonly #clock: Clock;
  readonly #monotonic: () => number;
  readonly #signedPaths: ReadonlySet<string>;
  readonly #signer: SignatureV4;
  readonly #signingRegionOf: (target: string) => string;
  readonly #fetch: typeof fetch;

  constructor(options: HttpProbeOptions) {
    const urls = new Map<string, URL>();
    for (const [region, url] of Object.entries(options.baseUrls)) {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new Error(`HttpProbe: base URL of ${region} is not a URL: "${url}"`);
      }
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
        throw new Error(`HttpProbe: base URL of ${region} must be http(s), got ${parsed.protocol}`);
      }
      urls.set(region, parsed);
    }
    this.#baseUrls = urls;
    this.#clock = options.clock;
    this.#monotonic = options.monotonic ?? (() => performance.now());
    this.#signedPaths = new Set(options.signedPaths ?? ['/coordination/status', PROBE_BUNDLE_PATH]);
    this.#signingRegionOf = options.signingRegionOf ?? ((target) => target);
    this.#fetch = options.fetch ?? fetch;
    const credentials = options.credentials ?? defaultProvider();
    this.#signer = new SignatureV4({
      service: 'execute-api',
      // Overridden per request with the target's region (signingRegion).
      region: 'us-east-1',
      credentials,
      sha256: Hash.bind(null, 'sha256'),
    });
  }

  async probe(
    observer: string,
    target: string,
    endpoint: string,
    timeoutMs: number,
  ): Promise<ProbeObservation> {
    const at = this.#clock.now();
    const started = this.#monotonic();
    const base: Omit<ProbeObservation, 'ok' | 'latency_ms'> = { observer, target, endpoint, at };
    const elapsed = () => Math.max(0, Math.round((this.#monotonic() - started) * 10) / 10);
    const baseUrl = this.#baseUrls.get(target);
    if (!baseUrl) return { ...base, ok: false, error: 'no endpoint known', latency_ms: 0 };

    const url = joinUrl(baseUrl, endpoint);
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const headers = this.#signedPaths.has(endpoint)
        ? await this.#signedHeaders(url, target)
        : { accept: 'application/json' };
      const response = await this.#fetch(url, { method: 'GET', headers, signal, redirect: 'manual' });
      const isStatusDocument = endpoint === '/coordination/status' && response.ok;
      // The body is read inside the same deadline: a server that sends headers and stalls is slow too.
      const text = isStatusDocument ? await readBounded(response) : await drain(response);
      const latency_ms = elapsed();
      if (!response.ok) {
        return { ...base, ok: false, status: response.status, error: `http ${response.status}`, latency_ms };
      }
      if (!isStatusDocument) return { ...base, ok: true, status: response.status, latency_ms };
      const reported = parseCoordinationStatus(text);
      if (!reported) {
        return {
          ...base,
          ok: false,
          status: response.status,
          error: 'malformed coordination status',
          latency_ms,
        };
      }
      return { ...base, ok: true, status: response.status, latency_ms, ...reported };
    } catch (error) {
      return { ...base, ok: false, error: networkFailureOf(error, signal), latency_ms: elapsed() };
    }
  }

  /**
   * The endpoints the bundle answers in one GET of `/coordination/probe`, each part turned into the
   * observation its own request would have made; any other endpoint on its own. A target whose API
   * has no bundle route yet (404: a region not yet deployed with it) is asked path by path.
   */
  async probeEndpoints(
    observer: string,
    target: string,
    endpoints: readonly string[],
    timeoutMs: number,
  ): Promise<ProbeObservation[]> {
    const { bundled, separate } = splitForBundle(endpoints);
    const [fromBundle, alone] = await Promise.all([
      bundled.length === 0 ? [] : this.#bundle(observer, target, bundled, timeoutMs),
      Promise.all(separate.map((endpoint) => this.probe(observer, target, endpoint, timeoutMs))),
    ]);
    const seen = [...fromBundle, ...alone];
    return endpoints.map((endpoint) => {
      const found = seen.find((o) => o.endpoint === endpoint);
      if (found) return found;
      return {
        observer,
        target,
        endpoint,
        ok: false,
        error: 'not probed',
        latency_ms: 0,
        at: this.#clock.now(),
      };
    });
  }

  async #bundle(
    observer: string,
    target: string,
    paths: readonly string[],
    timeoutMs: number,
  ): Promise<ProbeObservation[]> {
    const at = this.#clock.now();
    const started = this.#monotonic();
    const elapsed = () => Math.max(0, Math.round((this.#monotonic() - started) * 10) / 10);
    const each = (outcome: RoundOutcome) => eachEndpoint({ observer, target, at }, paths, outcome);
    const baseUrl = this.#baseUrls.get(target);
    if (!baseUrl) return each({ ok: false, error: 'no endpoint known', latency_ms: 0 });

    const url = joinUrl(baseUrl, PROBE_BUNDLE_PATH);
    url.searchParams.set('paths', paths.join(','));
    url.searchParams.set('timeout_ms', String(Math.round(timeoutMs)));
    const signal = AbortSignal.timeout(timeoutMs);
    let text: string;
    let response: Response;
    try {
      const headers = this.#signedPaths.has(PROBE_BUNDLE_PATH)
        ? await this.#signedHeaders(url, target)
        : { accept: 'application/json' };
      response = await this.#fetch(url, { method: 'GET', headers, signal, redirect: 'manual' });
      text = response.ok ? await readBounded(response) : await drain(response);
    } catch (error) {
      return each({ ok: false, error: networkFailureOf(error, signal), latency_ms: elapsed() });
    }
    const roundTripMs = elapsed();
    if (response.status === 404) {
      const left = Math.max(1, timeoutMs - roundTripMs);
      return Promise.all(paths.map((endpoint) => this.probe(observer, target, endpoint, left)));
    }
    // The whole request failed (the function or the gateway): each path's own request would have too.
    if (!response.ok) {
      return each({
        ok: false,
        status: response.status,
        error: `http ${response.status}`,
        latency_ms: roundTripMs,
      });
    }
    const answer = parseBundleAnswer(text, paths);
    if (!answer) {
      return each({
        ok: false,
        status: response.status,
        error: 'malformed probe answer',
        latency_ms: roundTripMs,
      });
    }
    return answer.parts.map((part) => ({
      observer,
      target,
      endpoint: part.path,
      at,
      ...partObservation(part, partLatencyMs(roundTripMs, answer.ms, part.ms), timeoutMs),
    }));
  }

  async #signedHeaders(url: URL, target: string): Promise<Record<string, string>> {
    const query: Record<string, string> = {};
    for (const [name, value] of url.searchParams) query[name] = value;
    const signed = await this.#signer.sign(
      {
        method: 'GET',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port === '' ? {} : { port: Number(url.port) }),
        path: url.pathname,
        query,
        headers: { host: url.host, accept: 'application/json' },
      },
      { signingRegion: this.#signingRegionOf(target) },
    );
    // fetch sets Host itself (to the same url.host that was signed).
    const { host: _host, ...headers } = signed.headers;
    return headers;
  }
}

function joinUrl(base: URL, endpoint: string): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${endpoint.startsWith('/') ? '' : '/'}${endpoint}`;
  return url;
}

async function drain(response: Response): Promise<string> {
  await response.body?.cancel();
  return '';
}

/** The body as text, or '' (unparseable, so a failed observation) when it exceeds the limit. */
async function readBounded(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_STATUS_BODY_BYTES) {
      await reader.cancel();
      return '';
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A bundle's answer holding exactly the parts asked, in order, each a path with a time and maybe a
 * status; undefined when it is anything else (the probe then fails every part as malformed).
 */
function parseBundleAnswer(
  text: string,
  paths: readonly string[],
): { readonly parts: readonly BundlePart[]; readonly ms: number } | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const { parts, ms } = body as { parts?: unknown; ms?: unknown };
  if (!isMs(ms) || !Array.isArray(parts) || parts.length !== paths.length) return undefined;
  const out: BundlePart[] = [];
  for (const [i, raw] of (parts as unknown[]).entries()) {
    if (typeof raw !== 'object' || raw === null) return undefined;
    const { path, status, ms: partMs, body: partBody } = raw as Record<string, unknown>;
    if (path !== paths[i] || !isMs(partMs)) return undefined;
    if (
      status !== undefined &&
      !(Number.isInteger(status) && (status as number) >= 100 && (status as number) < 600)
    )
      return undefined;
    out.push({
      path: paths[i] as string,
      ms: partMs,
      ...(status === undefined ? {} : { status: status as number }),
      ...(partBody === undefined ? {} : { body: partBody }),
    });
  }
  return { parts: out, ms };
}

function isMs(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** What a part's own request would have observed: its status, its latency, its timeout and reason. */
function partObservation(
  part: BundlePart,
  latency_ms: number,
  timeoutMs: number,
): Omit<ProbeObservation, 'observer' | 'target' | 'endpoint' | 'at'> {
  // No answer by the bundle's deadline, or one its own request would have got too late: a timeout.
  if (part.status === undefined || latency_ms >= timeoutMs) {
    return { ok: false, error: 'timeout', latency_ms: Math.max(latency_ms, timeoutMs) };
  }
  const { status } = part;
  if (status < 200 || status >= 300) return { ok: false, status, error: `http ${status}`, latency_ms };
  if (part.path !== '/coordination/status') return { ok: true, status, latency_ms };
  const reported = coordinationStatusFields(part.body);
  if (!reported) return { ok: false, status, error: 'malformed coordination status', latency_ms };
  return { ok: true, status, latency_ms, ...reported };
}

/** The fields a probe takes from `/coordination/status` (lib/app/regions.ts coordinationStatus). */
export function parseCoordinationStatus(
  text: string,
):
  | Pick<ProbeObservation, 'reported_status' | 'available_capacity' | 'reported_heartbeat' | 'reported_peers'>
  | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  return coordinationStatusFields(body);
}

function coordinationStatusFields(
  body: unknown,
):
  | Pick<ProbeObservation, 'reported_status' | 'available_capacity' | 'reported_heartbeat' | 'reported_peers'>
  | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const fields = body as Record<string, unknown>;
  const out: {
    reported_status?: RegionStatus;
    available_capacity?: number;
    reported_heartbeat?: { seq: number; at: number };
    reported_peers?: ReportedPeerStatus[];
  } = {};
  const status = fields.status;
  if (typeof status === 'string' && (REGION_STATUSES as readonly string[]).includes(status)) {
    out.reported_status = status as RegionStatus;
  }
  const capacity = fields.available_capacity;
  if (typeof capacity === 'number' && Number.isFinite(capacity) && capacity >= 0 && capacity <= 1) {
    out.available_capacity = capacity;
  }
  const heartbeat = fields.heartbeat;
  if (typeof heartbeat === 'object' && heartbeat !== null) {
    const { seq, at } = heartbeat as Record<string, unknown>;
    if (Number.isSafeInteger(seq) && (seq as number) >= 0 && typeof at === 'number' && Number.isFinite(at)) {
      out.reported_heartbeat = { seq: seq as number, at };
    }
  }
  // What the target's replica holds of the others: a region cut off learns from it whether it was
  // failed over while it could not see (it must not unfence over a newer decision).
  if (Array.isArray(fields.peers)) {
    const peers: ReportedPeerStatus[] = [];
    for (const peer of fields.peers as unknown[]) {
      if (typeof peer !== 'object' || peer === null) continue;
      const { region, status: peerStatus, epoch, role } = peer as Record<string, unknown>;
      if (
        typeof region === 'string' &&
        typeof peerStatus === 'string' &&
        (REGION_STATUSES as readonly string[]).includes(peerStatus) &&
        Number.isSafeInteger(epoch)
      ) {
        peers.push({
          region,
          status: peerStatus as RegionStatus,
          epoch: epoch as number,
          // The role comes with the status: a region adopting its newer record takes both.
          ...(typeof role === 'string' ? { role } : {}),
        });
      }
    }
    out.reported_peers = peers;
  }
  return out;
}

const NETWORK_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'refused',
  ECONNRESET: 'reset',
  EPIPE: 'reset',
  UND_ERR_SOCKET: 'reset',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  ETIMEDOUT: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
};

/** Why a fetch failed: `timeout`, `refused`, `reset`, `dns`, `unreachable`, `tls`, or `network <code>`. */
export function networkFailureOf(error: unknown, signal: AbortSignal): string {
  if (signal.aborted) return 'timeout';
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return 'timeout';
  const code = errorCode(error);
  if (code !== undefined) {
    const known = NETWORK_ERRORS[code];
    if (known) return known;
    if (code.startsWith('ERR_TLS') || code.includes('CERT')) return 'tls';
    return `network ${code}`;
  }
  return `network ${messageOf(error)}`;
}

/** fetch wraps the socket error in `cause` (sometimes twice, or in an AggregateError). */
function errorCode(error: unknown, depth = 0): string | undefined {
  if (depth > 4 || typeof error !== 'object' || error === null) return undefined;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string') return code;
  const fromCause = errorCode(cause, depth + 1);
  if (fromCause) return fromCause;
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      const found = errorCode(inner, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}
