/** The compliance API's requests: the schemas are the use case's (lib/app/compliance/request.ts). */
import {
  AUDIT_ID_PATTERN,
  auditRequestSchema,
  complianceCheckRequestSchema,
  listAuditsQuerySchema,
} from '../compliance/request.ts';
import type { PathParameterSpec } from '../request-spec.ts';

const id: PathParameterSpec = {
  pattern: AUDIT_ID_PATTERN,
  field: 'audit_id',
  what: 'audit id',
  example: 'an audit id such as audit-us-east-1-20261126',
};

/** Each route's request (lib/app/routes.ts). */
export const COMPLIANCE_REQUESTS = {
  'POST /v1/compliance/check': { body: { schema: complianceCheckRequestSchema, what: 'compliance check' } },
  // An audit's body is optional (`regions`).
  'POST /v1/compliance/audits': {
    body: { schema: auditRequestSchema, what: 'audit request', optional: true },
  },
  'GET /v1/compliance/audits': { query: listAuditsQuerySchema },
  'GET /v1/compliance/audits/{id}': { path: { id } },
} as const;
