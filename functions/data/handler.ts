import { deleteData, getData, listData, putData } from '../../lib/app/data.ts';
import type { FunctionDeps } from '../../lib/app/deps.ts';
import type { RouteKeyWith } from '../../lib/app/routes.ts';
import { httpHandler, json, noQuery, parseJsonBody, parseWith, type RoutedEvent } from '../shared/http.ts';
import { listDataQuerySchema, putDataRequestSchema } from './request.ts';

/** A record's key (the greedy path parameter); a record's routes take no query. */
function recordKey(event: RoutedEvent<RouteKeyWith<'data', 'key'>>): string {
  const key = event.pathParameters?.key ?? '';
  noQuery(event);
  return key;
}

/**
 * The data API (selectively replicated data): `GET /v1/data?prefix=&after=&limit=` (this region's
 * records under a prefix, without values), `PUT /v1/data/{key+}` (`{ value }`: 200 the record),
 * `GET /v1/data/{key+}` (200 the record, 404), `DELETE /v1/data/{key+}` (200 `{ key, deleted }`).
 * Each key lives in its selective policy's table for this region.
 */
export function createDataHandler(deps: FunctionDeps<'data'>) {
  return httpHandler('data', deps.log, {
    'GET /v1/data': async (event) => {
      const query = parseWith(listDataQuerySchema, event.queryStringParameters ?? {}, 'query');
      return json(
        200,
        await listData(deps, {
          ...(query.prefix === undefined ? {} : { prefix: query.prefix }),
          ...(query.after === undefined ? {} : { after: query.after }),
          ...(query.limit === undefined ? {} : { limit: Number(query.limit) }),
        }),
      );
    },
    'PUT /v1/data/{key+}': async (event) => {
      const key = recordKey(event);
      const body = parseWith(putDataRequestSchema, parseJsonBody(event), 'data');
      return json(200, await putData(deps, key, body.value));
    },
    'GET /v1/data/{key+}': async (event) => json(200, await getData(deps, recordKey(event))),
    'DELETE /v1/data/{key+}': async (event) => json(200, await deleteData(deps, recordKey(event))),
  });
}
