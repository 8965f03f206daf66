import middy from '@middy/core';
import * as z from 'zod/mini';
import type { RegionalDeps } from '../../lib/app/deps.ts';
import { settleHandoff } from '../../lib/app/resources/accounting.ts';
import { runRebalance } from '../../lib/app/resources/rebalance.ts';
import { reportUsage, viewResources } from '../../lib/app/resources/view.ts';
import type { EventsPort } from '../../lib/ports.ts';
import {
  type HttpEvent,
  type HttpResult,
  httpErrorBoundary,
  json,
  optionalJsonBody,
  parseJsonBody,
  parseWith,
  pathParameter,
} from '../shared/http.ts';

const REGION_ID = /^[a-z]{2}(-[a-z]+)+-\d$/;
const HANDOFF_ID = /^[A-Za-z0-9._:-]{1,200}$/;

const amount = z.int().check(z.minimum(0), z.maximum(1_000_000_000_000));

const usageSchema = z.strictObject({
  workers: amount,
  tokens_used: amount,
  compute_units: amount,
});

const settleSchema = z.strictObject({
  actual_tokens: z.optional(amount),
  reason: z.optional(z.string().check(z.minLength(1), z.maxLength(500))),
});

const rebalanceSchema = z.strictObject({
  dry_run: z.optional(z.boolean()),
  /** Plans even when `dynamic_rebalancing.enabled` is false (an operator's explicit request). */
  force: z.optional(z.boolean()),
});

/**
 * The resources API (issue 4 part B): `GET /v1/resources`, `PUT /v1/resources/{region}/usage`,
 * `POST /v1/handoffs/{handoff_id}/complete|fail`, `POST /v1/rebalance`.
 */
export function createResourcesHandler(deps: RegionalDeps & { readonly events?: EventsPort }) {
  return middy<HttpEvent, HttpResult>()
    .use(httpErrorBoundary(deps.log))
    .handler(async (event) => {
      switch (event.routeKey) {
        case 'GET /v1/resources':
          return json(200, await viewResources(deps));
        case 'PUT /v1/resources/{region}/usage': {
          const region = pathParameter(event, 'region', REGION_ID, {
            field: 'region',
            example: 'a region id such as us-east-1',
          });
          const usage = parseWith(usageSchema, parseJsonBody(event), 'usage report');
          return json(200, await reportUsage(deps, region, usage));
        }
        case 'POST /v1/handoffs/{handoff_id}/complete':
        case 'POST /v1/handoffs/{handoff_id}/fail': {
          const id = pathParameter(event, 'handoff_id', HANDOFF_ID, {
            field: 'handoff_id',
            example: 'a handoff id',
          });
          const body = parseWith(settleSchema, optionalJsonBody(event), 'settlement');
          const outcome = event.routeKey.endsWith('/complete') ? 'completed' : 'failed';
          return json(200, await settleHandoff(deps, id, outcome, body));
        }
        case 'POST /v1/rebalance': {
          const body = parseWith(rebalanceSchema, optionalJsonBody(event), 'rebalance request');
          return json(
            200,
            await runRebalance(deps, { dry_run: body.dry_run ?? false, force: body.force ?? false }),
          );
        }
        default:
          return json(404, { error: { code: 'NOT_FOUND', message: `no route ${event.routeKey}` } });
      }
    });
}
