/**
 * The local stand-in for API Gateway: a node:http server that turns each request into an HTTP API
 * payload 2.0 event, calls the handler, and writes its structured result back.
 *
 * Hostile clients get what API Gateway gives them, and every refusal is an API error body
 * (`{error:{code,message,details}}`): a body over the limit is a 413 sent as soon as the limit is
 * known to be passed (from Content-Length before any byte is read, else when the limit is crossed),
 * and the rest of the body is discarded (up to API Gateway's 10 MB, so the client reads the answer
 * instead of a reset); bytes that are not UTF-8 reach the handler base64-encoded, for it to refuse;
 * Node's own rejections (headers too large 431, bad framing 400, a timeout 408) are answered by the
 * 'clientError' handler; a client that sends its headers or its body too slowly is cut off
 * (headersTimeout, requestTimeout), as API Gateway ends a request after its 30 s integration timeout.
 */
import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { Socket } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { internalError, MAX_BODY_BYTES, toHttpError } from '../../functions/shared/http.ts';
import { PayloadTooLargeError } from '../app/errors.ts';

export type ApiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

interface HttpBridgeOptions {
  /**
   * Bytes of body handed to the handler at most; one more is read so the handler can tell the body
   * was too large (it answers 413) without this server buffering an unbounded body.
   */
  readonly maxBodyBytes?: number;
  readonly log?: (line: string) => void;
  /**
   * Runs before each request is read (fault injection): `reset` destroys the connection without an
   * answer, a result is sent as the answer instead of calling the handler, undefined goes on. It may
   * wait first (a slow endpoint).
   */
  readonly intercept?: (req: IncomingMessage) => Promise<RequestInterception>;
  /** Time a client has to send its request line and headers; default 10 s. */
  readonly headersTimeoutMs?: number;
  /** Time a client has to send its whole request, body included; default 30 s (API Gateway's limit). */
  readonly requestTimeoutMs?: number;
}

export type RequestInterception = 'reset' | APIGatewayProxyStructuredResultV2 | undefined;

/** What is read and thrown away after a 413 before the connection is cut: API Gateway's own limit. */
const DISCARD_LIMIT_BYTES = 10 * 1024 * 1024;
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export function createHttpBridge(handler: ApiHandler, options: HttpBridgeOptions = {}): Server {
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const log = options.log ?? (() => undefined);
  const intercept = options.intercept;
  const headersTimeout = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const requestTimeout = Math.max(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, headersTimeout);
  const server = createServer(
    {
      headersTimeout,
      requestTimeout,
      // How often Node looks for connections past those timeouts (default 30 s: far too coarse).
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, headersTimeout / 4)),
      // Node's default: an idle keep-alive connection is closed after 5 s.
      keepAliveTimeout: 5_000,
    },
    (req, res) => {
      const handle = () => {
        const declared = Number(req.headers['content-length'] ?? Number.NaN);
        // Refused before a byte of the body is read.
        if (Number.isFinite(declared) && declared > maxBodyBytes) tooLarge(req, res, maxBodyBytes);
        else void serve(req, res, handler, maxBodyBytes, log);
      };
      if (!intercept) {
        handle();
        return;
      }
      // Faults first: a region that is down resets the connection whatever the request.
      void intercepted(req, res, intercept, log).then((goOn) => {
        if (goOn) handle();
      });
    },
  );
  // `Expect: 100-continue`: a body that will be refused is never asked for.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const declared = Number(req.headers['content-length'] ?? Number.NaN);
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      tooLarge(req, res, maxBodyBytes);
      return;
    }
    res.writeContinue();
    server.emit('request', req, res);
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) =>
    answerClientError(error, socket),
  );
  return server;
}

/** 413 with the error body; the rest of the body is read and thrown away (bounded), then the connection closes. */
function tooLarge(req: IncomingMessage, res: ServerResponse, limit: number): void {
  discardRest(req);
  res.setHeader('connection', 'close');
  write(res, toHttpError(new PayloadTooLargeError(limit)));
}

/**
 * Reads what is left of a refused body without keeping it, so the client, still sending, reads the
 * answer instead of a connection reset; past API Gateway's 10 MB the connection is cut.
 */
function discardRest(req: IncomingMessage): void {
  let discarded = 0;
  req.on('error', () => undefined);
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > DISCARD_LIMIT_BYTES) req.socket.destroy();
  });
  req.resume();
}

/** Node's own HTTP error codes -> the status API Gateway would answer. */
function clientErrorStatus(error: NodeJS.ErrnoException): number {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return 431;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 408;
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 413;
    default:
      return 400;
  }
}

