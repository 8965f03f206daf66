/**
 * The HTTP edge shared by every handler: the dispatch of a concern's routes (derived from the route
 * table, lib/app/routes.ts), body limits, JSON parsing, strict request schemas, and the one place
 * where errors become status codes (STYLE 6). Handlers stay parse -> use case -> respond.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod/mini';
import {
  ConflictError,
  CoordinatorUnreachableError,
  CortexError,
  type FieldIssue,
  NoEligibleRegionError,
  NotFoundError,
  PayloadTooLargeError,
  RegionNotServingError,
  RightNotGrantedError,
  StateUnavailableError,
  schemaIssues,
  TopologyError,
  ValidationError,
  type ZodIssueLike,
  zodReason,
} from '../../lib/app/errors.ts';
import type { PathParameterSpec, RequestInput, RequestSpec } from '../../lib/app/request-spec.ts';
import type {
  Concern,
  PathParameterOf,
  RequestKeyOf,
  RequestSpecOf,
  RouteKey,
  RouteKeyOf,
} from '../../lib/app/routes.ts';
import { JsonSyntaxError, MAX_JSON_DEPTH, parseStrictJson } from './strict-json.ts';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

/** API Gateway allows 10 MB; tasks are small, so anything over 64 KiB is a client mistake. */
export const MAX_BODY_BYTES = 64 * 1024;

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

/**
 * A JSON answer. An error answer (4xx/5xx with an `error` object) always has the whole error shape:
 * `details` is added (empty) where the error had none, so clients never test for its presence.
 */
export function json(statusCode: number, body: unknown): HttpResult {
  return { statusCode, headers: JSON_HEADERS, body: JSON.stringify(completeError(statusCode, body)) };
}

function completeError(statusCode: number, body: unknown): unknown {
  if (statusCode < 400 || typeof body !== 'object' || body === null) return body;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null || Array.isArray(error)) return body;
  if (Array.isArray((error as { details?: unknown }).details)) return body;
  return { ...body, error: { ...error, details: [] } };
}

interface ErrorBody {
  error: { code: string; message: string; details?: readonly FieldIssue[]; [extra: string]: unknown };
  [extra: string]: unknown;
}

function errorResponse(statusCode: number, body: ErrorBody): HttpResult {
  return json(statusCode, body);
}

/** No route of the table matches the request (404), or a handler got a route key it does not serve. */
export class RouteNotFoundError extends CortexError {
  readonly code = 'NOT_FOUND';
}

/** The request's path is a route of the table, but for other methods (405). */
export class MethodNotAllowedError extends CortexError {
  readonly code = 'METHOD_NOT_ALLOWED';
}

/** Maps an error to its HTTP answer; unknown errors become a plain 500 without internals. */
export function toHttpError(error: unknown): HttpResult {
  if (
    error instanceof ValidationError ||
    error instanceof TopologyError ||
    error instanceof RightNotGrantedError
  ) {
    // A right the jurisdiction does not grant is well-formed input the policy refuses: 422, like a topology.
    const status = error instanceof ValidationError ? 400 : 422;
    return errorResponse(status, {
      error: { code: error.code, message: error.message, details: error.details },
    });
  }
  if (error instanceof PayloadTooLargeError) {
    return errorResponse(413, {
      error: {
        code: error.code,
        message: error.message,
        details: [{ field: '(body)', reason: `larger than ${error.limit} bytes` }],
        limit_bytes: error.limit,
      },
    });
  }
  if (error instanceof NotFoundError || error instanceof RouteNotFoundError) {
    return errorResponse(404, { error: { code: error.code, message: error.message } });
  }
  if (error instanceof MethodNotAllowedError) {
    return errorResponse(405, { error: { code: error.code, message: error.message } });
  }
  if (error instanceof ConflictError) {
    return errorResponse(409, { error: { code: error.code, message: error.message } });
  }
  if (error instanceof NoEligibleRegionError) {
    return errorResponse(422, {
      error: { code: error.code, message: error.message },
      excluded: error.excluded,
    });
  }
  if (error instanceof RegionNotServingError) {
    return errorResponse(503, {
      error: { code: error.code, message: error.message, region: error.region, status: error.status },
    });
  }
  if (error instanceof StateUnavailableError) {
    return errorResponse(503, {
      error: { code: error.code, message: error.message, region: error.region, table: error.table },
    });
  }
  if (error instanceof CoordinatorUnreachableError) {
    return errorResponse(503, {
      error: {
        code: error.code,
        message: error.message,
        failover_id: error.failoverId,
        coordinator: error.coordinator,
        region: error.region,
      },
    });
  }
  if (error instanceof CortexError) {
    return errorResponse(500, { error: { code: error.code, message: error.message } });
  }
  return internalError();
}

