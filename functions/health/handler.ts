import type { RegionalDeps } from '../../lib/app/deps.ts';
import { coordinationStatus, regionHealth } from '../../lib/app/regions.ts';
import { httpHandler, json } from '../shared/http.ts';

/**
 * `GET /health` (Route 53 reads it: 503 pulls the region out of DNS, principle 1),
 * `GET /api/v1/ping` (liveness) and `GET /coordination/status`.
 */
export function createHealthHandler(deps: RegionalDeps) {
  return httpHandler('health', deps.log, {
    'GET /health': async () => {
      const health = await regionHealth(deps);
      return json(health.serving ? 200 : 503, health);
    },
    'GET /api/v1/ping': async () =>
      json(200, {
        pong: true,
        region: deps.regionId,
        time: new Date(deps.clock.now()).toISOString(),
      }),
    'GET /coordination/status': async () => json(200, await coordinationStatus(deps)),
  });
}
