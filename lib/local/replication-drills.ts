/**
 * The local gateway's replication drills (`/v1/sim/replication...`, local runtime only): lag per
 * link, pause and resume (a partition of one direction), and corrupting one region's copy of an item
 * without replicating it (for consistency-check drills). Bodies are strict; a bad field is a 400
 * naming it, an unknown region a 404, and nothing changes.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod/mini';
import {
  type HttpResult,
  json,
  MethodNotAllowedError,
  parseJsonBody,
  parseWith,
  RouteNotFoundError,
} from '../../functions/shared/http.ts';
import { NotFoundError, ValidationError } from '../core/errors.ts';

/** What the drills need of the local replication (lib/adapters/local/replication.ts). */
interface ReplicationDrills {
  setLag(from: string, to: string, ms: number): void;
  pause(from: string, to: string): void;
  resume(from: string, to: string): void;
  corrupt(
    regionId: string,
    table: string,
    key: Readonly<Record<string, unknown>>,
    changes: Readonly<Record<string, unknown>> | null,
  ): Promise<unknown>;
  stats(): { readonly links: readonly { readonly from: string; readonly to: string }[] };
}

interface DrillContext {
  readonly replication: ReplicationDrills;
  /** Topology region ids. */
  readonly regions: readonly string[];
  /** The state table (the default `table` of a corruption). */
  readonly tableName: string;
  /** Every table a corruption may name (the state table and the placement's others); default the state table. */
  readonly tables?: readonly string[];
}

/** Ten simulated minutes, like the slowest injectable latency: beyond that it is a partition (pause). */
const MAX_LAG_MS = 600_000;

const REGION = z.string().check(z.minLength(1), z.maxLength(64));
const linkSchema = z.strictObject({ from: REGION, to: REGION });
const lagSchema = z.strictObject({
  from: REGION,
  to: REGION,
  lag_ms: z.number().check(z.int(), z.minimum(0), z.maximum(MAX_LAG_MS)),
});
const keyValue = z.union([z.string().check(z.minLength(1)), z.number()]);
const corruptSchema = z.strictObject({
  region: REGION,
  table: z.optional(z.string().check(z.minLength(3), z.maxLength(255))),
  key: z.record(z.string(), keyValue),
  changes: z.nullable(z.record(z.string(), z.unknown())),
});

function checkRegion(context: DrillContext, region: string): void {
  if (!context.regions.includes(region)) throw new NotFoundError('region', region);
}

function checkLink(context: DrillContext, from: string, to: string): void {
  checkRegion(context, from);
  checkRegion(context, to);
  if (from === to) {
    throw new ValidationError('invalid replication link', [
      { field: 'to', reason: `must differ from "from" (${from}): a region does not replicate to itself` },
    ]);
  }
}

function linkOf(context: DrillContext, from: string, to: string) {
  return context.replication.stats().links.find((l) => l.from === from && l.to === to);
}

function notAllowed(method: string, path: string): never {
  throw new MethodNotAllowedError(`${method} is not allowed on ${path}`);
}

/** Answers one drill request; throws typed errors for the gateway's error mapping. */
export async function replicationDrill(
  context: DrillContext,
  event: APIGatewayProxyEventV2,
): Promise<HttpResult> {
  const method = event.requestContext.http.method;
  const path = event.rawPath;
  switch (path) {
    case '/v1/sim/replication':
      return method === 'GET' ? json(200, context.replication.stats()) : notAllowed(method, path);
    case '/v1/sim/replication/lag': {
      if (method !== 'PUT') return notAllowed(method, path);
      const body = parseWith(lagSchema, parseJsonBody(event), 'replication lag');
      checkLink(context, body.from, body.to);
      context.replication.setLag(body.from, body.to, body.lag_ms);
      return json(200, { link: linkOf(context, body.from, body.to) });
    }
    case '/v1/sim/replication/pause':
    case '/v1/sim/replication/resume': {
      if (method !== 'POST') return notAllowed(method, path);
      const body = parseWith(linkSchema, parseJsonBody(event), 'replication link');
      checkLink(context, body.from, body.to);
      if (path.endsWith('/pause')) context.replication.pause(body.from, body.to);
      else context.replication.resume(body.from, body.to);
      return json(200, { link: linkOf(context, body.from, body.to) });
    }
    case '/v1/sim/replication/corrupt': {
      if (method !== 'POST') return notAllowed(method, path);
      const body = parseWith(corruptSchema, parseJsonBody(event), 'corruption');
      checkRegion(context, body.region);
      const keyNames = Object.keys(body.key);
      if (keyNames.length === 0) {
        throw new ValidationError('invalid corruption', [
          { field: 'key', reason: 'must name the item key attributes' },
        ]);
      }
      const touched = Object.keys(body.changes ?? {}).filter((name) => keyNames.includes(name));
      if (touched.length > 0) {
        throw new ValidationError('invalid corruption', [
          { field: `changes.${touched[0]}`, reason: 'a key attribute cannot change' },
        ]);
      }
      const table = body.table ?? context.tableName;
      const tables = context.tables ?? [context.tableName];
      if (!tables.includes(table)) {
        throw new ValidationError('invalid corruption', [
          { field: 'table', reason: `must be one of the local tables: ${tables.join(', ')}` },
        ]);
      }
      return json(200, await context.replication.corrupt(body.region, table, body.key, body.changes));
    }
    default:
      throw new RouteNotFoundError(`no route for ${method} ${path}`);
  }
}
