import { getDailyReport, listDailyReports, runDailyReport } from '../../lib/app/ops/daily-report.ts';
import type { OpsDeps } from '../../lib/app/ops/deps.ts';
import { listIncidents, restoreRegion, shutdownRegion } from '../../lib/app/ops/emergency-shutdown.ts';
import { OPS_REQUESTS } from '../../lib/app/requests/ops.ts';
import { type HttpEvent, httpHandler, json, listLimit } from '../shared/http.ts';

/** The caller as API Gateway's IAM authorizer names it, for the incident's audit trail. */
function caller(event: HttpEvent): string | undefined {
  const context = event.requestContext as { authorizer?: { iam?: { userArn?: unknown } } };
  const arn = context.authorizer?.iam?.userArn;
  return typeof arn === 'string' && arn.length > 0 && arn.length <= 2048 ? arn : undefined;
}

/** The request's body with the signed caller as `requested_by`, when the authorizer names one. */
function byCaller<B extends object>(event: HttpEvent, body: B): B & { requested_by?: string } {
  const by = caller(event);
  return by === undefined ? body : { ...body, requested_by: by };
}

/**
 * The operations API: `POST` and `DELETE /v1/regions/{id}/emergency-shutdown`, `GET
 * /v1/ops/incidents`, `POST` and `GET /v1/ops/reports`, `GET /v1/ops/reports/{id}`.
 */
export function createOpsHandler(deps: OpsDeps) {
  return httpHandler(
    'ops',
    deps.log,
    {
      'POST /v1/regions/{id}/emergency-shutdown': async (event, { path, body }) =>
        json(202, await shutdownRegion(deps, path.id, byCaller(event, body))),
      'DELETE /v1/regions/{id}/emergency-shutdown': async (event, { path, body }) =>
        json(200, await restoreRegion(deps, path.id, byCaller(event, body))),
      'GET /v1/ops/incidents': async (_event, { query }) => {
        const limit = listLimit(query.limit);
        return json(200, await listIncidents(deps, limit === undefined ? {} : { limit }));
      },
      'POST /v1/ops/reports': async (_event, { body }) =>
        json(
          201,
          await runDailyReport(deps, {
            trigger: 'manual',
            ...(body.cost_estimate === undefined ? {} : { cost_estimate: body.cost_estimate }),
          }),
        ),
      'GET /v1/ops/reports': async (_event, { query }) => {
        const limit = listLimit(query.limit);
        return json(200, await listDailyReports(deps, limit === undefined ? {} : { limit }));
      },
      'GET /v1/ops/reports/{id}': async (_event, { path }) => json(200, await getDailyReport(deps, path.id)),
    },
    OPS_REQUESTS,
  );
}
