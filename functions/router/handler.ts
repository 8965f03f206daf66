import type { RegionalDeps } from '../../lib/app/deps.ts';
import { routeTask } from '../../lib/app/route-task.ts';
import { httpHandler, json, parseJsonBody, parseWith } from '../shared/http.ts';
import { routeRequestSchema } from './request.ts';

/** `POST /v1/route`: choose a region for a task and record its handoff. */
export function createRouterHandler(deps: RegionalDeps) {
  return httpHandler('router', deps.log, {
    'POST /v1/route': async (event) => {
      const request = parseWith(routeRequestSchema, parseJsonBody(event), 'route request');
      return json(200, await routeTask(deps, request));
    },
  });
}
