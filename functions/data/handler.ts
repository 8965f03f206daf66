import middy from '@middy/core';
import * as z from 'zod/mini';
import { deleteData, getData, listData, putData } from '../../lib/app/data.ts';
import type { RegionalDeps } from '../../lib/app/deps.ts';
import {
  type HttpEvent,
  type HttpResult,
  httpErrorBoundary,
  json,
  parseJsonBody,
  parseWith,
} from '../shared/http.ts';
import { listDataQuerySchema, putDataRequestSchema } from './request.ts';

const noQuery = z.strictObject({});

/**
 * The data API (selectively replicated data): `GET /v1/data?prefix=&after=&limit=` (this region's
 * records under a prefix, without values), `PUT /v1/data/{key+}` (`{ value }`: 200 the record),
 * `GET /v1/data/{key+}` (200 the record, 404), `DELETE /v1/data/{key+}` (200 `{ key, deleted }`).
 * Each key lives in its selective policy's table for this region.
 */
export function createDataHandler(deps: RegionalDeps) {
  return middy<HttpEvent, HttpResult>()
    .use(httpErrorBoundary(deps.log))
    .handler(async (event) => {
      if (event.routeKey === 'GET /v1/data') {
        const query = parseWith(listDataQuerySchema, event.queryStringParameters ?? {}, 'query');
        return json(
          200,
          await listData(deps, {
            ...(query.prefix === undefined ? {} : { prefix: query.prefix }),
            ...(query.after === undefined ? {} : { after: query.after }),
            ...(query.limit === undefined ? {} : { limit: Number(query.limit) }),
          }),
        );
      }
      const key = event.pathParameters?.key ?? '';
      parseWith(noQuery, event.queryStringParameters ?? {}, 'query');
      switch (event.routeKey) {
        case 'PUT /v1/data/{key+}': {
          const body = parseWith(putDataRequestSchema, parseJsonBody(event), 'data');
          return json(200, await putData(deps, key, body.value));
        }
        case 'GET /v1/data/{key+}':
          return json(200, await getData(deps, key));
        case 'DELETE /v1/data/{key+}':
          return json(200, await deleteData(deps, key));
        default:
          return json(404, { error: { code: 'NOT_FOUND', message: `no route ${event.routeKey}` } });
      }
    });
}
