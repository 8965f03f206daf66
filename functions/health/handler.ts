import middy from '@middy/core';
import type { RegionalDeps } from '../../lib/app/deps.ts';
import { coordinationStatus, regionHealth } from '../../lib/app/regions.ts';
import { type HttpEvent, type HttpResult, httpErrorBoundary, json } from '../shared/http.ts';

/**
 * `GET /health` (Route 53 reads it: 503 pulls the region out of DNS, principle 1),
 * `GET /api/v1/ping` (liveness) and `GET /coordination/status`.
 */
export function createHealthHandler(deps: RegionalDeps) {
  return middy<HttpEvent, HttpResult>()
    .use(httpErrorBoundary(deps.log))
    .handler(async (event) => {
      switch (event.routeKey) {
        case 'GET /api/v1/ping':
          return json(200, {
            pong: true,
            region: deps.regionId,
            time: new Date(deps.clock.now()).toISOString(),
          });
        case 'GET /coordination/status':
          return json(200, await coordinationStatus(deps));
        default: {
          const health = await regionHealth(deps);
          return json(health.serving ? 200 : 503, health);
        }
      }
    });
}
