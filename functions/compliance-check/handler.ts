import middy from '@middy/core';
import { getAudit, listAudits, runComplianceAudit } from '../../lib/app/compliance/audit.ts';
import { checkCompliance } from '../../lib/app/compliance/check.ts';
import type { ComplianceDeps } from '../../lib/app/compliance/deps.ts';
import {
  AUDIT_ID_PATTERN,
  auditRequestSchema,
  complianceCheckRequestSchema,
  listAuditsQuerySchema,
} from '../../lib/app/compliance/request.ts';
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

function auditId(event: HttpEvent): string {
  return pathParameter(event, 'id', AUDIT_ID_PATTERN, {
    field: 'audit_id',
    what: 'audit id',
    example: 'an audit id such as audit-us-east-1-20261126',
  });
}

/** `POST /v1/compliance/audits` takes an optional body (`regions`). */
function auditRequest(event: HttpEvent) {
  return parseWith(auditRequestSchema, optionalJsonBody(event), 'audit request');
}

/**
 * The compliance API: `POST /v1/compliance/check`, `POST /v1/compliance/audits` (201),
 * `GET /v1/compliance/audits`, `GET /v1/compliance/audits/{id}`.
 */
export function createComplianceHandler(deps: ComplianceDeps) {
  return middy<HttpEvent, HttpResult>()
    .use(httpErrorBoundary(deps.log))
    .handler(async (event) => {
      switch (event.routeKey) {
        case 'POST /v1/compliance/check': {
          const request = parseWith(complianceCheckRequestSchema, parseJsonBody(event), 'compliance check');
          return json(200, await checkCompliance(deps, request));
        }
        case 'POST /v1/compliance/audits': {
          const { regions } = auditRequest(event);
          return json(
            201,
            await runComplianceAudit(deps, {
              trigger: 'manual',
              ...(regions === undefined ? {} : { regions }),
            }),
          );
        }
        case 'GET /v1/compliance/audits': {
          const query = parseWith(listAuditsQuerySchema, event.queryStringParameters ?? {}, 'query');
          const limit = listLimit(query.limit);
          return json(
            200,
            await listAudits(deps, {
              ...(query.region === undefined ? {} : { region: query.region }),
              ...(query.status === undefined ? {} : { status: query.status }),
              ...(limit === undefined ? {} : { limit }),
            }),
          );
        }
        case 'GET /v1/compliance/audits/{id}':
          return json(200, await getAudit(deps, auditId(event)));
        default:
          return json(404, { error: { code: 'NOT_FOUND', message: `no route ${event.routeKey}` } });
      }
    });
}
