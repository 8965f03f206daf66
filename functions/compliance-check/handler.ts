import { getAudit, listAudits, runComplianceAudit } from '../../lib/app/compliance/audit.ts';
import { checkCompliance } from '../../lib/app/compliance/check.ts';
import type { ComplianceDeps } from '../../lib/app/compliance/deps.ts';
import { COMPLIANCE_REQUESTS } from '../../lib/app/requests/compliance.ts';
import { httpHandler, json, listLimit } from '../shared/http.ts';

/**
 * The compliance API: `POST /v1/compliance/check`, `POST /v1/compliance/audits` (201),
 * `GET /v1/compliance/audits`, `GET /v1/compliance/audits/{id}`.
 */
export function createComplianceHandler(deps: ComplianceDeps) {
  return httpHandler(
    'compliance',
    deps.log,
    {
      'POST /v1/compliance/check': async (_event, { body }) => json(200, await checkCompliance(deps, body)),
      'POST /v1/compliance/audits': async (_event, { body }) =>
        json(
          201,
          await runComplianceAudit(deps, {
            trigger: 'manual',
            ...(body.regions === undefined ? {} : { regions: body.regions }),
          }),
        ),
      'GET /v1/compliance/audits': async (_event, { query }) => {
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
      'GET /v1/compliance/audits/{id}': async (_event, { path }) => json(200, await getAudit(deps, path.id)),
    },
    COMPLIANCE_REQUESTS,
  );
}
