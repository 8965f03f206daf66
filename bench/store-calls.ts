/**
 * What one store call costs the process, through the document client and the local stores'
 * in-process handler: dynalite on LevelDB (the local control plane) against dynalite in memory (a
 * run that never restarts: `inMemory`, lib/local/stores.ts). A GetItem of an absent key and a
 * Query of an empty partition, as most reads of the handlers are; CPU (user + sys) per call, median
 * of interleaved rounds, so that a loaded machine weighs on both sides alike.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { startRegionalStores } from '../lib/local/stores.ts';

const TABLE = 'bench-store-calls';

interface StoreCallCost {
  readonly storage: 'LevelDB' | 'memory';
  /** Median CPU ms per GetItem and per Query over the rounds. */
  readonly get_cpu_ms: number;
  readonly query_cpu_ms: number;
}

const CALLS = {
  get: () => new GetCommand({ TableName: TABLE, Key: { pk: 'ABSENT', sk: 'ABSENT' }, ConsistentRead: true }),
  query: () =>
    new QueryCommand({
      TableName: TABLE,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': 'pk' },
      ExpressionAttributeValues: { ':pk': 'EMPTY' },
      ConsistentRead: true,
    }),
};

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** CPU ms per call of `kind` over `calls` calls. */
async function cpuPerCall(
  doc: DynamoDBDocumentClient,
  kind: keyof typeof CALLS,
  calls: number,
): Promise<number> {
  const started = process.cpuUsage();
  // biome-ignore lint/suspicious/noExplicitAny: both commands go to the same client; their outputs are not read.
  for (let i = 0; i < calls; i++) await doc.send(CALLS[kind]() as any);
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000 / calls;
}

export async function measureStoreCalls(rounds = 5, calls = 1000): Promise<StoreCallCost[]> {
  const dir = await mkdtemp(join(tmpdir(), 'cortex-bench-store-calls-'));
  const sides = await Promise.all(
    (['LevelDB', 'memory'] as const).map(async (storage) => {
      const stores = await startRegionalStores({
        regionIds: ['us-east-1'],
        dataDir: join(dir, storage),
        tableName: TABLE,
        inMemory: storage === 'memory',
      });
      const doc = DynamoDBDocumentClient.from(stores.get('us-east-1').createClient());
      for (const kind of ['get', 'query'] as const) await cpuPerCall(doc, kind, 200); // warm up
      return { storage, stores, doc, get: [] as number[], query: [] as number[] };
    }),
  );
  try {
    for (let round = 0; round < rounds; round++) {
      for (const side of sides) {
        side.get.push(await cpuPerCall(side.doc, 'get', calls));
        side.query.push(await cpuPerCall(side.doc, 'query', calls));
      }
    }
    return sides.map((side) => ({
      storage: side.storage,
      get_cpu_ms: median(side.get),
      query_cpu_ms: median(side.query),
    }));
  } finally {
    for (const side of sides) await side.stores.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  for (const c of await measureStoreCalls()) {
    console.log(
      `store call through the local stores, dynalite on ${c.storage}: GetItem ${c.get_cpu_ms.toFixed(3)} ms CPU, ` +
        `Query ${c.query_cpu_ms.toFixed(3)} ms CPU (median of interleaved rounds)`,
    );
  }
}
