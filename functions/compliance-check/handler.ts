import { getAudit, listAudits, runComplianceAudit } from '../../lib/app/compliance/audit.ts';
import { checkCompliance } from '../../lib/app/compliance/check.ts';
import type { ComplianceDeps } from '../../lib/app/compliance/deps.ts';
import {
  AUDIT_ID_PATTERN,
  auditRequestSchema,
  complianceCheckRequestSchema,
  listAuditsQuerySchema,
} from '../../lib/app/compliance/request.ts';
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

function auditId(event: RoutedEvent<RouteKeyWith<'compliance', 'id'>>): string {
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
  return httpHandler('compliance', deps.log, {
    'POST /v1/compliance/check': async (event) => {
      const request = parseWith(complianceCheckRequestSchema, parseJsonBody(event), 'compliance check');
      return json(200, await checkCompliance(deps, request));
    },
    'POST /v1/compliance/audits': async (event) => {
      const { regions } = auditRequest(event);
      return json(
        201,
        await runComplianceAudit(deps, {
          trigger: 'manual',
          ...(regions === undefined ? {} : { regions }),
        }),
      );
    },
    'GET /v1/compliance/audits': async (event) => {
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
    },
    'GET /v1/compliance/audits/{id}': async (event) => json(200, await getAudit(deps, auditId(event))),
  });
}
