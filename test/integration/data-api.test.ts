/**
 * The data API (selectively replicated data) on the local runtime with real dynalite stores:
 * each key goes to its selective policy's table for the region serving the call, so it reaches
 * exactly the regions the policy allows; immutability and retention hold; bad input is a 400 that
 * names the field and writes nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runComplianceAudit } from '../../lib/app/compliance/audit.ts';
import { createRegionalApi } from '../../lib/local/regional-api.ts';
import { type LocalRuntime, startLocalRuntime } from '../../lib/runtime/local.ts';
import { loadTopologyFile } from '../../lib/topology/load.ts';
import { httpEvent } from '../support/events.ts';
import { ManualScheduler } from '../support/manual-time.ts';
import { callRegion } from '../support/regional-call.ts';

const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';
const DAY_MS = 86_400_000;

let runtime: LocalRuntime;
let dataDir: string;
const scheduler = new ManualScheduler();

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cortex-data-api-'));
  runtime = await startLocalRuntime({
    topology: loadTopologyFile(),
    dataDir,
    fresh: true,
    inMemory: true,
    scheduler,
  });
});

afterAll(async () => {
  await runtime.close();
  await rm(dataDir, { recursive: true, force: true });
});

function call(region: string, method: string, url: string, body?: unknown) {
  return callRegion(runtime.region(region).deps, method, url, body);
}

/** Delivers every queued replication change. */
const replicate = () => runtime.replication.flush({ all: true });

