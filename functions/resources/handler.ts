import type { RegionalDeps } from '../../lib/app/deps.ts';
import { type EventsPort, REGION_ID_PATTERN } from '../../lib/app/edge.ts';
import { acceptHandoff, getHandoff, listHandoffs } from '../../lib/app/handoffs/lifecycle.ts';
import { settleHandoff } from '../../lib/app/resources/accounting.ts';
import { runRebalance } from '../../lib/app/resources/rebalance.ts';
import { reportUsage, viewResources } from '../../lib/app/resources/view.ts';
import type { RouteKeyWith } from '../../lib/app/routes.ts';
import {
  httpHandler,
  json,
  optionalJsonBody,
  parseJsonBody,
  parseWith,
  pathParameter,
  type RoutedEvent,
} from '../shared/http.ts';
import {
  acceptSchema,
  HANDOFF_ID,
  listHandoffsQuerySchema,
  rebalanceSchema,
  settleSchema,
  usageSchema,
} from './request.ts';

/**
 * The resources API: `GET /v1/resources`, `PUT /v1/resources/{region}/usage`,
 * `POST /v1/handoffs/{handoff_id}/complete|fail`, `POST /v1/rebalance`; and the handoffs read back
 * with the target's accept: `GET /v1/handoffs`, `GET /v1/handoffs/{handoff_id}`,
 * `POST /v1/handoffs/{handoff_id}/accept`.
 */
export function createResourcesHandler(deps: RegionalDeps & { readonly events?: EventsPort }) {
  const settle = async (
    event: RoutedEvent<RouteKeyWith<'resources', 'handoff_id'>>,
    outcome: 'completed' | 'failed',
  ) => {
    const id = handoffIdOf(event);
    const body = parseWith(settleSchema, optionalJsonBody(event), 'settlement');
    return json(200, await settleHandoff(deps, id, outcome, body));
  };
  return httpHandler('resources', deps.log, {
    'GET /v1/resources': async () => json(200, await viewResources(deps)),
    'PUT /v1/resources/{region}/usage': async (event) => {
      const region = pathParameter(event, 'region', REGION_ID_PATTERN, {
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

function handoffIdOf(event: RoutedEvent<RouteKeyWith<'resources', 'handoff_id'>>): string {
  return pathParameter(event, 'handoff_id', HANDOFF_ID, { field: 'handoff_id', example: 'a handoff id' });
}
