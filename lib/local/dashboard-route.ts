/**
 * The operations dashboard's route on the local gateway and on every region's endpoint: the page at
 * `/`, its files at `/dashboard/<file>` (the `dashboard/` folder: plain ES modules, HTML and CSS, no
 * build step), and `/dashboard/endpoints.json`, which tells the page every endpoint it may ask.
 *
 * The page talks to one region's endpoint and moves to another when that one stops answering, so it
 * calls origins other than its own: this route answers loopback origins' CORS preflights and marks
 * every answer to a loopback origin as readable by it. Only loopback origins: the local plane has no
 * authentication, and a web page from anywhere else open in the same browser must not be able to
 * inject faults or start failovers here (cross-site request forgery).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { REGION_HEADER } from '../app/routes.ts';
import type { ApiHandler } from './http.ts';

/** Where the page finds the gateway (faults, events, layout) and each region's own endpoint. */
interface DashboardEndpoints {
  readonly gateway: string;
  readonly regions: Readonly<Record<string, { readonly url: string }>>;
  /**
   * Set by `cortex dashboard` (lib/cli/dashboard.ts), which serves the page and signs its calls: the
   * page then calls its own origin only, and these are the regional endpoints behind it, whether the
   * page may start and steer failovers, and how long the proxy may take to try them all.
   */
  readonly proxy?: {
    readonly upstreams: readonly { readonly name: string; readonly url: string }[];
    readonly actions: boolean;
    readonly timeout_ms: number;
  };
}

interface DashboardOptions {
  /** Read when the page asks: the gateway's URL is known only once it listens. */
  readonly endpoints: () => DashboardEndpoints;
  /** The folder served; default the repository's `dashboard/`. */
  readonly dir?: URL;
}

const DASHBOARD_DIR = new URL('../../dashboard/', import.meta.url);
const ASSET_PREFIX = '/dashboard/';
const ENDPOINTS_PATH = '/dashboard/endpoints.json';

const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
};

/** A file name the route serves: no folders, no dot files, a known type (nothing else can be asked for). */
const SERVABLE = /^[a-z0-9][a-z0-9-]*\.(html|js|css|svg)$/;

/** `http://127.x.y.z[:port]`, `http://localhost[:port]`, `http://[::1][:port]`. */
const LOOPBACK_ORIGIN = /^http:\/\/(127(\.\d{1,3}){3}|localhost|\[::1\])(:\d{1,5})?$/;

/** True for the page's own paths: the gateway serves them whatever its region's faults (like `/v1/sim`). */
export function isDashboardPath(path: string): boolean {
  return path === '/' || path === '/index.html' || path.startsWith(ASSET_PREFIX);
}

/** The same test on a raw request URL (the gateway's fault interception sees only the request line). */
export function isDashboardUrl(url: string | undefined): boolean {
  const raw = url ?? '/';
  const mark = raw.indexOf('?');
  return isDashboardPath(mark === -1 ? raw : raw.slice(0, mark));
}

interface Asset {
  readonly type: string;
  readonly body: Buffer;
  /** Sent when the client accepts gzip: the page's size on the wire. */
  readonly gzipped: Buffer;
}

/** The folder's servable files, read and compressed once (a few tens of KB). */
function loadAssets(dir: URL): ReadonlyMap<string, Asset> {
  const assets = new Map<string, Asset>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    // A checkout without the dashboard still serves the API; `/` answers 404.
    return assets;
  }
  for (const name of names) {
    if (!SERVABLE.test(name)) continue;
    const body = readFileSync(new URL(name, dir));
    const type = TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
    assets.set(name, { type, body, gzipped: gzipSync(body, { level: 9 }) });
  }
  return assets;
}

/**
 * Wraps an endpoint's API: the dashboard's paths answered here, loopback origins' preflights
 * answered, and CORS headers added to every other answer for a loopback origin.
 */
