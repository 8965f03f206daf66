/**
 * One request to a region's whole API in process, as API Gateway would route it (the local
 * dispatcher over the concern handlers): a path with its query string, an optional JSON body, the
 * answer's status and parsed body.
 */
import type { ControlDeps } from '../../lib/app/deps.ts';
import { createRegionalApi, type RegionalApiDeps } from '../../lib/local/regional-api.ts';
import { httpEvent } from './events.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read answers of every route's shape
export type CallAnswer = { status: number; body: any };

export async function callRegion(
  deps: ControlDeps,
  method: string,
  url: string,
  body?: unknown,
): Promise<CallAnswer> {
  const [path = '', query] = url.split('?');
  const event = {
    ...httpEvent({ method, path, ...(body === undefined ? {} : { body }) }),
    ...(query ? { queryStringParameters: Object.fromEntries(new URLSearchParams(query)) } : {}),
  };
  // A test wires the ports of the routes it calls; a route whose ports it left out fails in its use case.
  const result = await createRegionalApi(deps as RegionalApiDeps)(event);
  return { status: result.statusCode ?? 0, body: JSON.parse(result.body ?? 'null') };
}
