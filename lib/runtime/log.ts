/**
 * Structured logs on Lambda through Powertools Logger: one JSON object per line with the level, the
 * function's request id and cold start, the X-Ray trace id, and the correlation keys of what the
 * invocation is about (`task_id`, `failover_id`, `handoff_id`) so one query follows a task or a
 * failover across functions and regions. The local plane keeps its plain lines (lib/runtime/local.ts).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type middy from '@middy/core';
import type { Context } from 'aws-lambda';

/** The keys that follow one task, failover or handoff through every function's logs. */
type CorrelationKeys = Partial<Record<'task_id' | 'failover_id' | 'handoff_id', string>>;

/** A correlation id as the API and the workflow write them; anything else is not copied into logs. */
const ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Bodies above this are not read for a task id (the HTTP edge refuses them anyway). */
const MAX_BODY_CHARS = 64 * 1024;

/**
 * The correlation keys an event carries: a failover task's `failover_id` (the workflow's input), the
 * `{id}` of `/v1/failovers/{id}...`, the `{handoff_id}` of `/v1/handoffs/{handoff_id}`, and the
 * `task_id` of a route request's JSON body. Malformed values are left out.
 */
export function correlationKeys(event: unknown): CorrelationKeys {
  if (typeof event !== 'object' || event === null) return {};
  const keys: Record<string, string> = {};
  const put = (name: keyof CorrelationKeys, value: unknown) => {
    if (typeof value === 'string' && ID.test(value)) keys[name] = value;
  };
  const e = event as {
    failover_id?: unknown;
    routeKey?: unknown;
    pathParameters?: Record<string, unknown> | null;
    body?: unknown;
    isBase64Encoded?: unknown;
  };
  put('failover_id', e.failover_id);
  const route = typeof e.routeKey === 'string' ? e.routeKey : '';
  if (route.includes('/v1/failovers/{id}')) put('failover_id', e.pathParameters?.id);
  put('handoff_id', e.pathParameters?.handoff_id);
  if (route === 'POST /v1/route') put('task_id', bodyField(e.body, e.isBase64Encoded === true, 'task_id'));
  return keys;
}

function bodyField(body: unknown, base64: boolean, field: string): unknown {
  if (typeof body !== 'string' || body.length > MAX_BODY_CHARS) return undefined;
  try {
    const parsed: unknown = JSON.parse(base64 ? Buffer.from(body, 'base64').toString('utf8') : body);
    return typeof parsed === 'object' && parsed !== null
      ? (parsed as Record<string, unknown>)[field]
      : undefined;
  } catch {
    // A malformed body is the handler's 400 to report, not the logger's.
    return undefined;
  }
}

/**
 * The container's logger: service `cortex` unless POWERTOOLS_SERVICE_NAME says otherwise. The
 * functions here take it as a getter, so a container creates it on its first invocation, not at import
 * (import time is cold-start time).
 */
export function createLambdaLogger(): Logger {
  return new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME || 'cortex' });
}

/**
 * Before each invocation: the Lambda context (request id, cold start) and this event's correlation
 * keys, replacing the previous invocation's (a warm container must not tag one task's lines with
 * another's id). Only a `before`: where it sits in a handler's chain changes no answer.
 */
export function logContext<E, R>(loggerOf: () => Logger): middy.MiddlewareObj<E, R, Error, Context> {
  return {
    before: (request) => {
      const logger = loggerOf();
      logger.resetKeys();
      logger.addContext(request.context);
      logger.appendKeys(correlationKeys(request.event));
    },
  };
}

/** The HTTP boundary's report of an error it cannot explain: the error with its name, message and stack. */
export function errorLog(loggerOf: () => Logger): (message: string, error: unknown) => void {
  return (message, error) => {
    const logger = loggerOf();
    if (error instanceof Error) logger.error(message, error);
    else logger.error(message, { error: String(error) });
  };
}

/** Levels a job's record may carry; anything else is logged at info. */
const LEVELS = { debug: 'debug', info: 'info', warn: 'warn', error: 'error' } as const;

/**
 * A background job's one record per invocation (the handlers' `log` option, a JSON object with
 * `level` and `message`), logged through the logger so it carries the context and keys too.
 */
export function recordLog(loggerOf: () => Logger): (line: string) => void {
  return (line) => {
    const logger = loggerOf();
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      logger.info(line);
      return;
    }
    const { level, message, ...fields } = record;
    const method = LEVELS[String(level) as keyof typeof LEVELS] ?? 'info';
    logger[method](typeof message === 'string' ? message : 'record', fields);
  };
}
