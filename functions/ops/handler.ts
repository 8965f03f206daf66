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

function regionId(event: RoutedEvent<RouteKeyWith<'ops', 'id'>>): string {
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
  return httpHandler('ops', deps.log, {
    'POST /v1/regions/{id}/emergency-shutdown': async (event) => {
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
    },
    'DELETE /v1/regions/{id}/emergency-shutdown': async (event) => {
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
    },
    'GET /v1/ops/incidents': async (event) => {
      const query = parseWith(listReportsQuerySchema, event.queryStringParameters ?? {}, 'query');
      const limit = listLimit(query.limit);
      return json(200, await listIncidents(deps, limit === undefined ? {} : { limit }));
    },
    'POST /v1/ops/reports': async (event) => {
      const request = parseWith(reportRequestSchema, optionalJsonBody(event), 'report request');
      return json(
        201,
        await runDailyReport(deps, {
          trigger: 'manual',
          ...(request.cost_estimate === undefined ? {} : { cost_estimate: request.cost_estimate }),
        }),
      );
    },
    'GET /v1/ops/reports': async (event) => {
      const query = parseWith(listReportsQuerySchema, event.queryStringParameters ?? {}, 'query');
      const limit = listLimit(query.limit);
      return json(200, await listDailyReports(deps, limit === undefined ? {} : { limit }));
    },
    'GET /v1/ops/reports/{id}': async (event) => {
      const id = pathParameter(event, 'id', REPORT_ID_PATTERN, {
        field: 'report_id',
        what: 'report id',
        example: 'a report id such as ops-us-east-1-20261203T060000Z',
      });
      return json(200, await getDailyReport(deps, id));
    },
  });
}
