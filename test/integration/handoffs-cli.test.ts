/**
 * `cortex handoffs list|show|accept` against the regions of the local runtime, each served over HTTP
 * on loopback: handoffs routed through the real router, listed page by page from a region's replica,
 * shown with their history, accepted in their target region whichever endpoint is asked first.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Handoff } from '../../lib/core/state/records.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { type LocalRuntime, startLocalRuntime } from '../../lib/runtime/local.ts';
import { defaultTopologyJson, inQuietHour } from '../fixtures/topologies.ts';
import { cli } from '../support/cli.ts';
import { type ServedRegion, serveRegion } from '../support/served-region.ts';

const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';
let dataDir: string;
let runtime: LocalRuntime;
const served = new Map<string, ServedRegion>();
const endpoint = (region: string) => served.get(region)?.endpoint as string;
/** Handoff ids by the region they were routed to. */
const routed: Record<string, string[]> = { [US]: [], [EU]: [], [AP]: [] };

/** Where each task goes: its residency allows one region only. */
const PLACES = [
  { region: EU, country: 'DE', residency: 'EU' },
  { region: US, country: 'US', residency: 'US' },
  { region: AP, country: 'IN', residency: 'IN' },
];

type Place = (typeof PLACES)[number];

async function route(taskId: string, place: Place): Promise<string> {
  const response = await fetch(`${endpoint(US)}/v1/route`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      task_id: taskId,
      priority: 'normal',
      source: { country: place.country },
      requirements: { data_residency: place.residency, workers: 1, compute_units: 2 },
    }),
  });
  const body = (await response.json()) as { region: string; handoff: { handoff_id: string } };
  expect(response.status, JSON.stringify(body)).toBe(200);
  expect(body.region).toBe(place.region);
  return body.handoff.handoff_id;
}