describe('PUT, GET and DELETE /v1/data/{key+}', () => {
  it('writes a knowledge-base entry to its policy table; every region reads it once replicated', async () => {
    const key = 'coordination/team-7/knowledge-base/runbook-1';
    const put = await call(US, 'PUT', `/v1/data/${key}`, { value: { title: 'Runbook', steps: 3 } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      key,
      policy_id: 'knowledge_base_replication',
      table: 'cortex-sel-knowledge_base_replication',
      region: US,
      replicas: [US, EU, AP],
      value: { title: 'Runbook', steps: 3 },
    });
    expect(put.body.expires_at).toBeUndefined();
    await replicate();
    for (const region of [EU, AP]) {
      const got = await call(region, 'GET', `/v1/data/${key}`);
      expect(got.status).toBe(200);
      expect(got.body.value).toEqual({ title: 'Runbook', steps: 3 });
    }
    const deleted = await call(EU, 'DELETE', `/v1/data/${key}`);
    expect(deleted).toEqual({
      status: 200,
      body: { key, deleted: true, policy_id: 'knowledge_base_replication' },
    });
    await replicate();
    expect((await call(US, 'GET', `/v1/data/${key}`)).status).toBe(404);
    expect((await call(US, 'DELETE', `/v1/data/${key}`)).body.deleted).toBe(false);
  });

  it('keeps compliance data in its jurisdiction: written in eu-west-1, no other region holds it', async () => {
    const key = 'coordination/compliance/gdpr-audit-2026-11';
    const put = await call(EU, 'PUT', `/v1/data/${key}`, { value: { findings: 0 } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      policy_id: 'compliance_data_replication',
      table: 'cortex-sel-compliance_data_replication-european_union',
      replicas: [EU],
    });
    // Retention 2555 days from the write.
    expect(put.body.expires_at).toBe(Math.floor(scheduler.now() / 1000) + 2555 * 86_400);
    await replicate();
    expect((await call(EU, 'GET', `/v1/data/${key}`)).status).toBe(200);
    for (const region of [US, AP]) {
      const got = await call(region, 'GET', `/v1/data/${key}`);
      expect(got.status).toBe(404);
    }
  });

  it('writes an immutable record once: a second put and any delete are 409 and change nothing', async () => {
    const key = 'coordination/compliance/soc2-evidence-1';
    expect((await call(US, 'PUT', `/v1/data/${key}`, { value: { v: 1 } })).status).toBe(200);
    const again = await call(US, 'PUT', `/v1/data/${key}`, { value: { v: 2 } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('IMMUTABLE_RECORD');
    const deleted = await call(US, 'DELETE', `/v1/data/${key}`);
    expect(deleted.status).toBe(409);
    expect((await call(US, 'GET', `/v1/data/${key}`)).body.value).toEqual({ v: 1 });
  });

  it('reads an expired record as absent, and the expiry sweep removes it', async () => {
    const key = 'coordination/compliance/expiring-1';
    expect((await call(AP, 'PUT', `/v1/data/${key}`, { value: { v: 1 } })).status).toBe(200);
    scheduler.time += 2556 * DAY_MS;
    try {
      expect((await call(AP, 'GET', `/v1/data/${key}`)).status).toBe(404);
      expect(await runtime.region(AP).selective.sweepExpired()).toBeGreaterThanOrEqual(1);
      // Expired, an immutable key may be written again.
      expect((await call(AP, 'PUT', `/v1/data/${key}`, { value: { v: 2 } })).status).toBe(200);
    } finally {
      scheduler.time -= 2556 * DAY_MS;
    }
  });

  it('is audited: the compliance audit finds a record stored outside its jurisdiction table', async () => {
    const key = 'coordination/compliance/audited-1';
    expect((await call(US, 'PUT', `/v1/data/${key}`, { value: { v: 1 } })).status).toBe(200);
    const clean = await runComplianceAudit(runtime.region(US).deps, { trigger: 'manual', regions: [US] });
    expect(clean.scope.selective_records).toBeGreaterThanOrEqual(1);
    expect(clean.violations.filter((v) => v.rule === 'selective_placement')).toEqual([]);

    // A record written past the API, as if eu-west-1 had written into the US jurisdiction's table.
    const client = DynamoDBDocumentClient.from(runtime.region(US).store.createClient());
    await client.send(
      new PutCommand({
        TableName: 'cortex-sel-compliance_data_replication-united_states',
        Item: {
          pk: 'DATA#coordination/compliance/smuggled',
          sk: 'DATA',
          key: 'coordination/compliance/smuggled',
          policy_id: 'compliance_data_replication',
          region: EU,
          value: { gdpr: true },
          written_at: new Date(scheduler.now()).toISOString(),
          expires_at: Math.floor(scheduler.now() / 1000) + 2555 * 86_400,
        },
      }),
    );
    const found = await runComplianceAudit(runtime.region(US).deps, { trigger: 'manual', regions: [US] });
    const violation = found.violations.find((v) => v.rule === 'selective_placement');
    expect(violation).toMatchObject({
      type: 'data_residency',
      region: US,
      record: {
        kind: 'selective_record',
        id: 'cortex-sel-compliance_data_replication-united_states/coordination/compliance/smuggled',
      },
    });
    expect(violation?.detail).toContain(
      'its policy places it in cortex-sel-compliance_data_replication-european_union',
    );
    expect(found.status).toBe('non_compliant');
  });

  it("lists a region's records under a prefix in key order, page by page, without other jurisdictions' data", async () => {
    const keys = ['a', 'b', 'c'].map((k) => `coordination/listing/knowledge-base/${k}`);
    for (const key of keys)
      expect((await call(US, 'PUT', `/v1/data/${key}`, { value: { k: key } })).status).toBe(200);
    expect((await call(US, 'PUT', '/v1/data/coordination/compliance/listing-us', { value: {} })).status).toBe(
      200,
    );
    await replicate();

    const first = await call(US, 'GET', '/v1/data?prefix=coordination/listing/&limit=2');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ region: US, prefix: 'coordination/listing/', next_after: keys[1] });
    expect(first.body.records.map((r: { key: string }) => r.key)).toEqual(keys.slice(0, 2));
    expect(first.body.records[0]).toMatchObject({ policy_id: 'knowledge_base_replication', region: US });
    expect(first.body.records[0].value).toBeUndefined();
    const second = await call(
      US,
      'GET',
      `/v1/data?prefix=coordination/listing/&limit=2&after=${encodeURIComponent(keys[1] ?? '')}`,
    );
    expect(second.body.records.map((r: { key: string }) => r.key)).toEqual([keys[2]]);
    expect(second.body.next_after).toBeUndefined();

    // ap-south-1 holds the knowledge base (replicated) but not the US compliance table.
    const fromAp = await call(AP, 'GET', '/v1/data?prefix=coordination/');
    const apKeys = fromAp.body.records.map((r: { key: string }) => r.key);
    expect(apKeys).toEqual(expect.arrayContaining(keys));
    expect(apKeys).not.toContain('coordination/compliance/listing-us');
    const fromUs = await call(US, 'GET', '/v1/data?prefix=coordination/compliance/listing');
    expect(fromUs.body.records.map((r: { key: string }) => r.key)).toEqual([
      'coordination/compliance/listing-us',
    ]);

    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['limit=ten', 'limit'],
      ['sort=key', 'sort'],
    ] as const) {
      const api = createRegionalApi(runtime.region(US).deps);
      const result = await api({
        ...httpEvent({ method: 'GET', path: '/v1/data' }),
        queryStringParameters: Object.fromEntries(new URLSearchParams(query)),
      });
      expect(result.statusCode, query).toBe(400);
      expect(String(result.body)).toContain(field);
    }
  });

  it('rejects bad input with a 400 naming the field, and writes nothing', async () => {
    const cases: [string, string, unknown, string][] = [
      ['PUT', '/v1/data/notes/unplaced-key', { value: {} }, 'key'],
      ['PUT', '/v1/data/coordination/t/knowledge-base/x', { value: [1, 2] }, 'value'],
      ['PUT', '/v1/data/coordination/t/knowledge-base/x', { value: 'text' }, 'value'],
      ['PUT', '/v1/data/coordination/t/knowledge-base/x', { value: {}, extra: 1 }, 'extra'],
      ['PUT', '/v1/data/coordination/t/knowledge-base/x', {}, 'value'],
      ['PUT', '/v1/data/coordination/t/knowledge-base/bad%0Akey', { value: {} }, 'key'],
    ];
    for (const [method, path, body, field] of cases) {
      const answer = await call(US, method, path, body);
      expect(answer.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      expect(answer.body.error.details.map((d: { field: string }) => d.field).join(' ')).toContain(field);
    }
    const api = createRegionalApi(runtime.region(US).deps);
    const withQuery = await api({
      ...httpEvent({ method: 'GET', path: '/v1/data/coordination/t/knowledge-base/x' }),
      queryStringParameters: { limit: '1' },
    });
    expect(withQuery.statusCode).toBe(400);
    expect(withQuery.body).toContain('limit');
    expect((await call(US, 'GET', '/v1/data/coordination/t/knowledge-base/x')).status).toBe(404);
    // A path with an empty segment matches no route at all.
    expect((await call(US, 'GET', '/v1/data/coordination//x')).status).toBe(404);
  });
});
