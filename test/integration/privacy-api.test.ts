/**
 * The privacy API and sweeper through their middy chains with API Gateway events, against one
 * dynalite per region (each holding its copy of the replicated handoffs, written directly through
 * the state port), with a region that can be made unreachable and a clock the test moves.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPrivacyHandler } from '../../functions/privacy/handler.ts';
import { createPrivacySweeperHandler } from '../../functions/privacy-sweeper/handler.ts';
import { DynamoPrivacyAdapter } from '../../lib/adapters/aws/dynamodb-privacy.ts';
import { DynamoStateAdapter } from '../../lib/adapters/aws/dynamodb-state.ts';
import type { PrivacyDeps } from '../../lib/app/privacy/deps.ts';
import type { PrivacySweepReport } from '../../lib/app/privacy/sweep.ts';
import type { PrivacyRequestRecord } from '../../lib/core/privacy/types.ts';
import type { Handoff } from '../../lib/core/state/records.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import type { ControlPlaneEvent, PrivacyPort } from '../../lib/ports.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';
import { httpEvent, lambdaContext } from '../support/events.ts';

const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';
const REGIONS = [US, EU, AP];
const START = Date.parse('2026-11-26T12:00:00Z');
const DAY = 86_400_000;

const topology: Topology = validateTopology(defaultTopologyJson());
const tables = new Map<string, TestTable>();
const unreachable = new Set<string>();
let events: ControlPlaneEvent[];
let now: number;
let ids: number;
let run = 0;

/** Each test gets its own subjects and tasks (the tables live for the whole file). */
const subject = (name: string) => `${name}-${run}`;
const task = (name: string) => `${name}-${run}`;

function privacyPort(region: string): PrivacyPort {
  const table = tables.get(region) as TestTable;
  const port = new DynamoPrivacyAdapter({ client: table.doc, tableName: table.tableName });
  return new Proxy(port, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        unreachable.has(region)
          ? Promise.reject(new Error(`cannot reach the replica in ${region}`))
          : value.apply(target, args);
    },
  });
}

function state(region: string): DynamoStateAdapter {
  const table = tables.get(region) as TestTable;
  return new DynamoStateAdapter({ client: table.doc, tableName: table.tableName });
}

function deps(region: string): PrivacyDeps {
  return {
    regionId: region,
    topology,
    state: state(region),
    clock: { now: () => now },
    events: { publish: async (batch) => void events.push(...batch) },
    privacy: privacyPort,
  };
}

const newId = () => `dsr-00000000-0000-4000-8000-${String(++ids + run * 1000).padStart(12, '0')}`;

async function call(
  region: string,
  method: string,
  path: string,
  options: { body?: unknown; routePath?: string; id?: string; query?: Record<string, string> } = {},
) {
  const event = httpEvent({
    method,
    path,
    routePath: options.routePath ?? path,
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(options.id ? { pathParameters: { id: options.id } } : {}),
  });
  if (options.query) event.queryStringParameters = options.query;
  const result = await createPrivacyHandler(deps(region), { newId })(event, lambdaContext);
  return { status: result.statusCode, body: JSON.parse(result.body ?? 'null') };
}

const get = (region: string, id: string) =>
  call(region, 'GET', `/v1/privacy/requests/${id}`, { routePath: '/v1/privacy/requests/{id}', id });

async function sweep(region: string): Promise<PrivacySweepReport> {
  return createPrivacySweeperHandler(deps(region), { log: () => undefined })({}, lambdaContext);
}

/** A handoff as the router records it, with the task's subject (and legal hold) in `task`. */
function handoff(
  taskId: string,
  subjectId: string | undefined,
  options: { target?: string; hold?: { basis: string; reason: string } } = {},
): Handoff {
  return {
    handoff_id: `cross-region-${taskId}`,
    task_id: taskId,
    source_region: EU,
    target_region: options.target ?? EU,
    routing_score: 80,
    status: 'pending',
    created_at: new Date(now).toISOString(),
    task: {
      task_id: taskId,
      ...(subjectId === undefined ? {} : { subject_id: subjectId }),
      requirements: { data_residency: 'EU', data_classification: 'pii' },
      ...(options.hold ? { legal_hold: options.hold } : {}),
    },
    request_hash: 'seeded',
    decision: { candidates: [], excluded: [] },
  };
}

