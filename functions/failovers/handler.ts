import type { ControlDeps } from '../../lib/app/deps.ts';
import { abortFailover, answerApproval, getFailover, listFailovers } from '../../lib/app/failover/manage.ts';
import {
  FAILOVER_ID_PATTERN,
  operatorDecisionSchema,
  startFailoverRequestSchema,
} from '../../lib/app/failover/request.ts';
import { startFailover } from '../../lib/app/failover/start.ts';
import type { RouteKeyWith } from '../../lib/app/routes.ts';
import {
  type HttpEvent,
  httpHandler,
  json,
  listLimit,
  optionalJsonBody,
  parseJsonBody,
  parseWith,
  pathParameter,
  type RoutedEvent,
} from '../shared/http.ts';
import { listFailoversQuerySchema } from './request.ts';

function failoverId(event: RoutedEvent<RouteKeyWith<'failovers', 'id'>>): string {
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
  return httpHandler('failovers', deps.log, {
    'POST /v1/failovers': async (event) => {
      const request = parseWith(startFailoverRequestSchema, parseJsonBody(event), 'failover request');
      const started = await startFailover(deps, request, 'manual');
      return json(request.dry_run ? 200 : 202, started);
    },
    'GET /v1/failovers': async (event) => {
      const query = parseWith(listFailoversQuerySchema, event.queryStringParameters ?? {}, 'query');
      const limit = listLimit(query.limit);
      return json(
        200,
        await listFailovers(deps, {
          ...(query.failed_region ? { failed_region: query.failed_region } : {}),
          ...(query.status ? { status: query.status } : {}),
          ...(limit === undefined ? {} : { limit }),
        }),
      );
    },
    'GET /v1/failovers/{id}': async (event) => json(200, await getFailover(deps, failoverId(event))),
    'POST /v1/failovers/{id}/abort': async (event) =>
      json(200, await abortFailover(deps, failoverId(event), decision(event))),
    'POST /v1/failovers/{id}/approve': async (event) =>
      json(200, await answerApproval(deps, failoverId(event), true, decision(event))),
    'POST /v1/failovers/{id}/decline': async (event) =>
      json(200, await answerApproval(deps, failoverId(event), false, decision(event))),
  });
}
