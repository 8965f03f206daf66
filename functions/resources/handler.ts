import * as z from 'zod/mini';
import type { RegionalDeps } from '../../lib/app/deps.ts';
import type { EventsPort } from '../../lib/app/edge.ts';
import {
  acceptHandoff,
  getHandoff,
  HANDOFF_LIST_MAX,
  listHandoffs,
} from '../../lib/app/handoffs/lifecycle.ts';
import { settleHandoff } from '../../lib/app/resources/accounting.ts';
import { runRebalance } from '../../lib/app/resources/rebalance.ts';
import { reportUsage, viewResources } from '../../lib/app/resources/view.ts';
import {
  type HttpEvent,
  httpHandler,
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

const HANDOFF_STATUSES = ['pending', 'accepted', 'completed', 'failed', 'redirected'] as const;

const listHandoffsQuerySchema = z.strictObject({
  region: z.optional(z.string().check(z.regex(REGION_ID, 'must be a region id such as us-east-1'))),
  status: z.optional(z.enum(HANDOFF_STATUSES)),
  after: z.optional(z.string().check(z.minLength(1), z.maxLength(600))),
  limit: z.optional(
    z.string().check(
      z.regex(/^\d{1,3}$/, `must be a whole number from 1 to ${HANDOFF_LIST_MAX}`),
      z.refine(
        (text) => Number(text) >= 1 && Number(text) <= HANDOFF_LIST_MAX,
        `must be a whole number from 1 to ${HANDOFF_LIST_MAX}`,
      ),
    ),
  ),
});

const acceptSchema = z.strictObject({
  worker: z.optional(
    z.string().check(z.regex(/^[A-Za-z0-9._:@/-]{1,128}$/, 'must be 1-128 letters, digits or ._:@/-')),
  ),
});

const rebalanceSchema = z.strictObject({
  dry_run: z.optional(z.boolean()),
  /** Plans even when `dynamic_rebalancing.enabled` is false (an operator's explicit request). */
  force: z.optional(z.boolean()),
});

/**
 * The resources API: `GET /v1/resources`, `PUT /v1/resources/{region}/usage`,
 * `POST /v1/handoffs/{handoff_id}/complete|fail`, `POST /v1/rebalance`; and the handoffs read back
 * with the target's accept: `GET /v1/handoffs`, `GET /v1/handoffs/{handoff_id}`,
 * `POST /v1/handoffs/{handoff_id}/accept`.
 */
export function createResourcesHandler(deps: RegionalDeps & { readonly events?: EventsPort }) {
  const settle = async (event: HttpEvent, outcome: 'completed' | 'failed') => {
    const id = handoffIdOf(event);
    const body = parseWith(settleSchema, optionalJsonBody(event), 'settlement');
    return json(200, await settleHandoff(deps, id, outcome, body));
  };
  return httpHandler('resources', deps.log, {
    'GET /v1/resources': async () => json(200, await viewResources(deps)),
    'PUT /v1/resources/{region}/usage': async (event) => {
      const region = pathParameter(event, 'region', REGION_ID, {
        field: 'region',
        example: 'a region id such as us-east-1',
      });
      const usage = parseWith(usageSchema, parseJsonBody(event), 'usage report');
      return json(200, await reportUsage(deps, region, usage));
    },
    'GET /v1/handoffs': async (event) => {
      const query = parseWith(listHandoffsQuerySchema, event.queryStringParameters ?? {}, 'query');
      return json(
        200,
        await listHandoffs(deps, {
          ...(query.region === undefined ? {} : { region: query.region }),
          ...(query.status === undefined ? {} : { status: query.status }),
          ...(query.after === undefined ? {} : { after: query.after }),
          ...(query.limit === undefined ? {} : { limit: Number(query.limit) }),
        }),
      );
    },
    'GET /v1/handoffs/{handoff_id}': async (event) => json(200, await getHandoff(deps, handoffIdOf(event))),
    'POST /v1/handoffs/{handoff_id}/accept': async (event) => {
      const id = handoffIdOf(event);
      const body = parseWith(acceptSchema, optionalJsonBody(event), 'accept request');
      return json(
        200,
        await acceptHandoff(deps, id, body.worker === undefined ? {} : { worker: body.worker }),
      );
    },
    'POST /v1/handoffs/{handoff_id}/complete': (event) => settle(event, 'completed'),
    'POST /v1/handoffs/{handoff_id}/fail': (event) => settle(event, 'failed'),
    'POST /v1/rebalance': async (event) => {
      const body = parseWith(rebalanceSchema, optionalJsonBody(event), 'rebalance request');
      return json(
        200,
        await runRebalance(deps, { dry_run: body.dry_run ?? false, force: body.force ?? false }),
      );
    },
  });
}

function handoffIdOf(event: HttpEvent): string {
  return pathParameter(event, 'handoff_id', HANDOFF_ID, { field: 'handoff_id', example: 'a handoff id' });
}
