import { getRegion, listRegions, type RegionsDeps } from '../../lib/app/regions.ts';
import { REGIONS_REQUESTS } from '../../lib/app/requests/regions.ts';
import { httpHandler, json } from '../shared/http.ts';

/** `GET /v1/regions` and `GET /v1/regions/{id}`: topology plus live status. */
export function createRegionsHandler(deps: RegionsDeps) {
  return httpHandler(
    'regions',
    deps.log,
    {
      'GET /v1/regions': async () => json(200, await listRegions(deps)),
      'GET /v1/regions/{id}': async (_event, { path }) => json(200, await getRegion(deps, path.id)),
    },
    REGIONS_REQUESTS,
  );
}