/** The shipped topology in a quiet hour (a third of the spec's usage): every region has room. */
function quietTopology() {
  const raw = inQuietHour(defaultTopologyJson());
  return validateTopology(raw);
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cortex-handoffs-cli-'));
  runtime = await startLocalRuntime({
    topology: quietTopology(),
    dataDir,
    fresh: true,
    inMemory: true,
    replicationLagMs: 10,
  });
  for (const region of [US, EU, AP]) served.set(region, await serveRegion(runtime, region));
  for (let i = 0; i < 3; i++) routed[EU]?.push(await route(`eu-task-${i}`, PLACES[0] as Place));
  routed[US]?.push(await route('us-task-0', PLACES[1] as Place));
  routed[AP]?.push(await route('ap-task-0', PLACES[2] as Place));
  await runtime.replication.flush({ all: true });
});
afterAll(async () => {
  for (const s of served.values()) await s.close();
  await runtime.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('cortex handoffs list', () => {
  it('prints a table of every handoff the replica holds, oldest first', async () => {
    const c = cli();
    expect(await c.run('handoffs', 'list', '--endpoint', endpoint(EU))).toBe(0);
    expect(c.err).toEqual([]);
    const text = c.out.join('\n');
    expect(text).toMatch(/^HANDOFF\s+TASK\s+STATUS\s+TARGET\s+FROM\s+AGE\s+REASON$/m);
    for (const [region, ids] of Object.entries(routed)) {
      for (const id of ids)
        expect(text).toMatch(
          new RegExp(`^${id}\\s+\\S+\\s+pending\\s+${region}\\s+${US}\\s+\\d+s\\s+-$`, 'm'),
        );
    }
    expect(text.split('\n').at(-1)).toBe('5 handoff(s)');
  });

  it('filters by target region and status', async () => {
    const c = cli();
    expect(
      await c.run('handoffs', 'list', '--region', EU, '--status', 'pending', '--endpoint', endpoint(EU)),
    ).toBe(0);
    const rows = c.out
      .join('\n')
      .split('\n')
      .filter((l) => l.startsWith('cross-region-'));
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual(routed[EU]);
    expect(c.out.at(-1)).toBe(`3 handoff(s) (to ${EU}, pending)`);

    const none = cli();
    expect(await none.run('handoffs', 'list', '--status', 'failed', '--endpoint', endpoint(EU))).toBe(0);
    expect(none.out).toEqual(['no handoffs (failed)', '0 handoff(s) (failed)']);
  });

  it('pages with --limit, prints the cursor of the next page, and follows every page with --all', async () => {
    const first = cli();
    expect(await first.run('handoffs', 'list', '--limit', '2', '--endpoint', endpoint(EU))).toBe(0);
    const footer = first.out.at(-1) as string;
    const cursor = /; more: --after (\S+)$/.exec(footer)?.[1];
    expect(footer, footer).toMatch(/^2 handoff\(s\); more: --after \S+$/);
    const seen: string[] = [...(first.out.join('\n').match(/^cross-region-\S+/gm) ?? [])];

    const second = cli();
    expect(
      await second.run(
        'handoffs',
        'list',
        '--limit',
        '2',
        '--after',
        cursor as string,
        '--endpoint',
        endpoint(EU),
      ),
    ).toBe(0);
    seen.push(...(second.out.join('\n').match(/^cross-region-\S+/gm) ?? []));

    const all = cli();
    expect(
      await all.run('handoffs', 'list', '--limit', '2', '--all', '--json', '--endpoint', endpoint(EU)),
    ).toBe(0);
    const listed = JSON.parse(all.out.join('\n'));
    expect(listed.next).toBeUndefined();
    const ids = listed.handoffs.map((h: { handoff_id: string }) => h.handoff_id);
    expect(ids).toHaveLength(5);
    expect(new Set(ids).size).toBe(5);
    expect(ids.slice(0, 4)).toEqual(seen);
  });

  it('prints the API answer as it is with --json, the next cursor included', async () => {
    const c = cli();
    expect(await c.run('handoffs', 'list', '--limit', '1', '--json', '--endpoint', endpoint(EU))).toBe(0);
    const page = JSON.parse(c.out.join('\n'));
    expect(page.handoffs).toHaveLength(1);
    expect(typeof page.next).toBe('string');
    expect(page.handoffs[0].request_hash).toBeUndefined();
  });

  it('exits 2 naming the option for a bad status or limit, and 1 with the reasons for an unknown region', async () => {
    const status = cli();
    expect(await status.run('handoffs', 'list', '--status', 'running')).toBe(2);
    expect(status.err[0]).toBe(
      'cortex: --status must be one of pending, accepted, completed, failed, redirected, got "running"',
    );
    expect(status.err[1]).toMatch(/^usage: cortex handoffs list /);
    for (const limit of ['0', '101', 'ten']) {
      const c = cli();
      expect(await c.run('handoffs', 'list', '--limit', limit)).toBe(2);
      expect(c.err[0]).toBe(`cortex: --limit must be an integer from 1 to 100, got "${limit}"`);
    }
    const unknown = cli();
    expect(await unknown.run('handoffs', 'list', '--bogus')).toBe(2);
    expect(unknown.err[0]).toMatch(/--bogus/);

    const region = cli();
    expect(await region.run('handoffs', 'list', '--region', 'eu-north-9', '--endpoint', endpoint(EU))).toBe(
      1,
    );
    expect(region.err.join('\n')).toMatch(
      /^HTTP 400 VALIDATION_FAILED: .*\n {2}region: unknown region "eu-north-9"/,
    );
    const cursor = cli();
    expect(await cursor.run('handoffs', 'list', '--after', 'nope', '--endpoint', endpoint(EU))).toBe(1);
    expect(cursor.err.join('\n')).toMatch(/ {2}after: is not a cursor of this listing/);
  });
});

describe('cortex handoffs show', () => {
  it('prints the handoff readably: task, reservation, owner and claim, history and the decision', async () => {
    const id = routed[EU]?.[0] as string;
    const c = cli();
    expect(await c.run('handoffs', 'show', id, '--endpoint', endpoint(EU))).toBe(0);
    const text = c.out.join('\n');
    expect(text).toMatch(
      new RegExp(
        `^${id} {2}pending in ${EU}\\n {2}task eu-task-0 \\(priority normal\\), routed from ${US} at \\S+, \\d+s ago; score [\\d.]+`,
      ),
    );
    expect(text).toMatch(/ {2}owner \S+; claimed in \S+ \(claim \S+\)/);
    expect(text).toMatch(
      new RegExp(
        ` {2}reservation on ${EU} for hour \\S+: 1 worker\\(s\\), 2 compute unit\\(s\\), \\d+ token\\(s\\)`,
      ),
    );
    expect(text).toContain('  requirements {"data_residency":"EU","workers":1,"compute_units":2}');
    expect(text).toMatch(new RegExp(`\\nhistory:\\n {2}\\S+ {2}routed from ${US}: pending`));
    expect(text).toMatch(
      new RegExp(`CANDIDATE\\s+SCORE\\s+CAPACITY\\s+LATENCY\\s+COMPLIANCE\\s+COST\\n-+.*\\n${EU}\\s`),
    );
    expect(text).toMatch(new RegExp(`excluded:\\n {2}(${US}|${AP}): .*residency`));

    const json = cli();
    expect(await json.run('handoffs', 'show', id, '--json', '--endpoint', endpoint(EU))).toBe(0);
    expect(JSON.parse(json.out.join('\n'))).toMatchObject({
      handoff_id: id,
      status: 'pending',
      target_region: EU,
    });
  });

  it('prints the history a failover and a settlement left: the interruption, the move, the end', async () => {
    const moved: Handoff & Record<string, unknown> = {
      handoff_id: 'cross-region-moved-1',
      task_id: 'moved-1',
      source_region: US,
      target_region: EU,
      routing_score: 64.5,
      status: 'completed',
      created_at: '2026-11-26T12:00:00Z',
      redirected_from: US,
      accepted_at: '2026-11-26T12:06:00Z',
      accepted_by: 'worker-9',
      interruptions: [
        {
          region: US,
          accepted_at: '2026-11-26T12:01:00Z',
          accepted_by: 'worker-3',
          at: '2026-11-26T12:05:00Z',
          reason: `still running in ${US} when the drain of failover-${US}-e0 ended (max wait 150 s)`,
        },
      ],
      settlement: {
        outcome: 'completed',
        at: '2026-11-26T12:09:00Z',
        tokens_used: 1200,
        released: { workers: 1, compute_units: 2, tokens: 300 },
        reason: 'done',
      },
      task: { task_id: 'moved-1', priority: 'high' },
      request_hash: 'seeded',
      decision: { candidates: [], excluded: [] },
    };
    await runtime.region(EU).deps.state.createHandoff(moved);
    const c = cli();
    expect(await c.run('handoffs', 'show', 'cross-region-moved-1', '--endpoint', endpoint(EU))).toBe(0);
    const text = c.out.join('\n');
    expect(text).toContain('cross-region-moved-1  completed in eu-west-1');
    expect(text).toContain(
      [
        'history:',
        `  2026-11-26T12:00:00Z  routed from ${US}: pending`,
        `  2026-11-26T12:01:00Z  accepted in ${US} by worker-3`,
        `  2026-11-26T12:05:00Z  interrupted in ${US} and moved: still running in ${US} when the drain of failover-${US}-e0 ended (max wait 150 s)`,
        `  -                     now in ${EU} (score 64.5)`,
        `  2026-11-26T12:06:00Z  accepted in ${EU} by worker-9`,
        '  2026-11-26T12:09:00Z  completed: 1200 token(s) used; released 1 worker(s), 2 compute unit(s), 300 token(s); done',
      ].join('\n'),
    );
    const list = cli();
    expect(await list.run('handoffs', 'list', '--status', 'completed', '--endpoint', endpoint(EU))).toBe(0);
    expect(list.out.join('\n')).toMatch(
      /^cross-region-moved-1\s+moved-1\s+completed\s+eu-west-1\s+us-east-1\s+\d+[smhd]\s+done; interrupted in us-east-1$/m,
    );
  });

  it('exits 2 without an id and 1 with the API refusal for an unknown one', async () => {
    const missing = cli();
    expect(await missing.run('handoffs', 'show')).toBe(2);
    expect(missing.err[0]).toBe('cortex: handoffs show needs a handoff id');
    expect(missing.err[1]).toMatch(/^usage: cortex handoffs show <id>/);
    const none = cli();
    expect(await none.run('handoffs')).toBe(2);
    expect(none.err[0]).toBe('cortex: handoffs needs list, show or accept');
    const unknown = cli();
    expect(await unknown.run('handoffs', 'show', 'cross-region-nothing', '--endpoint', endpoint(EU))).toBe(1);
    expect(unknown.err[0]).toMatch(/^HTTP 404 NOT_FOUND: /);
  });
});

describe('cortex handoffs accept', () => {
  it("accepts in the handoff's target region, whichever endpoint is asked first", async () => {
    const id = routed[AP]?.[0] as string;
    const endpoints = [US, EU, AP].map(endpoint).join(',');
    const c = cli();
    expect(await c.run('handoffs', 'accept', id, '--worker', 'worker-1', '--endpoint', endpoints)).toBe(0);
    expect(c.err).toEqual([`cortex: ${id} runs in ${AP}: asking its endpoint ${endpoint(AP)}`]);
    expect(c.out[0]).toMatch(
      new RegExp(`^${id} accepted in ${AP} by worker-1 at \\S+ \\(task ap-task-0\\)$`),
    );

    // A repeat by the same worker changes nothing; another worker is refused with the reason.
    const again = cli();
    expect(
      await again.run('handoffs', 'accept', id, '--worker', 'worker-1', '--endpoint', endpoint(AP)),
    ).toBe(0);
    const other = cli();
    expect(
      await other.run('handoffs', 'accept', id, '--worker', 'worker-2', '--endpoint', endpoint(AP)),
    ).toBe(1);
    expect(other.err[0]).toMatch(/^HTTP 409 HANDOFF_ACCEPTED_BY_OTHER: .*accepted by worker-1, not worker-2/);

    const shown = cli();
    expect(await shown.run('handoffs', 'show', id, '--endpoint', endpoint(AP))).toBe(0);
    expect(shown.out.join('\n')).toMatch(
      new RegExp(`${id} {2}accepted in ${AP}[\\s\\S]*\\n {2}\\S+ {2}accepted in ${AP} by worker-1`),
    );
  });

  it('says where to ask when no endpoint given serves the target region', async () => {
    const id = routed[US]?.[0] as string;
    const c = cli();
    expect(await c.run('handoffs', 'accept', id, '--endpoint', endpoint(EU))).toBe(1);
    expect(c.err[0]).toMatch(
      new RegExp(`^HTTP 409 HANDOFF_ELSEWHERE: handoff ${id} runs in ${US}, not ${EU}`),
    );
    expect(c.err.at(-1)).toBe(`its target region is ${US}: give that region's API with --endpoint`);
  });

  it('refuses a move the status does not allow, naming both states', async () => {
    const id = routed[EU]?.[1] as string;
    const done = await fetch(`${endpoint(EU)}/v1/handoffs/${id}/complete`, { method: 'POST' });
    expect(done.status).toBe(200);
    const c = cli();
    expect(await c.run('handoffs', 'accept', id, '--endpoint', endpoint(EU))).toBe(1);
    expect(c.err[0]).toMatch(
      /^HTTP 409 HANDOFF_TRANSITION_INVALID: .* is completed; it cannot become accepted/,
    );
    expect(await cli().run('handoffs', 'accept')).toBe(2);
    const badWorker = cli();
    expect(await badWorker.run('handoffs', 'accept', id, '--worker', 'a b', '--endpoint', endpoint(EU))).toBe(
      1,
    );
    expect(badWorker.err.join('\n')).toMatch(/ {2}worker: must be 1-128 letters/);
  });
});