export function withDashboard(api: ApiHandler, options: DashboardOptions): ApiHandler {
  const files = dashboardFiles(options);
  return async (event) => {
    const method = event.requestContext.http.method;
    const origin = loopbackOrigin(event);
    if (method === 'OPTIONS' && origin !== undefined) return preflight(origin);
    if ((method === 'GET' || method === 'HEAD') && isDashboardPath(event.rawPath)) {
      return withCors(files(event), origin);
    }
    return withCors(await api(event), origin);
  };
}

/**
 * The page's files and its endpoints file, for a GET or HEAD of a dashboard path (isDashboardPath);
 * the folder is read and compressed on the first request.
 */
export function dashboardFiles(
  options: DashboardOptions,
): (event: APIGatewayProxyEventV2) => APIGatewayProxyStructuredResultV2 {
  let assets: ReadonlyMap<string, Asset> | undefined;
  return (event) => {
    assets ??= loadAssets(options.dir ?? DASHBOARD_DIR);
    return serveDashboard(event, assets, options);
  };
}

function loopbackOrigin(event: APIGatewayProxyEventV2): string | undefined {
  const origin = event.headers.origin;
  return origin !== undefined && LOOPBACK_ORIGIN.test(origin) ? origin : undefined;
}

function preflight(origin: string): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: 204,
    headers: {
      'access-control-allow-origin': origin,
      'access-control-allow-methods': 'GET, POST, PUT, DELETE',
      'access-control-allow-headers': 'content-type',
      'access-control-max-age': '600',
      vary: 'origin',
    },
    body: '',
  };
}

function withCors(
  result: APIGatewayProxyStructuredResultV2,
  origin: string | undefined,
): APIGatewayProxyStructuredResultV2 {
  if (origin === undefined) return result;
  return {
    ...result,
    headers: {
      ...result.headers,
      'access-control-allow-origin': origin,
      // The page says which region answered.
      'access-control-expose-headers': REGION_HEADER,
      vary: 'origin',
    },
  };
}

function serveDashboard(
  event: APIGatewayProxyEventV2,
  assets: ReadonlyMap<string, Asset>,
  options: DashboardOptions,
): APIGatewayProxyStructuredResultV2 {
  const path = event.rawPath;
  if (path === ENDPOINTS_PATH) {
    const endpoints = options.endpoints();
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
      body: JSON.stringify({
        gateway: endpoints.gateway,
        regions: Object.fromEntries(Object.entries(endpoints.regions).map(([id, r]) => [id, r.url])),
        ...(endpoints.proxy ? { proxy: endpoints.proxy } : {}),
      }),
    };
  }
  const name = path === '/' || path === '/index.html' ? 'index.html' : path.slice(ASSET_PREFIX.length);
  const asset = SERVABLE.test(name) ? assets.get(name) : undefined;
  if (!asset) {
    return {
      statusCode: 404,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({
        error: { code: 'NOT_FOUND', message: `no dashboard file ${path}`, details: [] },
      }),
    };
  }
  const gzip = /\bgzip\b/.test(event.headers['accept-encoding'] ?? '');
  const body = gzip ? asset.gzipped : asset.body;
  const headers: Record<string, string> = {
    'content-type': asset.type,
    // Small files, edited while a plane runs: always asked again (no stale page after an upgrade).
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    vary: 'accept-encoding',
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
  };
  if (name === 'index.html') {
    // Scripts and styles from this origin only; calls to the plane's own endpoints only.
    headers['content-security-policy'] = contentSecurityPolicy(options.endpoints());
    headers['referrer-policy'] = 'no-referrer';
  }
  return {
    statusCode: 200,
    headers,
    body: event.requestContext.http.method === 'HEAD' ? '' : body.toString('base64'),
    isBase64Encoded: true,
  };
}

function contentSecurityPolicy(endpoints: DashboardEndpoints): string {
  const origins = new Set(
    [endpoints.gateway, ...Object.values(endpoints.regions).map((r) => r.url)]
      .filter((url) => url !== '')
      .map((url) => new URL(url).origin),
  );
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    ['connect-src', "'self'", ...origins].join(' '),
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
