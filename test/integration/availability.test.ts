/**
 * Availability samples on DynamoDB (dynalite) and `GET /v1/regions`' availability from them: the
 * samples are a ring of one slot per minute of the day, so a day later a minute replaces its own
 * slot and the partition never grows; the API answers the asking region's last hour and day.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegionsHandler } from '../../functions/regions/handler.ts';
import { DynamoAvailabilityAdapter } from '../../lib/adapters/aws/dynamodb-availability.ts';
import { DynamoStateAdapter } from '../../lib/adapters/aws/dynamodb-state.ts';
import type { RegionalDeps } from '../../lib/app/deps.ts';
import type { AvailabilitySample, MinuteState } from '../../lib/core/health/availability.ts';
import { loadTopologyFile } from '../../lib/topology/load.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';
import { httpEvent, lambdaContext } from '../support/events.ts';

const T0 = Date.parse('2026-11-26T12:00:00Z');
const MIN = 60_000;
const DAY = 1440 * MIN;
const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';

let table: TestTable;
let availability: DynamoAvailabilityAdapter;

beforeAll(async () => {
  table = await startTestTable();
  availability = new DynamoAvailabilityAdapter({ client: table.doc, tableName: table.tableName });
});
afterAll(() => table.close());

const sample = (
  observer: string,
  minute: number,
  regions: Record<string, MinuteState>,
): AvailabilitySample => ({
  observer,
  minute,
  regions,
});

async function itemsOf(observer: string): Promise<number> {
  const page = await table.doc.send(
    new QueryCommand({
      TableName: table.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `AVAILABILITY#${observer}` },
    }),
  );
  return page.Items?.length ?? 0;
}

describe('the availability store', () => {
  it('lists an observer’s own samples from a minute on, oldest first', async () => {
    await availability.recordSample(sample('obs-a', T0 + 2 * MIN, { [US]: 'up' }));
    await availability.recordSample(sample('obs-a', T0, { [US]: 'unreachable' }));
    await availability.recordSample(sample('obs-a', T0 + MIN, { [US]: 'not_serving' }));
    await availability.recordSample(sample('obs-b', T0 + MIN, { [US]: 'up' }));
    expect(await availability.listSamples('obs-a', T0 + MIN)).toEqual([
      sample('obs-a', T0 + MIN, { [US]: 'not_serving' }),
      sample('obs-a', T0 + 2 * MIN, { [US]: 'up' }),
    ]);
    expect((await availability.listSamples('obs-b', 0)).map((s) => s.observer)).toEqual(['obs-b']);
  });

  it('a minute a day later replaces the same minute’s slot: the partition does not grow', async () => {
    await availability.recordSample(sample('obs-ring', T0, { [US]: 'unreachable' }));
    await availability.recordSample(sample('obs-ring', T0 + MIN, { [US]: 'up' }));
    await availability.recordSample(sample('obs-ring', T0 + DAY, { [US]: 'up' }));
    expect(await itemsOf('obs-ring')).toBe(2);
    expect(await availability.listSamples('obs-ring', 0)).toEqual([
      sample('obs-ring', T0 + MIN, { [US]: 'up' }),
      sample('obs-ring', T0 + DAY, { [US]: 'up' }),
    ]);
  });
});

describe('GET /v1/regions with availability', () => {
  it('answers each region’s last hour and last day from the asking region’s samples, with the SLA', async () => {
    const now = T0 + DAY + 30_000; // inside minute 1440 after T0
    // us-east-1's rounds sampled the last 120 minutes; eu-west-1 was unreachable in 3 of the
    // last 60 and ap-south-1 not serving in 30 minutes before the last hour. Another observer's
    // samples (it saw us-east-1 down all along) are not the asking region's view.
    for (let i = 0; i < 120; i++) {
      const minute = T0 + DAY - (119 - i) * MIN;
      const last = i >= 60;
      await availability.recordSample(
        sample(US, minute, {
          [US]: 'up',
          [EU]: last && i % 20 === 0 ? 'unreachable' : 'up',
          [AP]: !last && i < 30 ? 'not_serving' : 'up',
        }),
      );
      await availability.recordSample(sample(EU, minute, { [US]: 'unreachable', [EU]: 'up', [AP]: 'up' }));
    }
    const deps: RegionalDeps = {
      regionId: US,
      topology: loadTopologyFile(),
      state: new DynamoStateAdapter({ client: table.doc, tableName: table.tableName }),
      clock: { now: () => now },
      availability,
    };
    const result = await createRegionsHandler(deps)(
      httpEvent({ method: 'GET', path: '/v1/regions' }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(200);
    const byId = new Map(
      JSON.parse(result.body ?? '{}').regions.map((r: { region_id: string; availability: unknown }) => [
        r.region_id,
        r.availability,
      ]),
    );
    expect(byId.get(US)).toEqual({
      observer: US,
      last_hour: {
        window_minutes: 60,
        minutes_measured: 60,
        minutes_up: 60,
        minutes_not_measured: 0,
        percent: 100,
        sla: 99.99,
        meets_sla: true,
      },
      last_day: {
        window_minutes: 1440,
        minutes_measured: 120,
        minutes_up: 120,
        minutes_not_measured: 1320,
        percent: 100,
        sla: 99.99,
        meets_sla: true,
      },
    });
    // eu-west-1: 57 of 60 (95 %) in the hour, 117 of 120 (97.5 %) in the day.
    expect(byId.get(EU)).toMatchObject({
      last_hour: { minutes_up: 57, percent: 95, meets_sla: false },
      last_day: { minutes_measured: 120, minutes_up: 117, percent: 97.5 },
    });
    // ap-south-1: the whole last hour up; 90 of 120 (75 %) in the day.
    expect(byId.get(AP)).toMatchObject({
      last_hour: { percent: 100, meets_sla: true },
      last_day: { minutes_up: 90, percent: 75, meets_sla: false },
    });

    const one = await createRegionsHandler(deps)(
      httpEvent({
        method: 'GET',
        path: '/v1/regions/eu-west-1',
        routePath: '/v1/regions/{id}',
        pathParameters: { id: EU },
      }),
      lambdaContext,
    );
    expect(JSON.parse(one.body ?? '{}').availability.last_hour.percent).toBe(95);
  });
});
