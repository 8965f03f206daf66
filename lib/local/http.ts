/**
 * The local stand-in for API Gateway: a node:http server that turns each request into an HTTP API
 * payload 2.0 event, calls the handler, and writes its structured result back.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { MAX_BODY_BYTES } from '../../functions/shared/http.ts';

export type ApiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export interface HttpBridgeOptions {
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
}

export type RequestInterception = 'reset' | APIGatewayProxyStructuredResultV2 | undefined;

const INTERNAL_ERROR = JSON.stringify({ error: { code: 'INTERNAL', message: 'internal error' } });

export function createHttpBridge(handler: ApiHandler, options: HttpBridgeOptions = {}): Server {
  const readLimit = (options.maxBodyBytes ?? MAX_BODY_BYTES) + 1;
  const log = options.log ?? (() => undefined);
  const intercept = options.intercept;
  return createServer((req, res) => {
    if (!intercept) {
      void serve(req, res, handler, readLimit, log);
      return;
    }
    void intercepted(req, res, intercept, log).then((goOn) => {
      if (goOn) return serve(req, res, handler, readLimit, log);
    });
  });
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
    log(`request interception failed on ${req.method} ${req.url}: ${String(error)}`);
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
  readLimit: number,
  log: (line: string) => void,
): Promise<void> {
  let body: { text: string | undefined; truncated: boolean };
  try {
    body = await readBody(req, readLimit);
  } catch {
    // The client went away mid-body: nobody is left to answer.
    res.destroy();
    return;
  }
  // The rest of an oversized body is never read: close the connection after answering.
  if (body.truncated) res.setHeader('connection', 'close');
  const event = toEvent(req, body.text);
  let result: APIGatewayProxyStructuredResultV2;
  try {
    result = await handler(event);
  } catch (error) {
    log(`unhandled error on ${event.requestContext.http.method} ${event.rawPath}: ${String(error)}`);
    result = {
      statusCode: 500,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: INTERNAL_ERROR,
    };
  }
  write(res, result);
}

/** Reads at most `limit` bytes; the rest of a larger body is discarded as it arrives, not kept. */
function readBody(
  req: IncomingMessage,
  limit: number,
): Promise<{ text: string | undefined; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (truncated: boolean) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (truncated) {
        req.on('error', () => undefined);
        req.resume();
      }
      resolve({ text: size === 0 ? undefined : Buffer.concat(chunks, size).toString('utf8'), truncated });
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

function toEvent(req: IncomingMessage, body: string | undefined): APIGatewayProxyEventV2 {
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
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: false,
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
    res.statusCode = 500;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(INTERNAL_ERROR);
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
