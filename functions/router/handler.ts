import { ROUTER_REQUESTS } from '../../lib/app/requests/router.ts';
import { type RouteDeps, routeTask } from '../../lib/app/route-task.ts';
import { httpHandler, json } from '../shared/http.ts';

/** `POST /v1/route`: choose a region for a task and record its handoff. */
export function createRouterHandler(deps: RouteDeps) {
  return httpHandler(
    'router',
    deps.log,
    { 'POST /v1/route': async (_event, { body }) => json(200, await routeTask(deps, body)) },
    ROUTER_REQUESTS,
  );
}
