import { acceptHandoff, getHandoff, listHandoffs } from '../../lib/app/handoffs/lifecycle.ts';
import { RESOURCES_REQUESTS } from '../../lib/app/requests/resources.ts';
import { settleHandoff } from '../../lib/app/resources/accounting.ts';
import type { ResourcesDeps } from '../../lib/app/resources/deps.ts';
import { runRebalance } from '../../lib/app/resources/rebalance.ts';
import { reportUsage, viewResources } from '../../lib/app/resources/view.ts';
import { httpHandler, json } from '../shared/http.ts';

/**
 * The resources API: `GET /v1/resources`, `PUT /v1/resources/{region}/usage`,
 * `POST /v1/handoffs/{handoff_id}/complete|fail`, `POST /v1/rebalance`; and the handoffs read back
 * with the target's accept: `GET /v1/handoffs`, `GET /v1/handoffs/{handoff_id}`,
 * `POST /v1/handoffs/{handoff_id}/accept`.
 */
export function createResourcesHandler(deps: ResourcesDeps) {
  return httpHandler(
    'resources',
    deps.log,
    {
      'GET /v1/resources': async () => json(200, await viewResources(deps)),
      'PUT /v1/resources/{region}/usage': async (_event, { path, body }) =>
        json(200, await reportUsage(deps, path.region, body)),
      'GET /v1/handoffs': async (_event, { query }) =>
        json(
          200,
          await listHandoffs(deps, {
            ...(query.region === undefined ? {} : { region: query.region }),
            ...(query.status === undefined ? {} : { status: query.status }),
            ...(query.after === undefined ? {} : { after: query.after }),
            ...(query.limit === undefined ? {} : { limit: Number(query.limit) }),
          }),
        ),
      'GET /v1/handoffs/{handoff_id}': async (_event, { path }) =>
        json(200, await getHandoff(deps, path.handoff_id)),
      'POST /v1/handoffs/{handoff_id}/accept': async (_event, { path, body }) =>
        json(
          200,
          await acceptHandoff(
            deps,
            path.handoff_id,
            body.worker === undefined ? {} : { worker: body.worker },
          ),
        ),
      'POST /v1/handoffs/{handoff_id}/complete': async (_event, { path, body }) =>
        json(200, await settleHandoff(deps, path.handoff_id, 'completed', body)),
      'POST /v1/handoffs/{handoff_id}/fail': async (_event, { path, body }) =>
        json(200, await settleHandoff(deps, path.handoff_id, 'failed', body)),
      'POST /v1/rebalance': async (_event, { body }) =>
        json(200, await runRebalance(deps, { dry_run: body.dry_run ?? false, force: body.force ?? false })),
    },
    RESOURCES_REQUESTS,
  );
}
