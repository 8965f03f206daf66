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
