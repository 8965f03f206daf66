/**
 * The data API's use cases (selective replication): a key is written to, read from and
 * deleted in its selective policy's table for the region serving the call, so it is copied exactly
 * where the policy allows (a `same_jurisdiction` key written in eu-west-1 stays in the EU table;
 * read from a region of another jurisdiction it is simply not there). Retention and immutability are
 * the store's: an expired record reads as absent, an immutable one is written once and never deleted.
 */
import { NotFoundError, ValidationError } from '../core/errors.ts';
import { placeReplication, policyForKey, type ReplicationPlacement } from '../core/replication/placement.ts';
import type { SelectiveRecord } from '../core/replication/records.ts';
import type { Topology } from '../core/topology/types.ts';
import type { Ports, RegionBasics } from './deps.ts';

/** `/`-separated non-empty segments without control characters; at most 1024 characters. */
const DATA_KEY_PATTERN = /^[^/\p{Cc}]+(\/[^/\p{Cc}]+)*$/u;
const MAX_DATA_KEY_LENGTH = 1024;

export interface DataView extends SelectiveRecord {
  /** Where the policy keeps it: every region holding the table this region wrote it to. */
  readonly replicas: readonly string[];
}

/** What the data API's use cases read: the region, its topology and its selective tables. */
type DataDeps = Pick<RegionBasics, 'regionId' | 'topology'> & Pick<Ports, 'selective'>;

/** The key as the path gave it, checked; a 400 naming `key` otherwise. */
export function checkDataKey(key: string): string {
  if (key.length === 0 || key.length > MAX_DATA_KEY_LENGTH || !DATA_KEY_PATTERN.test(key)) {
    throw new ValidationError('invalid key', [
      {
        field: 'key',
        reason: `must be 1-${MAX_DATA_KEY_LENGTH} characters of /-separated non-empty segments without control characters (got ${JSON.stringify(key.slice(0, 80))})`,
      },
    ]);
  }
  return key;
}

const placements = new WeakMap<Topology, ReplicationPlacement>();

/** The topology's placement, computed once per topology object. */
function placementOf(topology: Topology): ReplicationPlacement {
  let placement = placements.get(topology);
  if (!placement) {
    placement = placeReplication(topology);
    placements.set(topology, placement);
  }
  return placement;
}

function viewOf(deps: DataDeps, record: SelectiveRecord): DataView {
  const placement = placementOf(deps.topology);
  const table = placement.tables.find((t) => t.name === record.table);
  return { ...record, replicas: table?.regions ?? [deps.regionId] };
}

export async function putData(
  deps: DataDeps,
  key: string,
  value: Record<string, unknown>,
): Promise<DataView> {
  const record = await deps.selective.put(checkDataKey(key), value);
  return viewOf(deps, record);
}

export async function getData(deps: DataDeps, key: string): Promise<DataView> {
  const store = deps.selective;
  const record = await store.get(checkDataKey(key));
  if (!record) throw new NotFoundError('data', key);
  return viewOf(deps, record);
}

export async function deleteData(
  deps: DataDeps,
  key: string,
): Promise<{ readonly key: string; readonly deleted: boolean; readonly policy_id: string | undefined }> {
  const deleted = await deps.selective.delete(checkDataKey(key));
  const policy = policyForKey(placementOf(deps.topology), key);
  return { key, deleted, policy_id: policy?.policyId };
}

const DEFAULT_LIST_LIMIT = 100;

interface DataListing {
  readonly region: string;
  readonly prefix: string;
  /** The records (without their values: GET each key for it), in key order. */
  readonly records: readonly Omit<SelectiveRecord, 'value'>[];
  /** Pass as `after` for the next page; absent on the last page. */
  readonly next_after?: string;
}

/** `GET /v1/data?prefix=&after=&limit=`: this region's unexpired records under a key prefix. */
export async function listData(
  deps: DataDeps,
  query: { readonly prefix?: string; readonly after?: string; readonly limit?: number },
): Promise<DataListing> {
  const prefix = query.prefix ?? '';
  if (prefix.length > MAX_DATA_KEY_LENGTH || /\p{Cc}/u.test(prefix)) {
    throw new ValidationError('invalid listing', [
      {
        field: 'prefix',
        reason: `must be at most ${MAX_DATA_KEY_LENGTH} characters without control characters`,
      },
    ]);
  }
  if (query.after !== undefined) checkDataKey(query.after);
  const limit = query.limit ?? DEFAULT_LIST_LIMIT;
  const { records, more } = await deps.selective.list(prefix, limit, query.after);
  const listed = records.map(({ value: _value, ...rest }) => rest);
  const last = listed[listed.length - 1];
  return {
    region: deps.regionId,
    prefix,
    records: listed,
    ...(more && last ? { next_after: last.key } : {}),
  };
}
