import middy from '@middy/core';
import { getDailyReport, listDailyReports, runDailyReport } from '../../lib/app/ops/daily-report.ts';
import type { OpsDeps } from '../../lib/app/ops/deps.ts';
import { listIncidents, restoreRegion, shutdownRegion } from '../../lib/app/ops/emergency-shutdown.ts';
import {
  listReportsQuerySchema,
  REGION_ID_PATTERN,
  REPORT_ID_PATTERN,
  reportRequestSchema,
  restoreRequestSchema,
  shutdownRequestSchema,
} from '../../lib/app/ops/request.ts';
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

function regionId(event: HttpEvent): string {
  return pathParameter(event, 'id', REGION_ID_PATTERN, {
    field: 'id',
    what: 'region id',
    example: 'a region id such as eu-west-1',
  });
}

/** The caller as API Gateway's IAM authorizer names it, for the incident's audit trail. */
function caller(event: HttpEvent): string | undefined {
  const context = event.requestContext as { authorizer?: { iam?: { userArn?: unknown } } };
  const arn = context.authorizer?.iam?.userArn;
  return typeof arn === 'string' && arn.length > 0 && arn.length <= 2048 ? arn : undefined;
}

/**
 * The operations API: `POST` and `DELETE /v1/regions/{id}/emergency-shutdown`, `GET
 * /v1/ops/incidents`, `POST` and `GET /v1/ops/reports`, `GET /v1/ops/reports/{id}`.
 */
export function createOpsHandler(deps: OpsDeps) {
  return middy<HttpEvent, HttpResult>()
    .use(httpErrorBoundary(deps.log))
    .handler(async (event) => {
      switch (event.routeKey) {
        case 'POST /v1/regions/{id}/emergency-shutdown': {
          const region = regionId(event);
          const request = parseWith(shutdownRequestSchema, parseJsonBody(event), 'emergency shutdown');
          const by = caller(event);
          return json(
            202,
            await shutdownRegion(deps, region, {
              ...request,
              ...(by === undefined ? {} : { requested_by: by }),
            }),
          );
        }
        case 'DELETE /v1/regions/{id}/emergency-shutdown': {
          const region = regionId(event);
          const request = parseWith(restoreRequestSchema, optionalJsonBody(event), 'restore');
          const by = caller(event);
          return json(
            200,
            await restoreRegion(deps, region, {
              ...request,
              ...(by === undefined ? {} : { requested_by: by }),
            }),
          );
        }
        case 'GET /v1/ops/incidents': {
          const query = parseWith(listReportsQuerySchema, event.queryStringParameters ?? {}, 'query');
          const limit = listLimit(query.limit);
          return json(200, await listIncidents(deps, limit === undefined ? {} : { limit }));
        }
        case 'POST /v1/ops/reports': {
          const request = parseWith(reportRequestSchema, optionalJsonBody(event), 'report request');
          return json(
            201,
            await runDailyReport(deps, {
              trigger: 'manual',
              ...(request.cost_estimate === undefined ? {} : { cost_estimate: request.cost_estimate }),
            }),
          );
        }
        case 'GET /v1/ops/reports': {
          const query = parseWith(listReportsQuerySchema, event.queryStringParameters ?? {}, 'query');
          const limit = listLimit(query.limit);
          return json(200, await listDailyReports(deps, limit === undefined ? {} : { limit }));
        }
        case 'GET /v1/ops/reports/{id}': {
          const id = pathParameter(event, 'id', REPORT_ID_PATTERN, {
            field: 'report_id',
            what: 'report id',
            example: 'a report id such as ops-us-east-1-20261203T060000Z',
          });
          return json(200, await getDailyReport(deps, id));
        }
        default:
          return json(404, { error: { code: 'NOT_FOUND', message: `no route ${event.routeKey}` } });
      }
    });
}
