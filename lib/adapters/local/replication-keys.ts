/**
 * Item keys for the local replication: a key in wire form whatever shape the caller sent, its
 * identity as one string, the table key schemas it is read with, and a lock per key.
 */
import { type AttributeValue, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** An item or key in wire form. */
export type Item = Record<string, AttributeValue>;

/**
 * A key in wire form. Key attributes are S, N or B, so the document client's native values
 * (string, number, bigint, Uint8Array, NumberValue) and wire values ({ S } ...) cannot be confused.
 */
export function normalizeKey(key: Record<string, unknown>): Item {
  const out: Item = {};
  for (const [name, value] of Object.entries(key)) out[name] = keyValue(name, value);
  return out;
}

/** One key attribute in wire form, from either shape. */
function keyValue(name: string, value: unknown): AttributeValue {
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number' || typeof value === 'bigint') return { N: String(value) };
  if (value instanceof Uint8Array) return { B: value };
  if (value !== null && typeof value === 'object') {
    const wire = value as Record<string, unknown>;
    if (typeof wire.S === 'string') return { S: wire.S };
    if (typeof wire.N === 'string') return { N: wire.N };
    if (wire.B instanceof Uint8Array) return { B: wire.B };
    // @aws-sdk/util-dynamodb's NumberValue (numbers beyond double precision).
    if (typeof wire.value === 'string') return { N: wire.value };
  }
  throw new Error(`replication: key attribute ${name} is not a string, number or binary`);
}

/** The identity of one item of one table, the same whatever order its key attributes came in. */
export function keyIdOf(table: string, key: Item): string {
  const parts = Object.keys(key)
    .sort()
    .map((name) => {
      const value = key[name];
      const text = value?.S ?? value?.N ?? (value?.B ? Buffer.from(value.B).toString('base64') : '');
      return [name, value?.S !== undefined ? 'S' : value?.N !== undefined ? 'N' : 'B', text];
    });
  return `${table}\u0000${JSON.stringify(parts)}`;
}

/** The key attribute names of each table, asked of the store once and kept. */
export class KeySchemas {
  readonly #schemas = new Map<string, Promise<readonly string[]>>();

  /** The key of `item` in wire form, read through `client` (the region's replicator client). */
  async keyOf(client: DynamoDBClient, table: string, item: Record<string, unknown>): Promise<Item> {
    let schema = this.#schemas.get(table);
    if (!schema) {
      schema = client.send(new DescribeTableCommand({ TableName: table })).then(({ Table }) => {
        const names = (Table?.KeySchema ?? []).flatMap((k) => (k.AttributeName ? [k.AttributeName] : []));
        if (names.length === 0) throw new Error(`replication: table ${table} has no key schema`);
        return names;
      });
      // A failed lookup (e.g. the table does not exist yet) is not cached; the write then fails on its own.
      schema.catch(() => this.#schemas.delete(table));
      this.#schemas.set(table, schema);
    }
    const names = await schema;
    return normalizeKey(Object.fromEntries(names.map((name) => [name, item[name]])));
  }
}

/** Async mutual exclusion per key; several keys are taken in sorted order so two lockers cannot deadlock. */
export class KeyLocks {
  readonly #tails = new Map<string, Promise<void>>();

  /** Waits until every key of `keys` is free and holds them; returns the function that frees them. */
  async acquire(keys: readonly string[]): Promise<() => void> {
    const releases: (() => void)[] = [];
    for (const key of [...new Set(keys)].sort()) releases.push(await this.#acquireOne(key));
    return () => {
      for (const release of releases.reverse()) release();
    };
  }

  /** Queues behind the key's last holder. */
  async #acquireOne(key: string): Promise<() => void> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => held);
    this.#tails.set(key, tail);
    await previous;
    return () => {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
  }
}
