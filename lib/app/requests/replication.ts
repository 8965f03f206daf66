/**
 * The replication API's requests, strict (unknown fields and parameters rejected, principle 10).
 * zod/mini keeps the Lambda bundle small. A document's key is checked by the use case.
 */
import * as z from 'zod/mini';
import { vectorProblem } from '../../core/replication/version-vector.ts';
import { CHECK_ID_PATTERN, MAX_SAMPLE_SIZE } from '../replication/consistency-check.ts';
import type { PathParameterSpec } from '../request-spec.ts';

/** `POST /v1/replication/consistency-checks`: the body is optional. */
const consistencyCheckRequestSchema = z.strictObject({
  sample_size: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(MAX_SAMPLE_SIZE))),
  reconcile: z.optional(z.boolean()),
});

const versionSchema = z
  .unknown()
  .check(
    z.refine(
      (value) => vectorProblem(value) === undefined,
      'must be a version vector: an object of region id -> counter (an integer >= 0)',
    ),
  );

/** `PUT /v1/documents/{key}`: `content` any JSON value; `version` the context of the read it is based on. */
const putDocumentRequestSchema = z.strictObject({
  content: z.unknown(),
  version: z.optional(versionSchema),
});

/** `POST /v1/documents/{key}/merge`: the merged value and the context of the read that saw every sibling. */
const mergeDocumentRequestSchema = z.strictObject({
  content: z.unknown(),
  version: versionSchema,
});

const noQuery = z.strictObject({});

const checkId: PathParameterSpec = {
  pattern: CHECK_ID_PATTERN,
  field: 'check_id',
  what: 'consistency check id',
  example: 'a check id such as check-us-east-1-mfx2k3-0a1b2c3d',
};

const key: PathParameterSpec = { field: 'key', example: 'a document key' };

/** Each route's request (lib/app/routes.ts). */
export const REPLICATION_REQUESTS = {
  'GET /v1/replication': { query: noQuery },
  'POST /v1/replication/consistency-checks': {
    body: { schema: consistencyCheckRequestSchema, what: 'consistency check', optional: true },
  },
  'GET /v1/replication/consistency-checks/{id}': { path: { id: checkId } },
  'GET /v1/documents/{key}': { path: { key } },
  'PUT /v1/documents/{key}': { path: { key }, body: { schema: putDocumentRequestSchema, what: 'document' } },
  'POST /v1/documents/{key}/merge': {
    path: { key },
    body: { schema: mergeDocumentRequestSchema, what: 'merge' },
  },
} as const;
