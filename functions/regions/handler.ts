import middy from '@middy/core';
import type { RegionalDeps } from '../../lib/app/deps.ts';
import { getRegion, listRegions } from '../../lib/app/regions.ts';
import { type HttpEvent, type HttpResult, httpErrorBoundary, json } from '../shared/http.ts';

/** `GET /v1/regions` and `GET /v1/regions/{id}`: topology plus live status. */
export function createRegionsHandler(deps: RegionalDeps) {
  return middy<HttpEvent, HttpResult>()
    .use(httpErrorBoundary(deps.log))
    .handler(async (event) => {
      const id = event.pathParameters?.id;
      return json(200, id === undefined ? await listRegions(deps) : await getRegion(deps, id));
    });
}
