import * as z from 'zod/mini';
import { PRIVACY_REQUEST_ID_PATTERN, SUBJECT_ID_PATTERN } from '../../core/privacy/rules.ts';
import { PRIVACY_REQUEST_STATUSES, PRIVACY_REQUEST_TYPES } from '../../core/privacy/types.ts';

const subjectId = () => z.string().check(z.regex(SUBJECT_ID_PATTERN, 'must match ^[A-Za-z0-9._:@-]{1,128}$'));

/** `POST /v1/privacy/requests` body: strict, unknown fields rejected (DESIGN principle 10). */
export const privacyRequestSchema = z.strictObject({
  type: z.enum(PRIVACY_REQUEST_TYPES),
  subject_id: subjectId(),
  jurisdiction: z
    .string()
    .check(z.regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be a jurisdiction of the topology, e.g. european_union')),
});

export type PrivacyRequestBody = z.infer<typeof privacyRequestSchema>;

/** `GET /v1/privacy/requests` query. */
export const privacyListQuerySchema = z.strictObject({
  status: z.optional(z.enum(PRIVACY_REQUEST_STATUSES)),
  type: z.optional(z.enum(PRIVACY_REQUEST_TYPES)),
  subject_id: z.optional(subjectId()),
  limit: z.optional(z.string().check(z.regex(/^\d{1,3}$/, 'must be a whole number from 1 to 500'))),
});

export { PRIVACY_REQUEST_ID_PATTERN };