/** The answer to an error nobody can explain: a plain 500 that reveals nothing of it. */
export function internalError(): HttpResult {
  return errorResponse(500, { error: { code: 'INTERNAL', message: 'internal error' } });
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Reads the raw body as text, enforcing the size limit before anything is parsed. A base64 body
 * (API Gateway's for bytes it does not pass as text; the local bridge's for bytes that are not
 * UTF-8) must decode as UTF-8, or it is a 400: a replacement character would silently change data.
 */
export function bodyText(event: HttpEvent, maxBytes = MAX_BODY_BYTES): string | undefined {
  if (event.body === undefined || event.body === null) return undefined;
  if (event.isBase64Encoded) {
    const bytes = Buffer.from(event.body, 'base64');
    if (bytes.length > maxBytes) throw new PayloadTooLargeError(maxBytes);
    try {
      return UTF8.decode(bytes);
    } catch {
      throw new ValidationError('request body is not valid UTF-8', [
        { field: '(body)', reason: 'bytes that are not UTF-8' },
      ]);
    }
  }
  if (Buffer.byteLength(event.body, 'utf8') > maxBytes) throw new PayloadTooLargeError(maxBytes);
  return event.body;
}

/** An optional JSON body: absent or empty is `{}`, anything else as parseJsonBody. */
function optionalJsonBody(event: HttpEvent, maxBytes = MAX_BODY_BYTES): unknown {
  const text = bodyText(event, maxBytes);
  return text === undefined || text.trim() === '' ? {} : parseJsonBody(event, maxBytes);
}

/**
 * A path parameter checked as its spec says; otherwise a 400 `invalid <what>` naming `field`
 * ("<value>" is not <example>).
 */
function checkedParameter(value: string, spec: PathParameterSpec): string {
  if (spec.pattern && !spec.pattern.test(value)) {
    throw new ValidationError(`invalid ${spec.what ?? spec.field}`, [
      { field: spec.field, reason: `"${value}" is not ${spec.example}` },
    ]);
  }
  return value;
}

/**
 * A route's request as its spec declares it, parsed in the order a caller reads a request: path
 * parameters, query, body. The first part at fault is the 400.
 */
function parseRequest<S extends RequestSpec>(event: HttpEvent, spec: S): RequestInput<S> {
  const parameters = event.pathParameters ?? {};
  const path =
    spec.path === undefined
      ? undefined
      : Object.fromEntries(
          Object.entries(spec.path).map(([name, check]) => [
            name,
            checkedParameter(parameters[name] ?? '', check),
          ]),
        );
  const query =
    spec.query === undefined ? undefined : parseWith(spec.query, event.queryStringParameters ?? {}, 'query');
  const body =
    spec.body === undefined
      ? undefined
      : parseWith(
          spec.body.schema,
          spec.body.optional ? optionalJsonBody(event) : parseJsonBody(event),
          spec.body.what,
        );
  // Each part as the spec's types say: the schemas and checks above produced exactly them.
  return { path, query, body } as RequestInput<S>;
}

/** Parses a JSON body; malformed JSON is a 400 naming the position. A missing body is `undefined`. */
export function parseJsonBody(event: HttpEvent, maxBytes = MAX_BODY_BYTES): unknown {
  const text = bodyText(event, maxBytes);
  if (text === undefined || text.trim() === '') {
    throw new ValidationError('request body is required', [{ field: '(body)', reason: 'missing JSON body' }]);
  }
  const type = event.headers?.['content-type'] ?? event.headers?.['Content-Type'];
  if (type !== undefined && !/^application\/(.+\+)?json\b/i.test(type)) {
    throw new ValidationError('request body must be JSON', [
      { field: '(content-type)', reason: `expected application/json, got ${type.slice(0, 100)}` },
    ]);
  }
  const charset = type === undefined ? undefined : /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(type)?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    throw new ValidationError('request body must be UTF-8', [
      { field: '(content-type)', reason: `charset ${charset.slice(0, 40)} is not utf-8` },
    ]);
  }
  try {
    return parseStrictJson(text);
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    throw new ValidationError('request body is not valid JSON', [
      {
        field: '(body)',
        reason: `${error.message} (duplicate keys, numbers beyond a double and nesting beyond ${MAX_JSON_DEPTH} levels are refused)`,
      },
    ]);
  }
}

/** Validates with a strict zod/mini schema; every issue names its field and says why. */
export function parseWith<S extends z.ZodMiniType>(
  schema: S,
  input: unknown,
  what: string,
  /** How the issues name the whole input. */
  root = '(body)',
): z.infer<S> {
  const result = schema.safeParse(input, { error: (issue) => zodReason(issue as ZodIssueLike) });
  if (result.success) return result.data as z.infer<S>;
  throw new ValidationError(
    `invalid ${what}`,
    schemaIssues(result.error.issues as readonly ZodIssueLike[], root),
  );
}

