import middy from '@middy/core';
import * as z from 'zod/mini';
import type { ControlDeps } from '../../lib/app/deps.ts';
import { abortFailover, answerApproval, getFailover, listFailovers } from '../../lib/app/failover/manage.ts';
import {
  FAILOVER_ID_PATTERN,
  operatorDecisionSchema,
  startFailoverRequestSchema,
} from '../../lib/app/failover/request.ts';
import { startFailover } from '../../lib/app/failover/start.ts';
import {
  type HttpEvent,
  type HttpResult,
  httpErrorBoundary,
  json,
  listLimit,
  optionalJsonBody,
  parseJsonBody,
  parseWith,
  pathParameter,
} from '../shared/http.ts';

const listQuerySchema = z.strictObject({
  failed_region: z.optional(z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be a region id'))),
  status: z.optional(
    z.enum(['running', 'awaiting_approval', 'completed', 'rolled_back', 'cancelled', 'failed']),
  ),
  limit: z.optional(z.string().check(z.regex(/^\d{1,3}$/, 'must be a whole number from 1 to 500'))),
});

function failoverId(event: HttpEvent): string {
  return pathParameter(event, 'id', FAILOVER_ID_PATTERN, {
    field: 'failover_id',
    what: 'failover id',
    example: 'a failover id such as failover-us-east-1-e0',
  });
}

/** The decision endpoints take an optional body (`by`, `reason`). */
function decision(event: HttpEvent) {
  return parseWith(operatorDecisionSchema, optionalJsonBody(event), 'decision');
}

/**
 * The failover API: `POST /v1/failovers` (202, or 200 for a dry run), `GET /v1/failovers`,
 * `GET /v1/failovers/{id}`, `POST /v1/failovers/{id}/abort|approve|decline`.
 */
export function createFailoversHandler(deps: ControlDeps) {
  return middy<HttpEvent, HttpResult>()
    .use(httpErrorBoundary(deps.log))
    .handler(async (event) => {
      switch (event.routeKey) {
        case 'POST /v1/failovers': {
          const request = parseWith(startFailoverRequestSchema, parseJsonBody(event), 'failover request');
          const started = await startFailover(deps, request, 'manual');
          return json(request.dry_run ? 200 : 202, started);
        }
        case 'GET /v1/failovers': {
          const query = parseWith(listQuerySchema, event.queryStringParameters ?? {}, 'query');
          const limit = listLimit(query.limit);
          return json(
            200,
            await listFailovers(deps, {
              ...(query.failed_region ? { failed_region: query.failed_region } : {}),
              ...(query.status ? { status: query.status } : {}),
              ...(limit === undefined ? {} : { limit }),
            }),
          );
        }
        case 'GET /v1/failovers/{id}':
          return json(200, await getFailover(deps, failoverId(event)));
        case 'POST /v1/failovers/{id}/abort':
          return json(200, await abortFailover(deps, failoverId(event), decision(event)));
        case 'POST /v1/failovers/{id}/approve':
          return json(200, await answerApproval(deps, failoverId(event), true, decision(event)));
        case 'POST /v1/failovers/{id}/decline':
          return json(200, await answerApproval(deps, failoverId(event), false, decision(event)));
        default:
          return json(404, { error: { code: 'NOT_FOUND', message: `no route ${event.routeKey}` } });
      }
    });
}
