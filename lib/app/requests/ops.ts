/** The operations API's requests: the schemas are the use case's (lib/app/ops/request.ts). */
import {
  listReportsQuerySchema,
  REGION_ID_PATTERN,
  REPORT_ID_PATTERN,
  reportRequestSchema,
  restoreRequestSchema,
  shutdownRequestSchema,
} from '../ops/request.ts';
import type { PathParameterSpec } from '../request-spec.ts';

const region: PathParameterSpec = {
  pattern: REGION_ID_PATTERN,
  field: 'id',
  what: 'region id',
  example: 'a region id such as eu-west-1',
};

const report: PathParameterSpec = {
  pattern: REPORT_ID_PATTERN,
  field: 'report_id',
  what: 'report id',
  example: 'a report id such as ops-us-east-1-20261203T060000Z',
};

/** Each route's request (lib/app/routes.ts). */
export const OPS_REQUESTS = {
  'POST /v1/regions/{id}/emergency-shutdown': {
    path: { id: region },
    body: { schema: shutdownRequestSchema, what: 'emergency shutdown' },
  },
  'DELETE /v1/regions/{id}/emergency-shutdown': {
    path: { id: region },
    body: { schema: restoreRequestSchema, what: 'restore', optional: true },
  },
  'GET /v1/ops/incidents': { query: listReportsQuerySchema },
  'POST /v1/ops/reports': { body: { schema: reportRequestSchema, what: 'report request', optional: true } },
  'GET /v1/ops/reports': { query: listReportsQuerySchema },
  'GET /v1/ops/reports/{id}': { path: { id: report } },
} as const;