/** A list's `limit` query parameter (already a whole number by its schema): 1 to 500, or a 400. */
export function listLimit(raw: string | undefined): number | undefined {
  const limit = raw === undefined ? undefined : Number(raw);
  if (limit !== undefined && (limit < 1 || limit > 500)) {
    throw new ValidationError('invalid query', [{ field: 'limit', reason: 'must be from 1 to 500' }]);
  }
  return limit;
}

/** A scheduled function's input: no event (undefined, null or '') is `{}`. */
export function scheduledEvent(event: unknown): unknown {
  return event === undefined || event === null || event === '' ? {} : event;
}

/**
 * The event a route's entry gets: API Gateway (or the local router) matched it to the route `K`, so
 * its path parameters are the ones `K`'s template names (reading another one does not compile).
 */
type RoutedEvent<K extends RouteKey> = Omit<HttpEvent, 'routeKey' | 'pathParameters'> & {
  readonly routeKey: K;
  readonly pathParameters?: { readonly [N in PathParameterOf<K>]?: string };
};

/** Serves the route `K`, given its request as the table declares it (lib/app/routes.ts). */
type RouteServe<K extends RouteKey> = (
  event: RoutedEvent<K>,
  request: RequestInput<RequestSpecOf<K>>,
) => Promise<HttpResult>;

/** A concern's dispatch: one entry per route key the table gives the concern, and no other. */
type ConcernRoutes<C extends Concern> = { readonly [K in RouteKeyOf<C>]: RouteServe<K> };

/** The request specs of a concern's routes that declare one, exactly as the table names them. */
type ConcernRequests<C extends Concern> = { readonly [K in RequestKeyOf<C>]: RequestSpecOf<K> };

const NO_INPUT = Object.freeze({ path: undefined, query: undefined, body: undefined });

/** A concern's HTTP handler, with the route keys it dispatches. */
export type ConcernHandler<C extends Concern> = middy.MiddyfiedHandler<HttpEvent, HttpResult> & {
  readonly concern: C;
  readonly routeKeys: readonly RouteKeyOf<C>[];
};

/**
 * A concern's handler: the error boundary, then the route the event's `routeKey` names. The keys are
 * the table's for `concern` (a missing or extra one does not compile); a key the handler does not
 * serve is a 404, as API Gateway would answer a route that does not exist.
 */
export function httpHandler<C extends Concern>(
  concern: C,
  log: ((message: string, error: unknown) => void) | undefined,
  routes: ConcernRoutes<C>,
  // The table's request specs of the concern (none: no argument); a concern's module passes its own
  // (lib/app/requests/<concern>.ts), so a bundle holds only its own concern's schemas.
  ...requests: [RequestKeyOf<C>] extends [never] ? [] : [ConcernRequests<C>]
): ConcernHandler<C> {
  // Keyed by the route keys the type above checked: the event is dispatched on the key it carries.
  const serve = new Map<string, (event: HttpEvent, request: unknown) => Promise<HttpResult>>(
    Object.entries(routes),
  );
  const specs = new Map<string, RequestSpec>(Object.entries(requests[0] ?? {}));
  const handler = middy<HttpEvent, HttpResult>()
    .use(httpErrorBoundary(log))
    .handler(async (event) => {
      const route = serve.get(event.routeKey);
      if (!route) throw new RouteNotFoundError(`no route ${event.routeKey}`);
      const spec = specs.get(event.routeKey);
      return route(event, spec === undefined ? NO_INPUT : parseRequest(event, spec));
    });
  return Object.assign(handler, {
    concern,
    routeKeys: Object.freeze([...serve.keys()]) as readonly RouteKeyOf<C>[],
  });
}

/**
 * The error boundary: the last middleware, so anything thrown by parsing or the use case becomes
 * one error shape. Only unknown errors are logged, without the request body.
 */
function httpErrorBoundary(
  log: (message: string, error: unknown) => void = defaultLog,
): middy.MiddlewareObj<HttpEvent, HttpResult> {
  return {
    onError: async (request) => {
      const error = request.error;
      const response = toHttpError(error);
      if (!(error instanceof CortexError) || response.statusCode === 500) {
        log(`unhandled error on ${request.event.routeKey ?? request.event.rawPath}`, error);
      }
      request.response = response;
    },
  };
}

let fallbackLogger: Logger | undefined;

/**
 * Without an injected log: one structured line through Powertools Logger, the error with its name,
 * message and stack. The Lambda root injects its own (with the invocation's correlation keys,
 * lib/runtime/log.ts); the local runtime injects plain lines.
 */
function defaultLog(message: string, error: unknown): void {
  fallbackLogger ??= new Logger({ serviceName: 'cortex' });
  if (error instanceof Error) fallbackLogger.error(message, error);
  else fallbackLogger.error(message, { error: String(error) });
}
