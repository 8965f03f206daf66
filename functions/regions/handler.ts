import type { RegionalDeps } from '../../lib/app/deps.ts';
import { getRegion, listRegions } from '../../lib/app/regions.ts';
import { httpHandler, json } from '../shared/http.ts';

/** `GET /v1/regions` and `GET /v1/regions/{id}`: topology plus live status. */
export function createRegionsHandler(deps: RegionalDeps) {
  return httpHandler('regions', deps.log, {
    'GET /v1/regions': async () => json(200, await listRegions(deps)),
    'GET /v1/regions/{id}': async (event) => json(200, await getRegion(deps, event.pathParameters?.id ?? '')),
  });
}
