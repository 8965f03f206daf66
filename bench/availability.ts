/**
 * What one `GET /v1/regions` costs after a simulated day of availability samples (the dashboard asks
 * every 1.5 s), on the default topology through the regions handler against dynalite: reading the
 * day's samples from the ring (one Query of 1,440 items, what the API read before the ledger) against
 * reading the observer's ledger (one GetItem). Store calls and bytes are per call; ms is the median.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createRegionsHandler } from '../functions/regions/handler.ts';
import { DynamoAvailabilityAdapter } from '../lib/adapters/aws/dynamodb-availability.ts';
import { DynamoStateAdapter } from '../lib/adapters/aws/dynamodb-state.ts';
import { keys } from '../lib/adapters/aws/state-keys.ts';
import type { RegionalDeps } from '../lib/app/deps.ts';
import {
  type AvailabilityLedger,
  type AvailabilitySample,
  DAY_MINUTES,
  MINUTE_MS,
  withSample,
} from '../lib/core/health/availability.ts';
import { validateTopology } from '../lib/core/topology/validate.ts';
import type { AvailabilityPort } from '../lib/ports.ts';
import { readTopologyJson } from '../lib/topology/load.ts';
import { startTestTable } from '../test/support/dynalite.ts';
import { httpEvent, lambdaContext } from '../test/support/events.ts';

export interface RegionsReadFigures {
  readonly label: string;
  readonly store_calls: number;
  /** Items' bytes (as JSON) the availability read brought back, per call. */
  readonly availability_bytes: number;
  readonly p50_ms: number;
}

const T0 = Date.parse('2026-11-26T00:00:00Z');

/** The doc client, counting calls and the bytes of what they answered. */
function counting(doc: DynamoDBDocumentClient) {
  const tally = { calls: 0, bytes: 0 };
  const client = {
    send: async (command: never) => {
      tally.calls += 1;
      const answer = (await doc.send(command)) as { Item?: unknown; Items?: unknown[] };
      tally.bytes += JSON.stringify(answer.Item ?? answer.Items ?? '').length;
      return answer;
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, tally };
}

export async function measureRegionsRead(calls = 200): Promise<RegionsReadFigures[]> {
  const table = await startTestTable();
  try {
    const topology = validateTopology(readTopologyJson());
    const observer = topology.regions[0]?.region_id ?? 'us-east-1';
    const ids = topology.regions.map((r) => r.region_id);
    const day: AvailabilitySample[] = Array.from({ length: DAY_MINUTES }, (_, i) => ({
      observer,
      minute: T0 + i * MINUTE_MS,
      regions: Object.fromEntries(ids.map((id, n) => [id, (i + n) % 500 === 0 ? 'unreachable' : 'up'])),
    }));
    // The ring, written in batches; then the last minute through the store, which stores the ledger.
    for (let i = 0; i < day.length - 1; i += 25) {
      await table.doc.send(
        new BatchWriteCommand({
          RequestItems: {
            [table.tableName]: day.slice(i, Math.min(i + 25, day.length - 1)).map((s) => ({
              PutRequest: {
                Item: { ...keys.availabilitySample(s.observer, s.minute), record_type: 'availability', ...s },
              },
            })),
          },
        }),
      );
    }
    await new DynamoAvailabilityAdapter({ client: table.doc, tableName: table.tableName }).recordSample(
      day.at(-1) as AvailabilitySample,
    );
    const now = T0 + (DAY_MINUTES - 1) * MINUTE_MS + 30_000;
    const figures: RegionsReadFigures[] = [];
    for (const label of ['day of samples (ring Query, before)', 'ledger (one GetItem, now)']) {
      const { client, tally } = counting(table.doc);
      const store = new DynamoAvailabilityAdapter({ client, tableName: table.tableName });
      const availability: AvailabilityPort = label.startsWith('ledger')
        ? store
        : {
            recordSample: (s) => store.recordSample(s),
            readLedger: async (o) =>
              (await store.listSamples(o, now - DAY_MINUTES * MINUTE_MS)).reduce<
                AvailabilityLedger | undefined
              >((l, s) => withSample(l, s), undefined),
          };
      const deps: RegionalDeps = {
        regionId: observer,
        topology,
        state: new DynamoStateAdapter({ client: table.doc, tableName: table.tableName }),
        clock: { now: () => now },
        availability,
      };
      const handler = createRegionsHandler(deps);
      const call = async () => {
        const result = await handler(httpEvent({ method: 'GET', path: '/v1/regions' }), lambdaContext);
        if (result.statusCode !== 200) throw new Error(`GET /v1/regions answered ${result.statusCode}`);
      };
      for (let i = 0; i < 20; i++) await call(); // warm up
      tally.calls = 0;
      tally.bytes = 0;
      const samples: number[] = [];
      for (let i = 0; i < calls; i++) {
        const t0 = performance.now();
        await call();
        samples.push(performance.now() - t0);
      }
      samples.sort((a, b) => a - b);
      figures.push({
        label,
        store_calls: tally.calls / calls,
        availability_bytes: Math.round(tally.bytes / calls),
        p50_ms: samples[Math.floor(samples.length / 2)] ?? Number.NaN,
      });
    }
    return figures;
  } finally {
    await table.close();
  }
}
