import { deleteData, getData, listData, putData } from '../../lib/app/data.ts';
import type { FunctionDeps } from '../../lib/app/deps.ts';
import { DATA_REQUESTS } from '../../lib/app/requests/data.ts';
import { httpHandler, json } from '../shared/http.ts';

/**
 * The data API (selectively replicated data): `GET /v1/data?prefix=&after=&limit=` (this region's
 * records under a prefix, without values), `PUT /v1/data/{key+}` (`{ value }`: 200 the record),
 * `GET /v1/data/{key+}` (200 the record, 404), `DELETE /v1/data/{key+}` (200 `{ key, deleted }`).
 * Each key lives in its selective policy's table for this region.
 */
export function createDataHandler(deps: FunctionDeps<'data'>) {
  return httpHandler(
    'data',
    deps.log,
    {
      'GET /v1/data': async (_event, { query }) =>
        json(
          200,
          await listData(deps, {
            ...(query.prefix === undefined ? {} : { prefix: query.prefix }),
            ...(query.after === undefined ? {} : { after: query.after }),
            ...(query.limit === undefined ? {} : { limit: Number(query.limit) }),
          }),
        ),
      'PUT /v1/data/{key+}': async (_event, { path, body }) =>
        json(200, await putData(deps, path.key, body.value)),
      'GET /v1/data/{key+}': async (_event, { path }) => json(200, await getData(deps, path.key)),
      'DELETE /v1/data/{key+}': async (_event, { path }) => json(200, await deleteData(deps, path.key)),
    },
    DATA_REQUESTS,
  );
}
