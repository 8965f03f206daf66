import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHealthHandler } from '../../functions/health/handler.ts';
import type { RegionalDeps } from '../../lib/app/deps.ts';
import { StateUnavailableError } from '../../lib/core/errors.ts';
import { BUNDLED_PATHS } from '../../lib/core/health/probe-bundle.ts';
import type { RegionStatus } from '../../lib/core/state/records.ts';
import type { StatePort } from '../../lib/ports.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';
import { httpEvent, lambdaContext } from '../support/events.ts';
import { regionalDepsOn, setRegionStatus } from '../support/regional-deps.ts';

// The bundled probe answer (GET /coordination/probe) on the default topology as shipped, through the
// health concern's real middy chain and a dynalite replica: each part is what its own route answers.

const NOW = Date.parse('2026-11-26T12:00:00Z');
const ALL = BUNDLED_PATHS.join(',');

let table: TestTable;
let deps: RegionalDeps;

beforeAll(async () => {
  table = await startTestTable();
  deps = regionalDepsOn(table, { now: () => NOW });
});
afterAll(() => table.close());

const setStatus = (status: RegionStatus) => setRegionStatus(deps.state, 'us-east-1', status);

async function get(path: string, query?: Record<string, string>, using: RegionalDeps = deps) {
  const event = httpEvent({ method: 'GET', path });
  const r = await createHealthHandler(using)(
    query ? { ...event, queryStringParameters: query } : event,
    lambdaContext,
  );
  return { status: r.statusCode, body: JSON.parse(r.body ?? '{}') };
}

/** The replica's own method (its private fields need the replica itself as `this`). */
function bound(state: StatePort, property: string | symbol): unknown {
  const value = Reflect.get(state, property);
  return typeof value === 'function' ? value.bind(state) : value;
}

const bundle = (paths = ALL, using: RegionalDeps = deps) =>
  get('/coordination/probe', { paths, timeout_ms: '10000' }, using);

describe('GET /coordination/probe', () => {
  // Invariant: each part carries exactly the status (and for the status document, the body) its own
  // route answers, in the order asked, with the time it took.
  it('answers each bundled path with what its own route answers, in the order asked', async () => {
    for (const status of ['healthy', 'failed'] as const) {
      await setStatus(status);
      const answer = await bundle();
      expect(answer.status).toBe(200);
      expect(answer.body.parts.map((p: { path: string }) => p.path)).toEqual([...BUNDLED_PATHS]);
      for (const part of answer.body.parts) {
        const own = await get(part.path);
        expect(part.status, `${status} ${part.path}`).toBe(own.status);
        expect(part.ms).toBeGreaterThanOrEqual(0);
        if (part.path === '/coordination/status') expect(part.body).toEqual(own.body);
        else expect(part.body).toBeUndefined();
      }
      expect(answer.body.ms).toBeGreaterThanOrEqual(0);
    }
    await setStatus('healthy');
    const reversed = await bundle('/coordination/status,/health');
    expect(reversed.body.parts.map((p: { path: string }) => p.path)).toEqual([
      '/coordination/status',
      '/health',
    ]);
  });

  // Invariant: a part that fails fails alone, with the status its route's error boundary answers;
  // the other parts still answer (an isolated component stays isolated).
  it('answers a failing part with its own error status while the others answer', async () => {
    const cutOff: StatePort = new Proxy(deps.state, {
      get: (target, property) =>
        property === 'listHeartbeats'
          ? () => Promise.reject(new StateUnavailableError('state', 'us-east-1', 'cut off from the majority'))
          : bound(target, property),
    });
    const answer = await bundle(ALL, { ...deps, state: cutOff });
    const byPath = Object.fromEntries(
      answer.body.parts.map((p: { path: string; status: number }) => [p.path, p]),
    );
    expect(answer.status).toBe(200);
    expect(byPath['/api/v1/ping'].status).toBe(200);
    expect(byPath['/coordination/status'].status).toBe(
      (await get('/coordination/status', undefined, { ...deps, state: cutOff })).status,
    );
    expect(byPath['/coordination/status'].status).toBe(503);
    expect(byPath['/coordination/status'].body).toBeUndefined();
  });

  // Invariant: a part still running when the answer must leave is that part's timeout (no status),
  // and the others are not held back by it.
  it('answers a hung part without a status by the deadline, the others with theirs', async () => {
    // Only the status document reads the pool: that part hangs, /health and ping do not.
    const hung = { getPool: () => new Promise(() => {}) } as unknown as RegionalDeps['resources'];
    const answer = await get(
      '/coordination/probe',
      { paths: ALL, timeout_ms: '400' },
      { ...deps, resources: hung },
    );
    const byPath = Object.fromEntries(answer.body.parts.map((p: { path: string }) => [p.path, p]));
    expect(byPath['/coordination/status'].status).toBeUndefined();
    expect(byPath['/api/v1/ping'].status).toBe(200);
    expect(byPath['/health'].status).toBe(200);
  });

  // Invariant: bad input is a 400 naming the field, and nothing is answered for it.
  it('rejects a bad query with 400 naming the field', async () => {
    const cases: [Record<string, string> | undefined, string][] = [
      [undefined, 'paths'],
      [{ timeout_ms: '1000' }, 'paths'],
      [{ paths: '/v1/route', timeout_ms: '1000' }, 'paths'],
      [{ paths: '/health,/health', timeout_ms: '1000' }, 'paths'],
      [{ paths: ALL }, 'timeout_ms'],
      [{ paths: ALL, timeout_ms: '10.5' }, 'timeout_ms'],
      [{ paths: ALL, timeout_ms: '99999999' }, 'timeout_ms'],
      [{ paths: ALL, timeout_ms: '1000', extra: '1' }, 'extra'],
    ];
    for (const [query, field] of cases) {
      const answer = await get('/coordination/probe', query);
      expect(answer.status, JSON.stringify(query)).toBe(400);
      expect(answer.body.error.code).toBe('VALIDATION_FAILED');
      expect(answer.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
  });
});
