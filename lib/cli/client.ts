/**
 * The CLI's HTTP client: it knows every endpoint it may ask and moves on to the next when one does not
 * answer, so an operator's tool keeps working while the region it talks to is down.
 *
 * Endpoints, in order: the comma-separated list in `--endpoint` (else `$CORTEX_ENDPOINT`, else the
 * local gateway), then, once those fail, every region's own endpoint as the local control plane's
 * `GET /v1/sim` lists them (the gateway answers its `/v1/sim` routes itself, even while the region it
 * hands the API to is down). On AWS, list each region's API URL in `--endpoint`.
 *
 * The next endpoint is tried when there is no HTTP answer at all (refused, reset, timed out,
 * unresolvable), and on an HTTP answer that `asksNextEndpoint` says another region should get (the
 * rule `cortex dashboard` follows too). A request that may have reached a region before the
 * connection broke (a reset or a timeout) is sent again elsewhere only when the API makes repeating
 * it harmless.
 *
 * Signing: on AWS every route but `/health` and `/api/v1/ping` is IAM-authorized (API Gateway
 * `AWS_IAM`, lib/infra/regional-api.ts), so a request to an endpoint that is not on loopback is signed
 * with SigV4 for `execute-api` in the endpoint's region (its host names it, or `signingRegion`), with
 * the SDK's default credential chain. Loopback endpoints (the local control plane) stay unsigned.
 */
import { REGION_HEADER } from '../app/routes.ts';

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:4600';

/** How long one endpoint has to answer before the next is tried. */
const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * 5xx codes that mean "this region did not act; another region may": it is not serving (draining,
 * failed, fenced), its strongly consistent table has no majority, it cannot reach the replica of the
 * failover's coordinator where an operator's abort, approval or decline is written (the coordinator's
 * own region, or one that reaches it, may), or the local plane's injected fault answered before any
 * handler ran.
 */
const DID_NOT_ACT_CODES: ReadonlySet<string> = new Set([
  'REGION_NOT_SERVING',
  'STATE_UNAVAILABLE',
  'COORDINATOR_UNREACHABLE',
  'INJECTED_FAULT',
]);

/** Connection errors that prove nothing was sent: the request never reached a region. */
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);

/**
 * POST routes that are safe to send twice: routing is idempotent per task_id, a failover start per
 * region and epoch (a repeat finds it running), the failover steering calls per failover, a handoff's
 * accept per worker (a repeat by the same worker answers the record), fault injection is the
 * simulator's. Audits, consistency checks, privacy requests and rebalances are not: each POST is one
 * new run.
 */
const REPEATABLE_POSTS: readonly RegExp[] = [
  /^\/v1\/route$/,
  /^\/v1\/failovers$/,
  /^\/v1\/failovers\/[^/]+\/(abort|approve|decline)$/,
  /^\/v1\/handoffs\/[^/]+\/accept$/,
  /^\/v1\/sim\//,
];

/** Whether sending `method path` twice is harmless (reads, and the POSTs above). */
function isRepeatable(method: string, path: string): boolean {
  return method !== 'POST' || REPEATABLE_POSTS.some((p) => p.test(path));
}

/**
 * Whether an HTTP answer sends the request on to the next endpoint, for the CLI and `cortex
 * dashboard` alike. A 4xx never does: the region read the request and refused it, so it is alive and
 * its answer stands. A 5xx does when its code says the region did not act (DID_NOT_ACT_CODES), and,
 * for a request that is harmless to repeat, when it has no code of the API's at all (the gateway's own
 * error page: the function crashed or timed out, and may have acted). Any other 5xx is that region's
 * answer.
 */
export function asksNextEndpoint(
  method: string,
  path: string,
  status: number,
  code: string | undefined,
): boolean {
  if (status < 500) return false;
  if (code === undefined) return isRepeatable(method, path);
  return DID_NOT_ACT_CODES.has(code);
}

export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
  /** The endpoint that answered. */
  readonly endpoint: string;
  /** The region whose handlers answered, when the endpoint says or its host names it. */
  readonly region?: string;
  /** The answer's `Date` header (the server's clock, to the second), when it sent one. */
  readonly date?: string;
  /** Why the request went unsigned to an endpoint that wanted signing (no credentials found). */
  readonly unsigned?: string;
}

/** AWS credentials as the SigV4 signer takes them (structurally @smithy/types AwsCredentialIdentity). */
export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * When requests are signed: `auto` signs every endpoint that is not on loopback (AWS), `always` every
 * one, `never` none (an unsigned call to an IAM-authorized route answers 403).
 */
export type SigningMode = 'auto' | 'always' | 'never';

