import type { ControlJobDeps, WithState } from '../../lib/app/deps.ts';
import { abortFailover, answerApproval, getFailover, listFailovers } from '../../lib/app/failover/manage.ts';
import { type StartState, startFailover } from '../../lib/app/failover/start.ts';
import { FAILOVERS_REQUESTS } from '../../lib/app/requests/failovers.ts';
import { httpHandler, json, listLimit } from '../shared/http.ts';

/**
 * The failover API: `POST /v1/failovers` (202, or 200 for a dry run), `GET /v1/failovers`,
 * `GET /v1/failovers/{id}`, `POST /v1/failovers/{id}/abort|approve|decline`.
 */
export function createFailoversHandler(deps: WithState<ControlJobDeps, StartState>) {
  return httpHandler(
    'failovers',
    deps.log,
    {
      'POST /v1/failovers': async (_event, { body }) => {
        const started = await startFailover(deps, body, 'manual');
        return json(body.dry_run ? 200 : 202, started);
      },
      'GET /v1/failovers': async (_event, { query }) => {
        const limit = listLimit(query.limit);
        return json(
          200,
          await listFailovers(deps, {
            ...(query.failed_region ? { failed_region: query.failed_region } : {}),
            ...(query.status ? { status: query.status } : {}),
            ...(limit === undefined ? {} : { limit }),
          }),
        );
      },
      'GET /v1/failovers/{id}': async (_event, { path }) => json(200, await getFailover(deps, path.id)),
      'POST /v1/failovers/{id}/abort': async (_event, { path, body }) =>
        json(200, await abortFailover(deps, path.id, body)),
      'POST /v1/failovers/{id}/approve': async (_event, { path, body }) =>
        json(200, await answerApproval(deps, path.id, true, body)),
      'POST /v1/failovers/{id}/decline': async (_event, { path, body }) =>
        json(200, await answerApproval(deps, path.id, false, body)),
    },
    FAILOVERS_REQUESTS,
  );
}
