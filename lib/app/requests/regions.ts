/** The regions API's requests: a region's id in the path, looked up in the topology by the use case. */
import type { PathParameterSpec } from '../request-spec.ts';

const id: PathParameterSpec = { field: 'id', example: 'a region id of the topology' };

/** Each route's request (lib/app/routes.ts). */
export const REGIONS_REQUESTS = {
  'GET /v1/regions/{id}': { path: { id } },
} as const;