/**
 * Node rejects some requests before there is a request object (headers too large, bad framing, a
 * timeout): the answer is written to the socket directly, with the API's error body. A socket that
 * already carries an answer, or cannot be written, is just closed.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  // Node's own bookkeeping: an answer already started on this connection must not be interleaved.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const status = clientErrorStatus(error);
  const body = JSON.stringify({
    error: {
      code: status === 431 ? 'HEADERS_TOO_LARGE' : status === 408 ? 'REQUEST_TIMEOUT' : 'BAD_REQUEST',
      message:
        status === 431
          ? 'request headers are too large'
          : status === 408
            ? 'the request was not received in time'
            : 'malformed HTTP request',
      details: [{ field: '(request)', reason: String(error.code ?? error.message) }],
    },
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'connection: close\r\n\r\n' +
      body,
  );
}

/** Applies the interception; true when the request should go on to the handler. */
async function intercepted(
  req: IncomingMessage,
  res: ServerResponse,
  intercept: NonNullable<HttpBridgeOptions['intercept']>,
  log: (line: string) => void,
): Promise<boolean> {
  let outcome: RequestInterception;
  try {
    outcome = await intercept(req);
  } catch (error) {
    log(`request interception failed on ${req.method} ${req.url}: ${withStack(error)}`);
    return true;
  }
  if (outcome === undefined) return true;
  if (outcome === 'reset') {
    // A region that is down: the connection dies without an answer (ECONNRESET at the caller).
    req.socket.resetAndDestroy();
    return false;
  }
  // The body is never read: close the connection after answering.
  res.setHeader('connection', 'close');
  req.on('error', () => undefined);
  req.resume();
  write(res, outcome);
  return false;
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  handler: ApiHandler,
  maxBodyBytes: number,
  log: (line: string) => void,
): Promise<void> {
  let body: { bytes: Buffer | undefined; truncated: boolean };
  try {
    body = await readBody(req, maxBodyBytes + 1);
  } catch {
    // The client went away mid-body: nobody is left to answer.
    res.destroy();
    return;
  }
  if (body.truncated) {
    // A body without Content-Length (chunked) crossed the limit: answered now, the rest thrown away.
    tooLarge(req, res, maxBodyBytes);
    return;
  }
  const event = toEvent(req, body.bytes);
  let result: APIGatewayProxyStructuredResultV2;
  try {
    result = await handler(event);
  } catch (error) {
    log(`unhandled error on ${event.requestContext.http.method} ${event.rawPath}: ${withStack(error)}`);
    // Whatever escapes a handler is a plain 500, as a Lambda function's uncaught error is on AWS.
    result = internalError();
  }
  write(res, result);
}

/** An error as an operator needs it in a log line: its stack (name, message and where), else its text. */
function withStack(error: unknown): string {
  return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
}

/** Reads at most `limit` bytes; a larger body is left to the caller (truncated), not kept. */
function readBody(
  req: IncomingMessage,
  limit: number,
): Promise<{ bytes: Buffer | undefined; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (truncated: boolean) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      resolve({ bytes: size === 0 ? undefined : Buffer.concat(chunks, size), truncated });
    };
    const onData = (chunk: Buffer) => {
      const room = limit - size;
      if (chunk.length < room) {
        chunks.push(chunk);
        size += chunk.length;
        return;
      }
      chunks.push(chunk.subarray(0, room));
      size += room;
      finish(chunk.length > room || !req.complete);
    };
    const onEnd = () => finish(false);
    const onError = (error: Error) => reject(error);
    const onClose = () => {
      if (!req.complete) reject(new Error('request aborted'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The body as API Gateway passes it: text when it is UTF-8, otherwise base64 (isBase64Encoded). */
function bodyOf(bytes: Buffer | undefined): { body?: string; isBase64Encoded: boolean } {
  if (bytes === undefined) return { isBase64Encoded: false };
  try {
    return { body: UTF8.decode(bytes), isBase64Encoded: false };
  } catch {
    return { body: bytes.toString('base64'), isBase64Encoded: true };
  }
}

function toEvent(req: IncomingMessage, bytes: Buffer | undefined): APIGatewayProxyEventV2 {
  const url = req.url ?? '/';
  const mark = url.indexOf('?');
  const rawPath = mark === -1 ? url : url.slice(0, mark);
  const rawQueryString = mark === -1 ? '' : url.slice(mark + 1);

  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (name === 'cookie') {
      // Payload 2.0 moves cookies out of the headers into their own list.
      cookies = (Array.isArray(value) ? value.join('; ') : value).split(/;\s*/).filter((c) => c !== '');
      continue;
    }
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }

  let queryStringParameters: Record<string, string> | undefined;
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    queryStringParameters ??= {};
    // API Gateway joins repeated parameters with commas.
    const seen = queryStringParameters[name];
    queryStringParameters[name] = seen === undefined ? value : `${seen},${value}`;
  }

  const now = new Date();
  const requestId = randomUUID();
  const domainName = headers.host ?? `${req.socket.localAddress ?? '127.0.0.1'}:${req.socket.localPort ?? 0}`;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'cortex-local',
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method: (req.method ?? 'GET').toUpperCase(),
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: '$default',
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now.getTime(),
    },
    ...bodyOf(bytes),
  };
}

function write(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  if (res.headersSent || res.destroyed) return;
  try {
    const status = result.statusCode ?? 200;
    if (!Number.isInteger(status) || status < 100 || status > 599) throw new RangeError(`status ${status}`);
    res.statusCode = status;
    for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, String(value));
    if (result.cookies && result.cookies.length > 0) res.setHeader('set-cookie', result.cookies);
    const body = result.body ?? '';
    res.end(result.isBase64Encoded ? Buffer.from(body, 'base64') : body);
  } catch {
    // A result node cannot send (bad status code, header name or value): the handler's bug, a plain 500.
    if (res.headersSent) return;
    for (const name of res.getHeaderNames()) if (name !== 'connection') res.removeHeader(name);
    const internal = internalError();
    res.statusCode = internal.statusCode ?? 500;
    for (const [name, value] of Object.entries(internal.headers ?? {})) res.setHeader(name, String(value));
    res.end(internal.body);
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** API Gateway's `requestContext.time`: `26/Nov/2026:12:00:00 +0000`. */
function clfTime(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${two(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`
  );
}
