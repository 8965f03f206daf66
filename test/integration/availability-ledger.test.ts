/**
 * The availability ledger on DynamoDB (dynalite): `GET /v1/regions` reads one small item per call
 * however many samples the day holds (the dashboard asks every 1.5 s), the ledger is kept as each
 * sample is written (also when two writes of one observer meet), and an observer whose samples were
 * written before the ledger existed is read from its ring until its next sample stores the ledger.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegionsHandler } from '../../functions/regions/handler.ts';
import { DynamoAvailabilityAdapter } from '../../lib/adapters/aws/dynamodb-availability.ts';
import { DynamoStateAdapter } from '../../lib/adapters/aws/dynamodb-state.ts';
import { keys } from '../../lib/adapters/aws/state-keys.ts';
import type { AvailabilitySample, MinuteState } from '../../lib/core/health/availability.ts';
import { loadTopologyFile } from '../../lib/topology/load.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';
import { httpEvent, lambdaContext } from '../support/events.ts';

const T0 = Date.parse('2026-11-26T12:00:00Z');
const MIN = 60_000;
const DAY_MINUTES = 1440;
const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';

let table: TestTable;

beforeAll(async () => {
  table = await startTestTable();
});
afterAll(() => table.close());

/** The table's client, recording each command's name and partition key. */
function counting(): { client: DynamoDBDocumentClient; calls: string[] } {
  const calls: string[] = [];
  const client = {
    send: (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const input = command.input as {
        Key?: { pk?: string };
        ExpressionAttributeValues?: Record<string, unknown>;
      };
      const pk = input.Key?.pk ?? Object.values(input.ExpressionAttributeValues ?? {})[0];
      calls.push(`${command.constructor.name} ${String(pk)}`);
      return table.doc.send(command as never);
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, calls };
}

const sample = (
  observer: string,
  minute: number,
  regions: Record<string, MinuteState>,
): AvailabilitySample => ({
  observer,
  minute,
  regions,
});

/** Samples written to the ring only, as before the ledger existed. */
async function writeRing(samples: readonly AvailabilitySample[]): Promise<void> {
  for (let i = 0; i < samples.length; i += 25) {
    await table.doc.send(
      new BatchWriteCommand({
        RequestItems: {
          [table.tableName]: samples.slice(i, i + 25).map((s) => ({
            PutRequest: {
              Item: {
                ...keys.availabilitySample(s.observer, s.minute),
                record_type: 'availability',
                observer: s.observer,
                minute: s.minute,
                regions: s.regions,
              },
            },
          })),
        },
      }),
    );
  }
}

describe('the availability ledger in the state table', () => {
  it('GET /v1/regions reads one ledger item after a simulated day, never the day’s samples', async () => {
    // A day of samples as the ring holds them (written in batches: a minute each would take long
    // here), then the last minute's through the store, which rolls the ring into the ledger.
    const day = Array.from({ length: DAY_MINUTES }, (_, i) =>
      sample(US, T0 + i * MIN, { [US]: i % 400 === 0 ? 'unreachable' : 'up', [EU]: 'up', [AP]: 'up' }),
    );
    await writeRing(day.slice(0, -1));
    const store = new DynamoAvailabilityAdapter({ client: table.doc, tableName: table.tableName });
    await store.recordSample(day.at(-1) as AvailabilitySample);
    const { client, calls } = counting();
    const deps = {
      regionId: US,
      topology: loadTopologyFile(),
      state: new DynamoStateAdapter({ client: table.doc, tableName: table.tableName }),
      clock: { now: () => T0 + (DAY_MINUTES - 1) * MIN + 30_000 },
      availability: new DynamoAvailabilityAdapter({ client, tableName: table.tableName }),
    };
    const result = await createRegionsHandler(deps)(
      httpEvent({ method: 'GET', path: '/v1/regions' }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(200);
    expect(calls).toEqual([`GetCommand ${keys.availabilityLedger(US).pk}`]);
    const us = JSON.parse(result.body ?? '{}').regions.find((r: { region_id: string }) => r.region_id === US);
    expect(us.availability.last_day).toMatchObject({ minutes_measured: 1440, minutes_up: 1436 });
    expect(us.availability.last_hour).toMatchObject({ minutes_measured: 60, minutes_up: 60 });
    // The day is stored as runs: a few bytes per region, not one character per minute.
    const stored = await table.doc.send(
      new GetCommand({
        TableName: table.tableName,
        Key: keys.availabilityLedger(US),
      }),
    );
    expect(JSON.stringify(stored.Item).length).toBeLessThan(400);
  });

  it('two writes of one observer that meet both land (the loser adds its sample to the winner’s ledger)', async () => {
    const store = new DynamoAvailabilityAdapter({ client: table.doc, tableName: table.tableName });
    await store.recordSample(sample('race-obs', T0, { [US]: 'up' }));
    await Promise.all([
      store.recordSample(sample('race-obs', T0 + MIN, { [US]: 'unreachable' })),
      store.recordSample(sample('race-obs', T0 + 2 * MIN, { [US]: 'not_serving' })),
    ]);
    expect((await store.readLedger('race-obs'))?.regions[US]).toBe('uxn');
  });

  it('an observer with samples but no ledger yet is read from its ring, and its next sample stores the ledger', async () => {
    await writeRing(
      [0, 1, 2].map((i) => sample('old-obs', T0 + i * MIN, { [US]: i === 1 ? 'unreachable' : 'up' })),
    );
    const store = new DynamoAvailabilityAdapter({ client: table.doc, tableName: table.tableName });
    expect(await store.readLedger('old-obs')).toEqual({
      observer: 'old-obs',
      last_minute: T0 + 2 * MIN,
      regions: { [US]: 'uxu' },
    });
    await store.recordSample(sample('old-obs', T0 + 3 * MIN, { [US]: 'up' }));
    const { client, calls } = counting();
    const reader = new DynamoAvailabilityAdapter({ client, tableName: table.tableName });
    expect((await reader.readLedger('old-obs'))?.regions[US]).toBe('uxuu');
    expect(calls).toHaveLength(1);
  });

  it('an observer that never wrote has no ledger (every window not measured)', async () => {
    const store = new DynamoAvailabilityAdapter({ client: table.doc, tableName: table.tableName });
    expect(await store.readLedger('nobody')).toBeUndefined();
  });
});