/** Writes the handoff into each region's replica, as replication would have. */
async function seed(h: Handoff, regions: readonly string[] = REGIONS): Promise<void> {
  for (const region of regions) await state(region).createHandoff(h);
}

async function held(region: string, h: Handoff): Promise<boolean> {
  return (await state(region).getHandoff(h.handoff_id)) !== undefined;
}

beforeAll(async () => {
  for (const region of REGIONS) tables.set(region, await startTestTable());
});
afterAll(async () => {
  for (const table of tables.values()) await table.close();
});
beforeEach(() => {
  run++;
  ids = 0;
  events = [];
  now = START + run * 1000;
  unreachable.clear();
});

describe('POST /v1/privacy/requests: bad input changes nothing', () => {
  it('rejects an unknown jurisdiction with 400 naming the field and the known ones', async () => {
    const answer = await call(EU, 'POST', '/v1/privacy/requests', {
      body: { type: 'access', subject_id: subject('u'), jurisdiction: 'atlantis' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details).toEqual([
      {
        field: 'jurisdiction',
        reason: 'unknown jurisdiction "atlantis"; known: european_union, india, united_states',
      },
    ]);
    const list = await call(EU, 'GET', '/v1/privacy/requests', { query: { subject_id: subject('u') } });
    expect(list.body.requests).toEqual([]);
  });

  it('answers 422 when the jurisdiction grants no such right (no individual_rights in its policy)', async () => {
    const answer = await call(US, 'POST', '/v1/privacy/requests', {
      body: { type: 'erasure', subject_id: subject('u'), jurisdiction: 'united_states' },
    });
    expect(answer.status).toBe(422);
    expect(answer.body.error).toEqual({
      code: 'RIGHT_NOT_GRANTED',
      message: 'united_states grants no erasure right',
      details: [
        { field: 'type', reason: 'the united_states policy (us-east-1) has no individual_rights.erasure' },
      ],
    });
    const list = await call(US, 'GET', '/v1/privacy/requests', { query: { subject_id: subject('u') } });
    expect(list.body.requests).toEqual([]);
    expect(events).toEqual([]);
  });

  it.each([
    [{ subject_id: 'u', jurisdiction: 'european_union' }, 'type'],
    [{ type: 'rectification', subject_id: 'u', jurisdiction: 'european_union' }, 'type'],
    [{ type: 'access', subject_id: 'has space', jurisdiction: 'european_union' }, 'subject_id'],
    [{ type: 'access', subject_id: 'u', jurisdiction: 'European Union' }, 'jurisdiction'],
    [{ type: 'access', subject_id: 'u', jurisdiction: 'european_union', urgent: true }, 'urgent'],
  ])('rejects %j with 400 naming %s', async (body, field) => {
    const answer = await call(EU, 'POST', '/v1/privacy/requests', { body });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('VALIDATION_FAILED');
    expect(answer.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(ids).toBe(0);
  });

  it('rejects a malformed request id with 400 and an unknown one with 404', async () => {
    expect((await get(EU, 'not-an-id')).status).toBe(400);
    expect((await get(EU, 'dsr-00000000-0000-4000-8000-999999999999')).status).toBe(404);
    const bad = await call(EU, 'GET', '/v1/privacy/requests', { query: { limit: '0' } });
    expect(bad.status).toBe(400);
    expect((await call(EU, 'GET', '/v1/privacy/requests', { query: { colour: 'red' } })).status).toBe(400);
  });
});

describe('access and portability', () => {
  it('exports the subject’s records from every region as JSON, once each, with proof per region', async () => {
    const mine = handoff(task('a1'), subject('ada'));
    const onlyInAp = handoff(task('a2'), subject('ada'), { target: AP });
    const someoneElse = handoff(task('a3'), subject('bob'));
    await seed(mine);
    await seed(onlyInAp, [AP]);
    await seed(someoneElse);

    const answer = await call(EU, 'POST', '/v1/privacy/requests', {
      body: { type: 'access', subject_id: subject('ada'), jurisdiction: 'european_union' },
    });
    expect(answer.status).toBe(201);
    const created = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
    expect(answer.body).toMatchObject({
      type: 'access',
      subject_id: subject('ada'),
      jurisdiction: 'european_union',
      received_in: EU,
      status: 'completed',
      created_at: created,
      due_at: new Date(Date.parse(created) + 30 * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      completed_at: created,
      exported_records: 2,
      right: { max_response_days: 30, format: 'structured', exceptions: [], policy_regions: [EU] },
    });
    expect(answer.body.version).toBeUndefined();
    for (const region of [US, EU]) {
      expect(answer.body.regions[region]).toMatchObject({
        outcome: 'searched',
        attempts: 1,
        found: [mine.handoff_id],
        records: [{ record_id: mine.handoff_id, kind: 'handoff', action: 'exported' }],
      });
    }
    expect(answer.body.regions[AP].found).toEqual([mine.handoff_id, onlyInAp.handoff_id].sort());
    expect(answer.body.export.format).toBe('structured');
    expect(answer.body.export.media_type).toBe('application/json');
    const records = answer.body.export.records as { record_id: string; data: Record<string, unknown> }[];
    expect(records.map((r) => r.record_id).sort()).toEqual([mine.handoff_id, onlyInAp.handoff_id].sort());
    const exported = records.find((r) => r.record_id === mine.handoff_id);
    expect(exported?.data).toMatchObject({ task_id: mine.task_id, task: mine.task, target_region: EU });
    // The routing internals are not the subject's data.
    expect(exported?.data.decision).toBeUndefined();
    expect(exported?.data.request_hash).toBeUndefined();

    expect(await get(EU, answer.body.request_id)).toEqual({ status: 200, body: answer.body });
    expect(events.map((e) => e.type)).toEqual(['privacy.request_received', 'privacy.request_completed']);
    expect(JSON.stringify(events)).not.toContain(subject('ada'));
  });

  it('portability answers in the policy’s machine-readable format', async () => {
    await seed(handoff(task('p1'), subject('pat')));
    const answer = await call(EU, 'POST', '/v1/privacy/requests', {
      body: { type: 'portability', subject_id: subject('pat'), jurisdiction: 'european_union' },
    });
    expect(answer.status).toBe(201);
    expect(answer.body.export).toMatchObject({ format: 'machine_readable', media_type: 'application/json' });
    expect(answer.body.export.records).toHaveLength(1);
  });

  it('lists requests newest first, filtered by subject, type and status', async () => {
    const body = (type: string) => ({ type, subject_id: subject('lin'), jurisdiction: 'european_union' });
    await call(EU, 'POST', '/v1/privacy/requests', { body: body('access') });
    now += 1000;
    await call(EU, 'POST', '/v1/privacy/requests', { body: body('portability') });
    const list = await call(EU, 'GET', '/v1/privacy/requests', { query: { subject_id: subject('lin') } });
    expect(list.body.requests.map((r: PrivacyRequestRecord) => r.type)).toEqual(['portability', 'access']);
    expect(list.body.requests[0].export).toBeUndefined();
    const access = await call(EU, 'GET', '/v1/privacy/requests', {
      query: { subject_id: subject('lin'), type: 'access', status: 'completed', limit: '5' },
    });
    expect(access.body.requests.map((r: PrivacyRequestRecord) => r.type)).toEqual(['access']);
  });
});

describe('erasure across regions', () => {
  it('erases the subject’s records in every region, keeps the one under legal obligation and says why, and finishes an unreachable region later', async () => {
    const plain = handoff(task('e1'), subject('eve'));
    const onHold = handoff(task('e2'), subject('eve'), {
      target: US,
      hold: { basis: 'legal_obligation', reason: 'invoice kept 10 years under tax law' },
    });
    const notYetReplicated = handoff(task('e3'), subject('eve'), { target: AP });
    const other = handoff(task('e4'), subject('olga'));
    await seed(plain);
    await seed(onHold);
    await seed(notYetReplicated, [AP]);
    await seed(other);
    unreachable.add(AP);

    const answer = await call(EU, 'POST', '/v1/privacy/requests', {
      body: { type: 'erasure', subject_id: subject('eve'), jurisdiction: 'european_union' },
    });
    expect(answer.status).toBe(202);
    expect(answer.body.status).toBe('partially_completed');
    expect(answer.body.export).toBeUndefined();
    for (const region of [US, EU]) {
      expect(answer.body.regions[region]).toEqual({
        region,
        outcome: 'searched',
        at: expect.any(String),
        attempts: 1,
        found: [plain.handoff_id, onHold.handoff_id],
        records: [
          { record_id: plain.handoff_id, kind: 'handoff', action: 'erased' },
          {
            record_id: onHold.handoff_id,
            kind: 'handoff',
            action: 'kept',
            exception: 'legal_obligation',
            reason: 'invoice kept 10 years under tax law',
          },
        ],
      });
      expect(await held(region, plain)).toBe(false);
      expect(await held(region, onHold)).toBe(true);
    }
    expect(answer.body.regions[AP]).toMatchObject({
      outcome: 'unreachable',
      attempts: 1,
      found: [],
      error: 'Error: cannot reach the replica in ap-south-1',
    });
    expect(await held(AP, plain)).toBe(true);

    // The region comes back; the hourly sweep of the receiving region finishes the job there.
    unreachable.delete(AP);
    now += 3_600_000;
    const report = await sweep(EU);
    expect(report.processed).toEqual({ [answer.body.request_id]: 'completed' });
    const done = (await get(EU, answer.body.request_id)).body;
    expect(done.status).toBe('completed');
    expect(done.regions[AP]).toMatchObject({
      outcome: 'searched',
      attempts: 2,
      found: [plain.handoff_id, onHold.handoff_id, notYetReplicated.handoff_id],
      records: [
        { record_id: plain.handoff_id, action: 'erased' },
        { record_id: onHold.handoff_id, action: 'kept', exception: 'legal_obligation' },
        { record_id: notYetReplicated.handoff_id, action: 'erased' },
      ],
    });
    // The regions searched before keep their proof as it was.
    expect(done.regions[US]).toEqual(answer.body.regions[US]);
    for (const region of REGIONS) {
      expect(await held(region, plain)).toBe(false);
      expect(await held(region, notYetReplicated)).toBe(false);
      expect(await held(region, onHold)).toBe(true);
      expect(await held(region, other)).toBe(true);
    }
    expect(events.map((e) => e.type)).toEqual(['privacy.request_received', 'privacy.request_completed']);
  });

  it('a hold whose basis the jurisdiction does not list does not stop the erasure, and the proof says so', async () => {
    const json = defaultTopologyJson();
    json.regional_compliance['eu-west-1'].individual_rights.erasure.exceptions = ['legal_obligation'];
    const narrow = validateTopology(json);
    const h = handoff(task('n1'), subject('nia'), { hold: { basis: 'public_interest', reason: 'archive' } });
    await seed(h);
    const handler = createPrivacyHandler({ ...deps(EU), topology: narrow }, { newId });
    const result = await handler(
      httpEvent({
        method: 'POST',
        path: '/v1/privacy/requests',
        body: { type: 'erasure', subject_id: subject('nia'), jurisdiction: 'european_union' },
      }),
      lambdaContext,
    );
    const body = JSON.parse(result.body ?? '{}');
    expect(body.right.exceptions).toEqual(['legal_obligation']);
    expect(body.regions[EU].records).toEqual([
      {
        record_id: h.handoff_id,
        kind: 'handoff',
        action: 'erased',
        reason: 'legal hold on public_interest ignored: not an erasure exception of this jurisdiction',
      },
    ]);
    expect(await held(EU, h)).toBe(false);
  });

  it('also erases the copies an earlier access request exported', async () => {
    const h = handoff(task('c1'), subject('cy'));
    await seed(h);
    const access = await call(EU, 'POST', '/v1/privacy/requests', {
      body: { type: 'access', subject_id: subject('cy'), jurisdiction: 'european_union' },
    });
    expect(access.body.export.records).toHaveLength(1);
    now += 1000;
    const erasure = await call(EU, 'POST', '/v1/privacy/requests', {
      body: { type: 'erasure', subject_id: subject('cy'), jurisdiction: 'european_union' },
    });
    expect(erasure.body.status).toBe('completed');
    expect(erasure.body.regions[EU].records).toContainEqual({
      record_id: `${access.body.request_id}/${h.handoff_id}`,
      kind: 'export',
      action: 'erased',
    });
    const after = await get(EU, access.body.request_id);
    expect(after.body.export.records).toEqual([]);
    // The proof of the earlier request stays: it is the controller's record of what it answered.
    expect(after.body.regions[EU].found).toEqual([h.handoff_id]);
  });
});

describe('the privacy sweeper', () => {
  it('reports an overdue request once, naming the regions still pending, never the subject', async () => {
    unreachable.add(AP);
    const answer = await call(EU, 'POST', '/v1/privacy/requests', {
      body: { type: 'access', subject_id: subject('owen'), jurisdiction: 'european_union' },
    });
    expect(answer.body.status).toBe('partially_completed');
    now += 29 * DAY;
    expect((await sweep(EU)).overdue).toEqual([]);
    now += 2 * DAY;
    const first = await sweep(EU);
    expect(first.overdue).toEqual([answer.body.request_id]);
    expect(first.processed).toEqual({ [answer.body.request_id]: 'partially_completed' });
    const overdue = events.filter((e) => e.type === 'privacy.request_overdue');
    expect(overdue).toEqual([
      {
        type: 'privacy.request_overdue',
        source_region: EU,
        time: expect.any(String),
        detail: {
          request_id: answer.body.request_id,
          request_type: 'access',
          jurisdiction: 'european_union',
          status: 'partially_completed',
          due_at: answer.body.due_at,
          days_overdue: 1,
          regions_pending: [AP],
        },
      },
    ]);
    expect(JSON.stringify(overdue)).not.toContain(subject('owen'));
    now += 3_600_000;
    expect((await sweep(EU)).overdue).toEqual([]);
    expect(events.filter((e) => e.type === 'privacy.request_overdue')).toHaveLength(1);
    expect((await get(EU, answer.body.request_id)).body.overdue_notified_at).toBeDefined();
  });

  it('leaves a request to the region that received it, and takes it over when that region has failed', async () => {
    unreachable.add(AP);
    const answer = await call(EU, 'POST', '/v1/privacy/requests', {
      body: { type: 'erasure', subject_id: subject('ugo'), jurisdiction: 'european_union' },
    });
    // The request replicates to us-east-1's replica.
    const record = await privacyPort(EU).getRequest(answer.body.request_id);
    await privacyPort(US).createRequest(record as PrivacyRequestRecord);
    unreachable.delete(AP);
    expect((await sweep(US)).processed).toEqual({});
    await state(US).putRegionStatus(
      {
        region_id: EU,
        status: 'failed',
        role: 'active',
        epoch: 1,
        updated_at: '2026-11-26T12:00:00Z',
        updated_by: 'test',
      },
      undefined,
    );
    const report = await sweep(US);
    expect(report.processed).toEqual({ [answer.body.request_id]: 'completed' });
  });
});
