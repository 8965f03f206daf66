import { answerBundle } from '../../lib/app/probe-bundle.ts';
import { coordinationStatus, type HealthConcernDeps, regionHealth } from '../../lib/app/regions.ts';
import { bundledPathsOf, HEALTH_REQUESTS } from '../../lib/app/requests/health.ts';
import { type HttpResult, httpHandler, json, toHttpError } from '../shared/http.ts';

/**
 * `GET /health` (Route 53 reads it: 503 pulls the region out of DNS, principle 1),
 * `GET /api/v1/ping` (liveness), `GET /coordination/status`, and `GET /coordination/probe`: the
 * three at once for a peer's probe round, each part as its own route answers it.
 */
export function createHealthHandler(deps: HealthConcernDeps) {
  const parts: Readonly<Record<string, () => Promise<HttpResult>>> = {
    '/health': async () => {
      const health = await regionHealth(deps);
      return json(health.serving ? 200 : 503, health);
    },
    '/api/v1/ping': async () =>
      json(200, {
        pong: true,
        region: deps.regionId,
        time: new Date(deps.clock.now()).toISOString(),
      }),
    '/coordination/status': async () => json(200, await coordinationStatus(deps)),
  };
  const part = (path: string) => parts[path] as () => Promise<HttpResult>;
  return httpHandler(
    'health',
    deps.log,
    {
      'GET /health': part('/health'),
      'GET /api/v1/ping': part('/api/v1/ping'),
      'GET /coordination/status': part('/coordination/status'),
      'GET /coordination/probe': async (_event, { query }) => {
        const answer = await answerBundle({
          paths: bundledPathsOf(query.paths),
          timeoutMs: Number(query.timeout_ms),
          // A part that throws answers what its route's error boundary would have answered.
          serve: async (path) => {
            const result = await part(path)().catch((error: unknown) => toHttpError(error));
            return {
              status: result.statusCode ?? 200,
              ...(result.body === undefined ? {} : { body: result.body }),
            };
          },
          monotonic: () => performance.now(),
        });
        return json(200, answer);
      },
    },
    HEALTH_REQUESTS,
  );
}
