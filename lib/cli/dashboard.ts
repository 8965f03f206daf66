/**
 * `cortex dashboard`: the operations dashboard for a deployed plane. On AWS every `/v1` route is
 * IAM-authorized (SigV4) and a page cannot sign without holding credentials, so this command serves
 * the same page on this machine's loopback and forwards the page's `/v1` calls to the regional APIs,
 * signed with the operator's own credentials (the SDK's default chain); the credentials never leave
 * this process. It moves to the next regional endpoint when the one it uses does not answer (as the
 * CLI does, lib/cli/client.ts) and stays there while it answers, and tells the page in headers which
 * endpoint answered and which failed before it, so the page says when and why it switched.
 *
 * Read-only unless started with `--allow-actions`: only GETs pass, and with the flag the failover
 * start and its approve, decline and abort. The local plane's fault API and event log are not
 * forwarded (a deployed plane has neither): the page hides its fault controls.
 *
 * Only this machine's browser may use it: it listens on a 127.x address only, answers only requests
 * addressed to that host and port (a DNS-rebinding page names another host), sends no CORS header,
 * and refuses a request whose Origin is another origin, so a web page open in the same browser can
 * neither read the plane through it nor act with the operator's credentials.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { REGION_HEADER } from '../app/routes.ts';
import { dashboardFiles, isDashboardPath } from '../local/dashboard-route.ts';
import { createHttpBridge } from '../local/http.ts';
import { closeServer, listen } from '../local/listen.ts';
import {
  asksNextEndpoint,
  connectionFailure,
  regionOfHost,
  type SigningCredentials,
  type SigningMode,
  signRequest,
  wantsSigning,
} from './client.ts';
import { type CliIo, integerOption, parse, UsageError } from './common.ts';
import {
  checkDeployedApiOptions,
  DEPLOYED_API_OPTIONS,
  endpointsFor,
  type ParameterReader,
  readParameter,
} from './doctor.ts';

const DEFAULT_DASHBOARD_PORT = 4700;
const DEFAULT_DASHBOARD_HOST = '127.0.0.1';
/** How long one regional endpoint has to answer before the next is asked. */
const DEFAULT_UPSTREAM_TIMEOUT_MS = 5_000;

/** Headers the page reads: the regional endpoint that answered, and the ones that failed before it. */
export const UPSTREAM_HEADER = 'x-cortex-upstream';
export const UPSTREAM_FAILED_HEADER = 'x-cortex-upstream-failed';

/** The writes `--allow-actions` lets through: each is safe to send to a second region (client.ts). */
const ACTIONS: readonly RegExp[] = [/^\/v1\/failovers$/, /^\/v1\/failovers\/[^/]+\/(approve|decline|abort)$/];

/** The local plane's own routes: no deployed plane serves them, and this proxy never forwards them. */
const LOCAL_ONLY = /^\/v1\/(sim|events)(\/|$)/;

interface Upstream {
  /** The region, when known (host name, SSM, or its `/api/v1/ping`), else the endpoint's host. */
  readonly name: string;
  readonly url: string;
}

interface DashboardProxyOptions {
  readonly upstreams: readonly Upstream[];
  /** Pass failover start, approve, decline and abort. @default false */
  readonly allowActions?: boolean;
  /** @default 'auto': sign every endpoint not on loopback */
  readonly signing?: SigningMode;
  /** The region to sign for when a host names none. @default us-east-1 */
  readonly signingRegion?: string;
  /** @default the SDK's default chain, which caches and refreshes what it finds */
  readonly credentials?: () => Promise<SigningCredentials>;
  readonly timeoutMs?: number;
  /** A 127.x address. @default 127.0.0.1 */
  readonly host?: string;
  /** @default 4700; 0 picks a free port */
  readonly port?: number;
  readonly log?: (line: string) => void;
}

export interface DashboardProxy {
  /** `http://<host>:<port>`: open it in a browser. */
  readonly url: string;
  stop(): Promise<void>;
}

interface Failure {
  readonly name: string;
  readonly why: string;
}

type Result = APIGatewayProxyStructuredResultV2;

/** The proxy's own refusals, in the API's error shape. */
function refuse(statusCode: number, code: string, message: string, details: readonly Failure[] = []): Result {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify({
      error: { code, message, details: details.map((d) => ({ field: d.name, reason: d.why })) },
    }),
  };
}

/** Starts the proxy on a loopback address; refuses any other address before binding. */
export async function startDashboardProxy(options: DashboardProxyOptions): Promise<DashboardProxy> {
  const host = options.host ?? DEFAULT_DASHBOARD_HOST;
  assertLoopbackHost(host);
  if (options.upstreams.length === 0) throw new UsageError('cortex dashboard needs at least one endpoint');
  let self = '';
  const handler = createDashboardProxy(options, () => self);
  const server = createHttpBridge(handler, options.log ? { log: options.log } : {});
  const port = await listen(server, host, options.port ?? DEFAULT_DASHBOARD_PORT, 'cortex dashboard');
  self = `${host}:${port}`;
  return { url: `http://${self}`, stop: () => closeServer(server) };
}

