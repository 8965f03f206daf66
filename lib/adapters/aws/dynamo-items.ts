/**
 * What every DynamoDB adapter of the state table shares: the item shape, hiding the layout's key
 * attributes and replication metadata, and reading every page of a Query.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { TargetHealth, WindowSample } from '../../core/health/types.ts';

export type Item = Record<string, unknown>;

/** The single-table layout's own attributes (state-keys.ts), never part of a record. */
const LAYOUT_ATTRIBUTES = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'record_type']);

/** Drops the layout's key attributes and replication metadata (`aws:rep:*`, as global tables write). */
export function strip<T>(item: Item): T {
  const out: Item = {};
  for (const [name, value] of Object.entries(item)) {
    if (!LAYOUT_ATTRIBUTES.has(name) && !name.startsWith('aws:rep:')) out[name] = value;
  }
  return out as T;
}

/** Every item of a Query, following LastEvaluatedKey page by page. */
export async function queryAll(client: DynamoDBDocumentClient, input: QueryCommandInput): Promise<Item[]> {
  const items: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/**
 * A table as an adapter reaches it: the client of the replica it talks to and the table's name. On
 * AWS every table of a region is behind the same client; the local MRSC stand-in has its own.
 */
export interface TableRef {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

/**
 * Puts `item` only where no item has its key (one conditional write): false when one does, so the
 * caller answers with its own conflict; any other error propagates unchanged.
 */
export async function putIfAbsent(
  client: DynamoDBDocumentClient,
  tableName: string,
  item: Item,
): Promise<boolean> {
  try {
    await client.send(
      new PutCommand({
        TableName: tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': 'pk' },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/**
 * `#fN = :vN` assignments for a record patch (undefined fields left as they are), added to `names`
 * and `values`; returns the assignments for an UpdateExpression's SET.
 */
export function patchAssignments(
  patch: object,
  names: Record<string, string>,
  values: Record<string, unknown>,
): string[] {
  const sets: string[] = [];
  Object.entries(patch).forEach(([field, value], i) => {
    if (value === undefined) return;
    names[`#f${i}`] = field;
    values[`:v${i}`] = value;
    sets.push(`#f${i} = :v${i}`);
  });
  return sets;
}

/**
 * A health view's item with its window of calls (`w`) and its endpoints (`e`) each in one short
 * string attribute instead of a list or map of maps: DynamoDB charges a write unit per started
 * kilobyte, and thirty maps that each repeat five attribute names make a view of about 2.5 KB (three
 * units a write, in every replica, every round); the strings keep it under 1 KB. What a string
 * cannot hold exactly (a name or error with a separator in it, a time that is not a whole number of
 * ms, a field the format does not know) is written as before, and reads take both forms: a rolling
 * deployment writes both.
 */
export function healthViewItem(view: TargetHealth): Item {
  const { window, endpoints, ...rest } = view;
  const item: Item = { ...rest };
  const compactWindow = encodeWindow(window);
  if (compactWindow === undefined) item.window = window;
  else item[WINDOW_ATTRIBUTE] = compactWindow;
  const compactEndpoints = encodeEndpoints(endpoints);
  if (compactEndpoints === undefined) item.endpoints = endpoints;
  else item[ENDPOINTS_ATTRIBUTE] = compactEndpoints;
  return item;
}

/** The view a health view's item holds, in either form (see healthViewItem). */
export function healthViewOf(item: Item): TargetHealth {
  const { [WINDOW_ATTRIBUTE]: window, [ENDPOINTS_ATTRIBUTE]: endpoints, ...rest } = strip<Item>(item);
  return {
    ...rest,
    ...(typeof window === 'string' ? { window: decodeWindow(window) } : {}),
    ...(typeof endpoints === 'string' ? { endpoints: decodeEndpoints(endpoints) } : {}),
  } as unknown as TargetHealth;
}

/** The compact attributes, and the version each string starts with. */
const WINDOW_ATTRIBUTE = 'w';
const ENDPOINTS_ATTRIBUTE = 'e';
const WINDOW_FORMAT = '1';
const ENDPOINT_FIELDS = new Set(['consecutive_failures', 'last_ok', 'last_error']);
/** Text a compact string holds as it is: no separator of either format. */
const PLAIN = /^[^,;|]*$/;

/**
 * `1|<endpoint>,<consecutive failures>,<last ok 1|0>[,<last error>];...`: undefined when an
 * endpoint's name or error holds a separator, its count is not a whole number, or it has a field
 * this format does not know.
 */
function encodeEndpoints(endpoints: TargetHealth['endpoints']): string | undefined {
  const parts: string[] = [];
  for (const [name, health] of Object.entries(endpoints)) {
    if (Object.keys(health).some((k) => !ENDPOINT_FIELDS.has(k))) return undefined;
    if (!PLAIN.test(name) || !Number.isSafeInteger(health.consecutive_failures)) return undefined;
    const error = health.last_error;
    if (error !== undefined && !PLAIN.test(error)) return undefined;
    parts.push(
      [
        name,
        String(health.consecutive_failures),
        health.last_ok ? '1' : '0',
        ...(error === undefined ? [] : [error]),
      ].join(','),
    );
  }
  return `${WINDOW_FORMAT}|${parts.join(';')}`;
}

function decodeEndpoints(encoded: string): TargetHealth['endpoints'] {
  const [format, list = ''] = encoded.split('|');
  if (format !== WINDOW_FORMAT) throw new Error(`health view endpoints in an unknown format "${format}"`);
  const endpoints: Record<string, TargetHealth['endpoints'][string]> = {};
  for (const part of list === '' ? [] : list.split(';')) {
    const [name = '', failures = '0', ok = '0', ...error] = part.split(',');
    endpoints[name] = {
      consecutive_failures: Number(failures),
      last_ok: ok === '1',
      ...(error.length === 0 ? {} : { last_error: error.join(',') }),
    };
  }
  return endpoints;
}
const SAMPLE_FIELDS = new Set(['at', 'ok', 'latency_ms', 'endpoint', 'answered']);

/**
 * `1|<endpoints, comma separated>|<first at>|<samples, semicolon separated>`, each sample
 * `<ms since the previous sample, base 36>,<endpoint index or empty>,<ok 1|0><answered 1|0 or empty>,<latency ms>`.
 */
function encodeWindow(window: readonly WindowSample[]): string | undefined {
  const endpoints: string[] = [];
  const samples: string[] = [];
  const first = window[0]?.at ?? 0;
  let previous = first;
  for (const sample of window) {
    if (Object.keys(sample).some((k) => !SAMPLE_FIELDS.has(k))) return undefined;
    if (!Number.isSafeInteger(sample.at) || !Number.isFinite(sample.latency_ms)) return undefined;
    const delta = sample.at - previous;
    if (!Number.isSafeInteger(delta)) return undefined;
    previous = sample.at;
    let index = '';
    if (sample.endpoint !== undefined) {
      if (!PLAIN.test(sample.endpoint)) return undefined;
      let i = endpoints.indexOf(sample.endpoint);
      if (i < 0) i = endpoints.push(sample.endpoint) - 1;
      index = String(i);
    }
    const answered = sample.answered === undefined ? '' : sample.answered ? '1' : '0';
    samples.push(`${delta.toString(36)},${index},${sample.ok ? '1' : '0'}${answered},${sample.latency_ms}`);
  }
  return [WINDOW_FORMAT, endpoints.join(','), String(first), samples.join(';')].join('|');
}

function decodeWindow(encoded: string): WindowSample[] {
  const [format, endpointList = '', firstText = '0', sampleList = ''] = encoded.split('|');
  if (format !== WINDOW_FORMAT) throw new Error(`health view window in an unknown format "${format}"`);
  const endpoints = endpointList === '' ? [] : endpointList.split(',');
  let at = Number(firstText);
  return (sampleList === '' ? [] : sampleList.split(';')).map((text) => {
    const [delta = '0', index = '', flags = '', latency = '0'] = text.split(',');
    at += Number.parseInt(delta, 36);
    const endpoint = index === '' ? undefined : endpoints[Number(index)];
    return {
      at,
      ok: flags[0] === '1',
      latency_ms: Number(latency),
      ...(endpoint === undefined ? {} : { endpoint }),
      ...(flags.length > 1 ? { answered: flags[1] === '1' } : {}),
    };
  });
}
