/**
 * The replication placement on the local control plane, against real dynalite stores: each store
 * holds exactly the tables with a replica in its region, and the local replication copies a table's
 * writes only among that table's regions (a jurisdiction's table never leaves it).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DynamoDBClient, ListTablesCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReplication } from '../../lib/adapters/local/replication.ts';
import { ConflictError, TopologyError, ValidationError } from '../../lib/core/errors.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { type LocalRuntime, startLocalRuntime } from '../../lib/runtime/local.ts';
import { editedTopology } from '../fixtures/replication-topologies.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';

const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';
const REGIONS = [US, EU, AP];
const EU_COMPLIANCE = 'cortex-sel-compliance_data_replication-european_union';
const KNOWLEDGE_BASE = 'cortex-sel-knowledge_base_replication';
const DAY_MS = 86_400_000;

/** Time that moves only when the test says so (replication is delivered by `flush`). */
class ManualScheduler {
  time = Date.UTC(2026, 10, 26, 12);
  now(): number {
    return this.time;
  }
  setTimer(): () => void {
    return () => undefined;
  }
}

interface Started {
  readonly runtime: LocalRuntime;
  readonly scheduler: ManualScheduler;
  readonly clients: Record<string, DynamoDBClient>;
}

const started: { runtime: LocalRuntime; dataDir: string }[] = [];

async function start(topology: Topology): Promise<Started> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cortex-placement-'));
  const scheduler = new ManualScheduler();
  const runtime = await startLocalRuntime({ topology, dataDir, fresh: true, scheduler });
  started.push({ runtime, dataDir });
  const clients = Object.fromEntries(REGIONS.map((r) => [r, runtime.region(r).store.createClient()]));
  return { runtime, scheduler, clients };
}