/** 127.x only: a proxy that signs with the operator's credentials must not be reachable from elsewhere. */
function assertLoopbackHost(host: string): void {
  if (!/^127(\.\d{1,3}){3}$/.test(host)) {
    throw new UsageError(
      `--host ${host} is not a loopback address: cortex dashboard signs with your AWS credentials and listens on 127.x only`,
    );
  }
}

/**
 * The proxy as a handler: the page's files at `/` and `/dashboard/*`, `/v1/*` forwarded and signed.
 * `self` is the `host:port` it listens on (known once bound): requests addressed elsewhere are refused.
 */
function createDashboardProxy(
  options: DashboardProxyOptions,
  self: () => string,
): (event: APIGatewayProxyEventV2) => Promise<Result> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
  const allowActions = options.allowActions ?? false;
  const upstreams = options.upstreams;
  const files = dashboardFiles({
    endpoints: () => ({
      gateway: '',
      regions: {},
      proxy: {
        upstreams: upstreams.map((u) => ({ name: u.name, url: u.url })),
        actions: allowActions,
        // Every endpoint may be tried once, plus a margin for the proxy itself.
        timeout_ms: timeoutMs * upstreams.length + 2_000,
      },
    }),
  });
  const forward = forwarder(options, timeoutMs);

  return async (event) => {
    const method = event.requestContext.http.method;
    const path = event.rawPath;
    // DNS rebinding: a page of another site whose name now resolves to 127.0.0.1 still sends its own Host.
    if (event.headers.host !== self()) {
      return refuse(421, 'WRONG_HOST', `this proxy answers requests to ${self()} only`);
    }
    const origin = event.headers.origin;
    if (origin !== undefined && origin !== `http://${self()}`) {
      return refuse(403, 'FOREIGN_ORIGIN', `requests from ${origin} are refused: open http://${self()}/`);
    }
    if ((method === 'GET' || method === 'HEAD') && isDashboardPath(path)) return files(event);
    if (!path.startsWith('/v1/')) return refuse(404, 'NOT_FOUND', `no route ${method} ${path}`);
    if (LOCAL_ONLY.test(path)) {
      return refuse(
        404,
        'NOT_LOCAL',
        `${path.split('/').slice(0, 3).join('/')} is the local plane's (its gateway serves it); a deployed plane has none`,
      );
    }
    if (method !== 'GET') {
      if (method !== 'POST' || !ACTIONS.some((a) => a.test(path))) {
        return refuse(405, 'READ_ONLY', `${method} ${path} is not passed on: this dashboard only reads`);
      }
      if (!allowActions) {
        return refuse(
          403,
          'READ_ONLY',
          `${method} ${path} is not passed on: start cortex dashboard with --allow-actions to start and steer failovers`,
        );
      }
    }
    const query = event.rawQueryString ? `?${event.rawQueryString}` : '';
    const body =
      event.body === undefined
        ? undefined
        : event.isBase64Encoded
          ? Buffer.from(event.body, 'base64').toString('utf8')
          : event.body;
    return forward(method, `${path}${query}`, body);
  };
}

/**
 * Sends a request to the current regional endpoint, and to the next ones while none answers; the
 * one that answers becomes the current one. Each request is signed anew (the chain's credentials
 * refresh themselves), for the region of the endpoint it goes to.
 */
