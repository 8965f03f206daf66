/**
 * Request bodies and parameters of the replication API, strict (unknown fields rejected,
 * principle 10). zod/mini keeps the Lambda bundle small. Parse with functions/shared/http.ts `parseWith`.
 */
import * as z from 'zod/mini';
import { vectorProblem } from '../../lib/app/edge.ts';
import { MAX_SAMPLE_SIZE } from '../../lib/app/replication/consistency-check.ts';

/** `POST /v1/replication/consistency-checks`: the body is optional. */
export const consistencyCheckRequestSchema = z.strictObject({
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
export const putDocumentRequestSchema = z.strictObject({
  content: z.unknown(),
  version: z.optional(versionSchema),
});

/** `POST /v1/documents/{key}/merge`: the merged value and the context of the read that saw every sibling. */
export const mergeDocumentRequestSchema = z.strictObject({
  content: z.unknown(),
  version: versionSchema,
});
