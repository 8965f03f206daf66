import middy from '@middy/core';
import type { RegionalDeps } from '../../lib/app/deps.ts';
import { routeTask } from '../../lib/app/route-task.ts';
import {
  type HttpEvent,
  type HttpResult,
  httpErrorBoundary,
  json,
  parseJsonBody,
  parseWith,
} from '../shared/http.ts';
import { routeRequestSchema } from './request.ts';

/** `POST /v1/route`: choose a region for a task and record its handoff. */
export function createRouterHandler(deps: RegionalDeps) {
  return middy<HttpEvent, HttpResult>()
    .use(httpErrorBoundary(deps.log))
    .handler(async (event) => {
      const request = parseWith(routeRequestSchema, parseJsonBody(event), 'route request');
      return json(200, await routeTask(deps, request));
    });
}