export const SIGNING_MODES: readonly SigningMode[] = ['auto', 'always', 'never'];

/** No endpoint gave an HTTP answer; the message says what each one did. */
export class ApiUnreachableError extends Error {}

/** An endpoint given on the command line or in the environment is not an http(s) URL. */
export class EndpointError extends Error {}

interface ApiClientOptions {
  /** Tried in this order. */
  readonly endpoints: readonly string[];
  /** Where the endpoints came from, for error messages (`--endpoint`, `CORTEX_ENDPOINT`). */
  readonly origin: string;
  /** A line for the user when another endpoint than the first answered; nothing when absent. */
  readonly note?: (line: string) => void;
  readonly timeoutMs?: number;
  /** @default 'auto' */
  readonly signing?: SigningMode;
  /**
   * The region to sign for when an endpoint's host does not name one (`api.<domain>`). @default
   * $AWS_REGION, else $AWS_DEFAULT_REGION (read by the caller), else us-east-1
   */
  readonly signingRegion?: string;
  /** @default the SDK's default chain (`@aws-sdk/credential-provider-node`), loaded on first use */
  readonly credentials?: () => Promise<SigningCredentials>;
}

interface Attempt {
  readonly endpoint: string;
  readonly outcome: string;
}

/** Parses a comma-separated endpoint list; every entry must be an http(s) URL. */
export function parseEndpoints(raw: string, origin: string): string[] {
  const entries = raw
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (entries.length === 0)
    throw new EndpointError(`${origin} is empty: give one URL or several, comma-separated`);
  return entries.map((entry) => {
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new EndpointError(`${origin}: "${entry}" is not a URL (e.g. http://127.0.0.1:4600)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new EndpointError(`${origin}: "${entry}" is not an http or https URL`);
    }
    return url.origin + url.pathname.replace(/\/+$/, '');
  });
}

const REGION_ID = '[a-z]{2}(?:-[a-z]+)+-\\d';

/**
 * The region an endpoint's host names: an API's own host (`<id>.execute-api.<region>.amazonaws.com`)
 * or the per-region custom domain the stacks add with `-c domain=...` (`<region>.api.<domain>`).
 */
export function regionOfHost(endpoint: string): string | undefined {
  const host = new URL(endpoint).hostname;
  return (
    new RegExp(`\\.execute-api\\.(${REGION_ID})\\.amazonaws\\.com$`).exec(host)?.[1] ??
    new RegExp(`^(${REGION_ID})\\.api\\.`).exec(host)?.[1]
  );
}

/** The local control plane listens on loopback only (127.0.0.1 and 127.0.1.x): nothing to sign for. */
export function isLoopback(endpoint: string): boolean {
  const host = new URL(endpoint).hostname;
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Whether a request to `endpoint` is signed under `mode`. */
export function wantsSigning(mode: SigningMode, endpoint: string): boolean {
  return mode === 'always' || (mode === 'auto' && !isLoopback(endpoint));
}

interface SignRequestOptions {
  readonly credentials: () => Promise<SigningCredentials>;
  readonly region: string;
  /** @default 'execute-api' (API Gateway); tests use the AWS test suite's `service`. */
  readonly service?: string;
  /** @default now */
  readonly signingDate?: Date;
}

/**
 * The headers of `url` signed with SigV4 (`authorization`, `x-amz-date`, `x-amz-security-token`
 * with temporary credentials, and the ones given), without `host`: fetch sends the same host itself.
 */
export async function signRequest(
  method: string,
  url: URL,
  headers: Readonly<Record<string, string>>,
  body: string | undefined,
  options: SignRequestOptions,
): Promise<Record<string, string>> {
  // Loaded on the first signed request: the local commands never pay for the SDK's modules.
  const [{ SignatureV4 }, { Hash }] = await Promise.all([
    import('@smithy/signature-v4'),
    import('@smithy/hash-node'),
  ]);
  const signer = new SignatureV4({
    service: options.service ?? 'execute-api',
    region: options.region,
    credentials: options.credentials,
    sha256: Hash.bind(null, 'sha256'),
    // x-amz-content-sha256 is S3's header; API Gateway hashes the payload into the signature anyway.
    applyChecksum: false,
  });
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = value;
  const signed = await signer.sign(
    {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port === '' ? {} : { port: Number(url.port) }),
      path: url.pathname,
      query,
      headers: { ...headers, host: url.host },
      ...(body === undefined ? {} : { body }),
    },
    options.signingDate ? { signingDate: options.signingDate } : {},
  );
  const { host: _host, ...rest } = signed.headers;
  return rest;
}

export class ApiClient {
  readonly #configured: readonly string[];
  readonly #origin: string;
  readonly #note: ((line: string) => void) | undefined;
  readonly #timeoutMs: number;
  readonly #signing: SigningMode;
  readonly #signingRegion: string;
  readonly #credentials: () => Promise<SigningCredentials>;
  /** Loaded once per client; a failure is remembered (the chain would fail the same way again). */
  #loaded: Promise<SigningCredentials | { error: string }> | undefined;
  /** Region endpoints learned from `/v1/sim`, by region id; undefined until asked. */
  #discovered: Promise<readonly { region: string; url: string }[]> | undefined;
  /** How many region endpoints /v1/sim listed (0: nothing answered /v1/sim, or it is not local). */
  #regionsSeen = 0;

  constructor(options: ApiClientOptions) {
    if (options.endpoints.length === 0) throw new EndpointError(`${options.origin} names no endpoint`);
    this.#configured = options.endpoints;
    this.#origin = options.origin;
    this.#note = options.note;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#signing = options.signing ?? 'auto';
    this.#signingRegion = options.signingRegion ?? 'us-east-1';
    this.#credentials =
      options.credentials ??
      (async () => {
        const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
        return defaultProvider()();
      });
  }

  /** The endpoints given, in order. */
  get endpoints(): readonly string[] {
    return this.#configured;
  }

  /**
   * One request to one endpoint, signed as the client signs, with no fallback to another: for a
   * check that must hear each region itself (`cortex doctor`). Throws ApiUnreachableError when the
   * endpoint gives no HTTP answer.
   */
  async callEndpoint(endpoint: string, method: string, path: string, body?: string): Promise<ApiAnswer> {
    const outcome = await this.#send(endpoint, method, path, body);
    if ('error' in outcome) throw new ApiUnreachableError(outcome.error);
    return outcome.answer;
  }

  /** Every region's own endpoint as the local control plane lists them (`GET /v1/sim`); [] on AWS. */
  regionEndpoints(): Promise<readonly { region: string; url: string }[]> {
    return this.#regionEndpoints();
  }

  async call(method: string, path: string, body?: string): Promise<ApiAnswer> {
    const repeatable = isRepeatable(method, path);
    const attempts: Attempt[] = [];
    /** The first answer that sent the request on, with what was tried before it. */
    let refused: { answer: ApiAnswer; before: Attempt[] } | undefined;
    let stoppedAfterSend = false;
    const tried = new Set<string>();
    for await (const endpoint of this.#candidates(path)) {
      if (tried.has(endpoint)) continue;
      tried.add(endpoint);
      const outcome = await this.#send(endpoint, method, path, body);
      if ('error' in outcome) {
        attempts.push({ endpoint, outcome: outcome.error });
        // A request that may have been acted on is not sent again unless repeating it is harmless.
        if (!outcome.notSent && !repeatable) {
          stoppedAfterSend = true;
          break;
        }
        continue;
      }
      const answer = outcome.answer;
      const code = errorCode(answer.body);
      if (asksNextEndpoint(method, path, answer.status, code)) {
        refused ??= { answer, before: [...attempts] };
        attempts.push({ endpoint, outcome: `HTTP ${answer.status}${code ? ` ${code}` : ''}` });
        continue;
      }
      this.#answered(answer, attempts);
      return answer;
    }
    if (refused) {
      this.#answered(refused.answer, refused.before);
      return refused.answer;
    }
    throw this.#unreachable(attempts, stoppedAfterSend);
  }

  /**
   * The endpoint of `region`'s own API, for a request only that region may answer (a handoff's
   * accept): a given endpoint whose host names the region, else the local plane's endpoint for it
   * (`GET /v1/sim`), else a given endpoint whose `GET /api/v1/ping` answers for it. Undefined when
   * none does.
   */
  async endpointOf(region: string): Promise<string | undefined> {
    const named = this.#configured.find((endpoint) => regionOfHost(endpoint) === region);
    if (named) return named;
    const local = (await this.#regionEndpoints()).find((r) => r.region === region);
    if (local) return local.url;
    for (const endpoint of this.#configured) {
      const outcome = await this.#send(endpoint, 'GET', '/api/v1/ping');
      if ('error' in outcome || outcome.answer.status !== 200) continue;
      const answered = (outcome.answer.body as { region?: unknown } | null)?.region;
      if (outcome.answer.region === region || answered === region) return endpoint;
    }
    return undefined;
  }

  /** The endpoints the user gave, then (not for the simulator's own routes) every region's. */
  async *#candidates(path: string): AsyncGenerator<string> {
    yield* this.#configured;
    // The simulator's routes live on the gateway only: region endpoints do not serve them.
    if (path.startsWith('/v1/sim') || path.startsWith('/v1/events')) return;
    for (const { url } of await this.#regionEndpoints()) yield url;
  }

  /** Says who answered when it was not the first endpoint asked. */
  #answered(answer: ApiAnswer, before: readonly Attempt[]): void {
    if (before.length === 0 || !this.#note) return;
    const who = answer.region ? `${answer.region} (${answer.endpoint})` : answer.endpoint;
    this.#note(`cortex: answered by ${who}; ${before.map((a) => `${a.endpoint} ${a.outcome}`).join(', ')}`);
  }

  #unreachable(attempts: readonly Attempt[], stoppedAfterSend: boolean): ApiUnreachableError {
    const list = attempts.map((a) => `${a.endpoint} (${a.outcome})`).join(', ');
    if (stoppedAfterSend) {
      return new ApiUnreachableError(
        `no answer from ${list}; the request may have reached the region, and sending it again could repeat it: check its outcome, then retry`,
      );
    }
    return new ApiUnreachableError(
      this.#regionsSeen === 0
        ? `cannot reach ${list}; is \`npm start\` running, or is ${this.#origin} right?`
        : `no region answered: ${list}; the local control plane is up but every region it serves is down or cut off (cortex heal removes injected faults)`,
    );
  }

  #regionEndpoints(): Promise<readonly { region: string; url: string }[]> {
    this.#discovered ??= this.#discover();
    return this.#discovered;
  }

  async #discover(): Promise<readonly { region: string; url: string }[]> {
    for (const endpoint of this.#configured) {
      const outcome = await this.#send(endpoint, 'GET', '/v1/sim');
      if ('error' in outcome || outcome.answer.status !== 200) continue;
      const regions = (outcome.answer.body as { regions?: unknown }).regions;
      if (regions === null || typeof regions !== 'object') continue;
      const found = Object.entries(regions as Record<string, { url?: unknown }>)
        .filter(([, r]) => typeof r?.url === 'string')
        .map(([region, r]) => ({ region, url: String(r.url) }));
      this.#regionsSeen = found.length;
      return found;
    }
    return [];
  }

  async #send(
    endpoint: string,
    method: string,
    path: string,
    body?: string,
  ): Promise<{ answer: ApiAnswer } | { error: string; notSent: boolean }> {
    const url = `${endpoint}${path}`;
    let headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    let unsigned: string | undefined;
    // /health and /api/v1/ping are open on AWS too (Route 53 cannot sign): no credentials needed.
    const open = path === '/health' || path === '/api/v1/ping';
    if (!open && wantsSigning(this.#signing, endpoint)) {
      const credentials = await this.#loadCredentials();
      if ('error' in credentials) unsigned = credentials.error;
      else {
        headers = await signRequest(method, new URL(url), headers, body, {
          credentials: async () => credentials,
          region: regionOfHost(endpoint) ?? this.#signingRegion,
        });
      }
    }
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      return connectionFailure(error, this.#timeoutMs);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      return connectionFailure(error, this.#timeoutMs);
    }
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON (a proxy's error page, say): show it as text.
    }
    const region = response.headers.get(REGION_HEADER) ?? regionOfHost(endpoint);
    const date = response.headers.get('date');
    return {
      answer: {
        status: response.status,
        body: parsed,
        endpoint,
        ...(region ? { region } : {}),
        ...(date ? { date } : {}),
        ...(unsigned ? { unsigned } : {}),
      },
    };
  }

  #loadCredentials(): Promise<SigningCredentials | { error: string }> {
    this.#loaded ??= this.#credentials().then(
      (credentials) => credentials,
      (error: unknown) => ({
        error: `no AWS credentials to sign with (${(error as Error).message.split('\n')[0]})`,
      }),
    );
    return this.#loaded;
  }
}

/** What a failed fetch says, in a few words, and whether the request surely never left. */
export function connectionFailure(error: unknown, timeoutMs: number): { error: string; notSent: boolean } {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') {
    return { error: `no answer within ${timeoutMs / 1000} s`, notSent: false };
  }
  const code = e.cause?.code;
  if (code === 'ECONNREFUSED') return { error: 'connection refused', notSent: true };
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET')
    return { error: 'connection reset', notSent: false };
  if (code !== undefined) return { error: code, notSent: NOT_SENT_CODES.has(code) };
  // fetch refuses some URLs before connecting ("bad port": a port browsers block); the socket
  // errors all carry a code, so an error without one never left this process.
  return { error: e.cause?.message ?? e.message, notSent: e.cause !== undefined };
}

function errorCode(body: unknown): string | undefined {
  const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
  return typeof code === 'string' ? code : undefined;
}