function forwarder(
  options: DashboardProxyOptions,
  timeoutMs: number,
): (method: string, pathAndQuery: string, body: string | undefined) => Promise<Result> {
  const upstreams = options.upstreams;
  const signing = options.signing ?? 'auto';
  const signingRegion = options.signingRegion ?? 'us-east-1';
  let provider = options.credentials;
  const credentials = async () => {
    if (!provider) {
      const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
      provider = defaultProvider();
    }
    return provider();
  };
  let current = 0;

  return async (method, pathAndQuery, body) => {
    const failed: Failure[] = [];
    /** The first answer of a region that did not act: given when no region acts. */
    let refused: Result | undefined;
    for (let step = 0; step < upstreams.length; step += 1) {
      const index = (current + step) % upstreams.length;
      const upstream = upstreams[index] as Upstream;
      const url = new URL(`${upstream.url}${pathAndQuery}`);
      let headers: Record<string, string> = {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      };
      if (wantsSigning(signing, upstream.url)) {
        let found: SigningCredentials;
        try {
          found = await credentials();
        } catch (error) {
          // Not the page's fault nor a region's: say so once, without trying the others.
          return refuse(
            500,
            'NO_CREDENTIALS',
            `cortex dashboard has no AWS credentials to sign with (${(error as Error).message.split('\n')[0]}): set AWS_PROFILE or credentials and restart it`,
          );
        }
        headers = await signRequest(method, url, headers, body, {
          credentials: async () => found,
          region: regionOfHost(upstream.url) ?? signingRegion,
        });
      }
      let response: Response;
      let text: string;
      try {
        response = await fetch(url, {
          method,
          headers,
          ...(body === undefined ? {} : { body }),
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
        text = await response.text();
      } catch (error) {
        failed.push({ name: upstream.name, why: connectionFailure(error, timeoutMs).error });
        continue;
      }
      const code = errorCode(text);
      const answer: Result = {
        statusCode: response.status,
        headers: {
          'content-type': response.headers.get('content-type') ?? 'application/json; charset=utf-8',
          'cache-control': 'no-store',
          [REGION_HEADER]: response.headers.get(REGION_HEADER) ?? regionOfHost(upstream.url) ?? upstream.name,
          [UPSTREAM_HEADER]: upstream.name,
          [UPSTREAM_FAILED_HEADER]: encodeURIComponent(JSON.stringify(failed)),
        },
        body: text,
      };
      // The CLI's rule: a region that refused the request (4xx) is alive and its answer stands.
      if (asksNextEndpoint(method, pathAndQuery.split('?')[0] ?? pathAndQuery, response.status, code)) {
        refused ??= answer;
        failed.push({ name: upstream.name, why: `answered ${response.status}${code ? ` ${code}` : ''}` });
        continue;
      }
      if (index !== current) {
        options.log?.(
          `cortex dashboard: now asking ${upstream.name}; ${failed.map((f) => `${f.name}: ${f.why}`).join('; ')}`,
        );
        current = index;
      }
      return answer;
    }
    const list = failed.map((f) => `${f.name}: ${f.why}`).join('; ');
    if (refused) {
      return {
        ...refused,
        headers: { ...refused.headers, [UPSTREAM_FAILED_HEADER]: encodeURIComponent(JSON.stringify(failed)) },
      };
    }
    const none = refuse(502, 'NO_REGION_ANSWERS', `no regional endpoint answers: ${list}`, failed);
    return {
      ...none,
      headers: { ...none.headers, [UPSTREAM_FAILED_HEADER]: encodeURIComponent(JSON.stringify(failed)) },
    };
  };
}

function errorCode(text: string): string | undefined {
  try {
    const code = (JSON.parse(text) as { error?: { code?: unknown } } | null)?.error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Names each endpoint: the region its host names, else the region its open `GET /api/v1/ping`
 * answers as (the local plane's endpoints), else its host.
 */
export async function nameUpstreams(urls: readonly string[], timeoutMs = 3_000): Promise<Upstream[]> {
  return Promise.all(
    urls.map(async (url) => {
      const named = regionOfHost(url);
      if (named) return { name: named, url };
      try {
        const response = await fetch(`${url}/api/v1/ping`, { signal: AbortSignal.timeout(timeoutMs) });
        const region =
          response.headers.get(REGION_HEADER) ??
          ((await response.json()) as { region?: unknown } | null)?.region;
        if (typeof region === 'string' && region !== '') return { name: region, url };
      } catch {
        // Not answering now: named by its host until it does.
      }
      return { name: new URL(url).host, url };
    }),
  ).then((named) =>
    // Two endpoints of one region (a custom domain and the API's own name) keep apart by their hosts.
    named.map((u) =>
      named.filter((o) => o.name === u.name).length > 1
        ? { ...u, name: `${u.name} (${new URL(u.url).host})` }
        : u,
    ),
  );
}

export async function dashboardCommand(
  args: readonly string[],
  io: CliIo,
  options: { readonly readParameter?: ParameterReader } = {},
): Promise<number> {
  const { values } = parse(args, {
    ...DEPLOYED_API_OPTIONS,
    host: { type: 'string' },
    port: { type: 'string' },
    'allow-actions': { type: 'boolean' },
  });
  const host = (values.host as string | undefined) ?? DEFAULT_DASHBOARD_HOST;
  assertLoopbackHost(host);
  const port = integerOption('port', values.port as string | undefined, 0, 65535) ?? DEFAULT_DASHBOARD_PORT;
  const sign = checkDeployedApiOptions(values);
  const { endpoints, unresolved } = await endpointsFor(values, io, options.readParameter ?? readParameter);
  for (const u of unresolved) io.err(`cortex dashboard: ${u.region}: ${u.problem}`);
  if (endpoints.length === 0) {
    io.err('cortex dashboard: no endpoint to ask');
    return 1;
  }
  const signingRegion =
    (values.region as string | undefined) ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
  const upstreams = await nameUpstreams(endpoints);
  const proxy = await startDashboardProxy({
    upstreams,
    allowActions: values['allow-actions'] === true,
    signing: sign,
    ...(signingRegion ? { signingRegion } : {}),
    host,
    port,
    log: (line) => io.err(line),
  });
  io.out(`cortex dashboard: open ${proxy.url}/`);
  io.out(
    `  asks ${upstreams.map((u) => `${u.name} (${u.url})`).join(', ')}, in that order, moving on when one does not answer`,
  );
  io.out(
    values['allow-actions']
      ? '  failover start, approve, decline and abort are passed on (--allow-actions); nothing else is written'
      : '  read-only: only GETs are passed on (--allow-actions passes failover start, approve, decline, abort)',
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await proxy.stop();
  return 0;
}