afterAll(async () => {
  for (const { runtime, dataDir } of started.splice(0)) {
    await runtime.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

async function tablesIn(client: DynamoDBClient): Promise<string[]> {
  return ((await client.send(new ListTablesCommand({}))).TableNames ?? []).sort();
}

/** Every item of every table in a store whose `key` attribute is `key`, as `table` names. */
async function tablesHolding(client: DynamoDBClient, key: string): Promise<string[]> {
  const holding: string[] = [];
  for (const table of await tablesIn(client)) {
    const { Items } = await client.send(new ScanCommand({ TableName: table }));
    if ((Items ?? []).some((item) => item.key?.S === key || item.pk?.S === `DATA#${key}`))
      holding.push(table);
  }
  return holding;
}

describe('the default topology on local stores', () => {
  let env: Started;

  beforeAll(async () => {
    env = await start(validateTopology(defaultTopologyJson()));
  });

  it('creates in each store exactly the tables with a replica in its region', async () => {
    expect(await tablesIn(env.clients[US] as DynamoDBClient)).toEqual([
      'cortex-sel-compliance_data_replication-united_states',
      KNOWLEDGE_BASE,
      'cortex-state',
    ]);
    expect(await tablesIn(env.clients[EU] as DynamoDBClient)).toEqual([
      EU_COMPLIANCE,
      KNOWLEDGE_BASE,
      'cortex-state',
    ]);
    expect(await tablesIn(env.clients[AP] as DynamoDBClient)).toEqual([
      'cortex-sel-compliance_data_replication-india',
      KNOWLEDGE_BASE,
      'cortex-state',
    ]);
    expect(env.runtime.placement.errors).toEqual([]);
  });

  it('never copies a same_jurisdiction record written in eu-west-1 to us-east-1 or ap-south-1', async () => {
    const key = 'coordination/compliance/audit-eu-1';
    const record = await env.runtime.region(EU).selective.put(key, { verdict: 'compliant' });
    expect(record).toMatchObject({
      table: EU_COMPLIANCE,
      region: EU,
      policy_id: 'compliance_data_replication',
    });
    await env.runtime.replication.flush({ all: true });
    expect(await tablesHolding(env.clients[EU] as DynamoDBClient, key)).toEqual([EU_COMPLIANCE]);
    expect(await tablesHolding(env.clients[US] as DynamoDBClient, key)).toEqual([]);
    expect(await tablesHolding(env.clients[AP] as DynamoDBClient, key)).toEqual([]);
    // Nothing was even queued towards another region for it.
    const links = env.runtime.replication.stats().links.filter((l) => l.from === EU);
    expect(links.every((l) => l.queued === 0)).toBe(true);
  });

  it('copies a knowledge-base record (target all) to every region', async () => {
    const key = 'coordination/tenant-1/knowledge-base/runbook';
    await env.runtime.region(AP).selective.put(key, { text: 'restart the worker' });
    await env.runtime.replication.flush({ all: true });
    for (const region of REGIONS) {
      expect(await tablesHolding(env.clients[region] as DynamoDBClient, key)).toEqual([KNOWLEDGE_BASE]);
      expect((await env.runtime.region(region).selective.get(key))?.value).toEqual({
        text: 'restart the worker',
      });
    }
  });

  it('keeps an immutable record unchanged: a second put and a delete are refused with the current record', async () => {
    const key = 'coordination/compliance/audit-eu-2';
    const selective = env.runtime.region(EU).selective;
    const first = await selective.put(key, { verdict: 'compliant' });
    expect(first.expires_at).toBe(Math.floor(env.scheduler.time / 1000) + 2555 * 86_400);
    const overwrite = await selective.put(key, { verdict: 'forged' }).catch((e: unknown) => e);
    expect(overwrite).toBeInstanceOf(ConflictError);
    expect(overwrite).toMatchObject({
      code: 'IMMUTABLE_RECORD',
      current: { value: { verdict: 'compliant' } },
    });
    const removal = await selective.delete(key).catch((e: unknown) => e);
    expect(removal).toMatchObject({ code: 'IMMUTABLE_RECORD' });
    expect((await selective.get(key))?.value).toEqual({ verdict: 'compliant' });
  });

  it('lets a mutable record change and go', async () => {
    const key = 'coordination/tenant-2/knowledge-base/faq';
    const selective = env.runtime.region(US).selective;
    await selective.put(key, { version: 1 });
    await selective.put(key, { version: 2 });
    expect((await selective.get(key))?.value).toEqual({ version: 2 });
    await selective.delete(key);
    expect(await selective.get(key)).toBeUndefined();
  });

  it('refuses a replica set naming a region the replication does not know', async () => {
    const regions = [{ regionId: US, client: env.clients[US] as DynamoDBClient }];
    await expect(
      startReplication({ regions, tables: [{ name: 't', regions: [US, 'mars-1'] }] }),
    ).rejects.toThrow('table t names unknown region(s) mars-1');
  });

  it('refuses a key no selective policy places', async () => {
    const error = await env.runtime
      .region(US)
      .selective.put('coordination/tenant-1/other', {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details[0]?.field).toBe('key');
  });

  it('reads an expired record as absent, accepts a new one under its key, and sweeps expired ones', async () => {
    const key = 'coordination/compliance/audit-in-1';
    const selective = env.runtime.region(AP).selective;
    await selective.put(key, { verdict: 'compliant' });
    env.scheduler.time += 2556 * DAY_MS;
    expect(await selective.get(key)).toBeUndefined();
    expect(await selective.sweepExpired()).toBeGreaterThanOrEqual(1);
    expect(await tablesHolding(env.clients[AP] as DynamoDBClient, key)).toEqual([]);
    await selective.put(key, { verdict: 'reviewed' });
    expect((await selective.get(key))?.value).toEqual({ verdict: 'reviewed' });
  });
});

describe('a jurisdiction spanning two regions on local stores', () => {
  it('replicates its table between those two only', async () => {
    const env = await start(
      editedTopology((json) => {
        json.regional_compliance[AP].jurisdiction = 'european_union';
      }),
    );
    expect(await tablesIn(env.clients[AP] as DynamoDBClient)).toContain(EU_COMPLIANCE);
    expect(await tablesIn(env.clients[US] as DynamoDBClient)).not.toContain(EU_COMPLIANCE);
    const key = 'coordination/compliance/audit-eu-3';
    await env.runtime.region(EU).selective.put(key, { verdict: 'compliant' });
    await env.runtime.replication.flush({ all: true });
    expect(await tablesHolding(env.clients[AP] as DynamoDBClient, key)).toEqual([EU_COMPLIANCE]);
    expect((await env.runtime.region(AP).selective.get(key))?.region).toBe(EU);
    expect(await tablesHolding(env.clients[US] as DynamoDBClient, key)).toEqual([]);
    // And an immutable record replicated there is just as immutable.
    const again = await env.runtime
      .region(AP)
      .selective.put(key, { verdict: 'forged' })
      .catch((e: unknown) => e);
    expect(again).toMatchObject({ code: 'IMMUTABLE_RECORD' });
  });
});

describe('a placement outside a jurisdiction', () => {
  it('does not start, naming the field', async () => {
    const json = defaultTopologyJson();
    json.replication_strategies.selective.policies[1].target_regions = ['all'];
    const dataDir = await mkdtemp(join(tmpdir(), 'cortex-placement-'));
    try {
      const error = await startLocalRuntime({ topology: validateTopology(json), dataDir, fresh: true }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TopologyError);
      expect((error as TopologyError).details[0]?.field).toBe(
        'replication_strategies.selective.policies[1].target_regions',
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
