/**
 * Handoffs on the virtual clock, on `topology/default.json` as shipped: read
 * back and accepted through each region's real HTTP API, one decision per task whichever regions are
 * asked at once, reservations that always match the open handoffs, and no orphaned work after a
 * failover. The simulator's invariants are checked after every event as well.
 *
 * Each test names the invariant it protects.
 */
import { describe, expect, it } from 'vitest';
import { reservationAccounting } from '../../lib/core/replication/consistency.ts';
import { holdRef } from '../../lib/core/resources/pool.ts';
import { taskOwner } from '../../lib/core/state/handoff-owner.ts';
import { type Answer, SimPlane, shippedTopology } from '../support/sim-plane.ts';

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'] as const;

async function start(): Promise<SimPlane> {
  const plane = await SimPlane.start(shippedTopology());
  await plane.untilAllHealthy();
  return plane;
}

const task = (id: string, country = 'US') => ({
  task_id: id,
  priority: 'normal',
  source: { country },
  requirements: { workers: 1, compute_units: 5 },
});

/**
 * Every replica's accounting: what pools hold for reservations against the open handoffs, and each
 * hold held exactly while an open handoff names it.
 */
async function accounting(plane: SimPlane): Promise<string[]> {
  const lines: string[] = [];
  const hour = new Date(plane.now()).toISOString().slice(0, 13);
  for (const replica of REGIONS) {
    const handoffs = new Map();
    for (const target of REGIONS) {
      for (const h of await plane.state(replica).listHandoffsByTarget(target)) handoffs.set(h.handoff_id, h);
    }
    const resources = plane.world.deps(replica).resources;
    const pools = (await resources?.listPools(hour)) ?? [];
    const holds = (await Promise.all(REGIONS.map((by) => resources?.listHolds(by) ?? []))).flat();
    lines.push(...reservationAccounting(pools, [...handoffs.values()], holds).map((l) => `${replica}: ${l}`));
  }
  return lines;
}

/** What pools hold for reservations in `replica`, in workers, by region. */
async function heldWorkers(plane: SimPlane, replica: string): Promise<Record<string, number>> {
  const hour = new Date(plane.now()).toISOString().slice(0, 13);
  const pools = (await plane.world.deps(replica).resources?.listPools(hour)) ?? [];
  return Object.fromEntries(pools.map((p) => [p.region, p.held?.workers ?? 0]));
}

function expectError(answer: Answer, status: number, code: string): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.body.error.code).toBe(code);
  expect(typeof answer.body.error.message).toBe('string');
}

describe('the handoff lifecycle through the API', () => {
  // Invariant: pending -> accepted -> completed|failed, each move conditional: a repeat answers the
  // record (200), a move the status does not allow is a 409 naming both states, only the target moves it.
  it('accepts once, answers repeats with the record, and refuses wrong moves naming both states', async () => {
    const plane = await start();
    const routed = await plane.post('eu-west-1', '/v1/route', task('life-1'));
    expect(routed.status, JSON.stringify(routed.body)).toBe(200);
    const { handoff_id: id, target_region: target } = routed.body.handoff;
    await plane.advance(1_000);

    const other = REGIONS.find((r) => r !== target) as string;
    expectError(
      await plane.post(other, `/v1/handoffs/${id}/accept`, { worker: 'w1' }),
      409,
      'HANDOFF_ELSEWHERE',
    );

    const accepted = await plane.post(target, `/v1/handoffs/${id}/accept`, { worker: 'w1' });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect(accepted.body).toMatchObject({ handoff_id: id, status: 'accepted', accepted_by: 'w1' });
    expect(accepted.body.request_hash).toBeUndefined();
    const again = await plane.post(target, `/v1/handoffs/${id}/accept`, { worker: 'w1' });
    expect(again.status).toBe(200);
    expect(again.body.accepted_at).toBe(accepted.body.accepted_at);
    expectError(
      await plane.post(target, `/v1/handoffs/${id}/accept`, { worker: 'w2' }),
      409,
      'HANDOFF_ACCEPTED_BY_OTHER',
    );

    await plane.advance(1_000);
    const shown = await plane.get(other, `/v1/handoffs/${id}`);
    expect(shown.status).toBe(200);
    expect(shown.body.status).toBe('accepted');

    expect((await plane.post(target, `/v1/handoffs/${id}/complete`, {})).status).toBe(200);
    const late = await plane.post(target, `/v1/handoffs/${id}/accept`, { worker: 'w1' });
    expectError(late, 409, 'HANDOFF_TRANSITION_INVALID');
    expect(late.body.error.message).toContain('is completed');
    expect(late.body.error.message).toContain('cannot become accepted');
    const fail = await plane.post(target, `/v1/handoffs/${id}/fail`, {});
    expectError(fail, 409, 'HANDOFF_SETTLED');
    expect(fail.body.error.message).toMatch(/is completed; it cannot become failed/);
    await plane.advance(5_000);
    expect(await accounting(plane)).toEqual([]);
    plane.expectNoViolations();
  });

  // Invariant: of concurrent accepts by different workers exactly one wins; the other learns who has it.
  it('lets exactly one of two concurrent accepts win', async () => {
    const plane = await start();
    const routed = await plane.post('us-east-1', '/v1/route', task('race-1'));
    const { handoff_id: id, target_region: target } = routed.body.handoff;
    await plane.advance(1_000);
    const answers = await Promise.all(
      ['w-a', 'w-b', 'w-c'].map((worker) => plane.post(target, `/v1/handoffs/${id}/accept`, { worker })),
    );
    const won = answers.filter((a) => a.status === 200);
    expect(won).toHaveLength(1);
    for (const lost of answers.filter((a) => a.status !== 200)) {
      expectError(lost, 409, 'HANDOFF_ACCEPTED_BY_OTHER');
      expect(lost.body.error.message).toContain(won[0]?.body.accepted_by);
    }
    expect((await plane.state(target).getHandoff(id))?.accepted_by).toBe(won[0]?.body.accepted_by);
    plane.expectNoViolations();
  });

  // Invariant: a listing pages through every handoff once, oldest first, with its filters.
  it('lists handoffs page by page with a cursor, filtered by region and status', async () => {
    const plane = await start();
    for (let i = 0; i < 5; i++) {
      expect((await plane.post('us-east-1', '/v1/route', task(`page-${i}`))).status).toBe(200);
      await plane.advance(1_000);
    }
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 5; pages++) {
      const page = await plane.get(
        'eu-west-1',
        `/v1/handoffs?limit=2${after === undefined ? '' : `&after=${encodeURIComponent(after)}`}`,
      );
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      expect(page.body.handoffs.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.handoffs.map((h: { task_id: string }) => h.task_id));
      after = page.body.next;
      if (after === undefined) break;
    }
    expect(seen).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    const target = (await plane.get('eu-west-1', '/v1/handoffs/cross-region-page-0')).body.target_region;
    const mine = await plane.get('eu-west-1', `/v1/handoffs?region=${target}&status=pending`);
    expect(mine.body.handoffs.length).toBeGreaterThan(0);
    expect(mine.body.handoffs.every((h: { target_region: string }) => h.target_region === target)).toBe(true);
    expect((await plane.get('eu-west-1', '/v1/handoffs?status=completed')).body.handoffs).toEqual([]);
    plane.expectNoViolations();
  });

  // Invariant: bad input gets a 400/404 with the one error shape and changes nothing.
  it('answers bad input with 400 and 404 in the error shape', async () => {
    const plane = await start();
    for (const query of [
      'limit=0',
      'limit=101',
      'limit=x',
      'status=done',
      'region=mars',
      'region=eu-west-9',
      'after=zzz',
      'color=red',
    ]) {
      const answer = await plane.get('us-east-1', `/v1/handoffs?${query}`);
      expectError(answer, 400, 'VALIDATION_FAILED');
      expect(answer.body.error.details.length, query).toBeGreaterThan(0);
    }
    expectError(await plane.get('us-east-1', '/v1/handoffs/cross-region-nothing'), 404, 'NOT_FOUND');
    expectError(
      await plane.post('us-east-1', '/v1/handoffs/cross-region-nothing/accept', {}),
      404,
      'NOT_FOUND',
    );
    const badId = await plane.get('us-east-1', '/v1/handoffs/a%20b');
    expectError(badId, 400, 'VALIDATION_FAILED');
    expect(badId.body.error.details[0].field).toBe('handoff_id');
    const routed = await plane.post('us-east-1', '/v1/route', task('bad-1'));
    const { handoff_id: id, target_region: target } = routed.body.handoff;
    await plane.advance(1_000);
    const unknownField = await plane.post(target, `/v1/handoffs/${id}/accept`, { worker: 'w', extra: 1 });
    expectError(unknownField, 400, 'VALIDATION_FAILED');
    expectError(
      await plane.post(target, `/v1/handoffs/${id}/accept`, { worker: 'a b' }),
      400,
      'VALIDATION_FAILED',
    );
    expect((await plane.state(target).getHandoff(id))?.status).toBe('pending');
    plane.expectNoViolations();
  });
});

describe('one decision per task', () => {
  // Invariant: the same task sent at once to two regions gets one decision, one handoff, and the
  // loser's reservation back: what pools hold equals what the open handoffs reserved, everywhere.
  it('the same task sent at once to two regions gets one decision and leaks nothing', async () => {
    const plane = await start();
    const before = await heldWorkers(plane, 'us-east-1');
    const answers = await Promise.all([
      plane.post('eu-west-1', '/v1/route', task('twice-1', 'DE')),
      plane.post('ap-south-1', '/v1/route', task('twice-1', 'DE')),
    ]);
    for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(answers[0]?.body.region).toBe(answers[1]?.body.region);
    expect(answers[0]?.body.handoff.created_at).toBe(answers[1]?.body.handoff.created_at);
    await plane.advance(5_000);
    for (const replica of REGIONS) {
      const found = await plane.state(replica).getHandoff('cross-region-twice-1');
      expect(found?.claimed_in).toBe(taskOwner([...REGIONS], 'twice-1'));
    }
    expect(await accounting(plane)).toEqual([]);
    const target = answers[0]?.body.region as string;
    expect((await heldWorkers(plane, 'us-east-1'))[target]).toBe((before[target] ?? 0) + 1);
    // Ending it gives back exactly the one reservation.
    expect((await plane.post(target, '/v1/handoffs/cross-region-twice-1/complete', {})).status).toBe(200);
    await plane.advance(5_000);
    expect(await heldWorkers(plane, 'us-east-1')).toEqual(before);
    expect(await accounting(plane)).toEqual([]);
    plane.expectNoViolations();
  });

  // Invariant: a duplicate that slips through (the owner out of reach of both routers) is settled
  // once replication delivers it: one record everywhere, the loser's reservation released.
  it('a duplicate claimed while the owner is cut off is settled with one winner after the heal', async () => {
    const plane = await start();
    // A task whose owner is us-east-1; routed at once by the two other regions, both cut from it.
    let id = 0;
    while (taskOwner([...REGIONS], `dup-${id}`) !== 'us-east-1') id++;
    const taskId = `dup-${id}`;
    const before = await heldWorkers(plane, 'eu-west-1');
    await plane.fault({ kind: 'cut', a: 'us-east-1', b: 'eu-west-1' });
    await plane.fault({ kind: 'cut', a: 'us-east-1', b: 'ap-south-1' });
    const answers = await Promise.all([
      plane.post('eu-west-1', '/v1/route', task(taskId, 'DE')),
      plane.post('ap-south-1', '/v1/route', task(taskId, 'IN')),
    ]);
    for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(answers.map((a) => a.body.handoff.created_at)).toHaveLength(2);
    await plane.fault({ kind: 'join', a: 'us-east-1', b: 'eu-west-1' });
    await plane.fault({ kind: 'join', a: 'us-east-1', b: 'ap-south-1' });
    // Replication delivers one record everywhere; each router reads its claim back a minute later.
    const records = await plane.until(async () => {
      const found = await Promise.all(
        REGIONS.map((r) => plane.state(r).getHandoff(`cross-region-${taskId}`)),
      );
      expect(found.map((r) => `${r?.claim_id} ${r?.target_region}`)).toEqual(
        REGIONS.map(() => `${found[0]?.claim_id} ${found[0]?.target_region}`),
      );
      const claims = await Promise.all(
        ['eu-west-1', 'ap-south-1'].map((r) => plane.world.deps(r).resources?.listClaims()),
      );
      expect(
        claims
          .flat()
          .filter((c) => c?.handoff_id === `cross-region-${taskId}` && c.claim_id !== found[0]?.claim_id),
      ).toEqual([]);
      expect(await accounting(plane)).toEqual([]);
      return found;
    }, 5 * 60_000);
    const winner = records[0];
    const held = await heldWorkers(plane, 'eu-west-1');
    for (const region of REGIONS) {
      expect(held[region], region).toBe((before[region] ?? 0) + (region === winner?.target_region ? 1 : 0));
    }
    plane.expectNoViolations();
  }, 60_000);
});

describe('reservations that match the open handoffs', () => {
  // Invariant: across a partition the failover on the majority side redirects a task (a new hold in
  // the new region, the old one released there) while its isolated target completes it (the old hold
  // released there too). Last writer wins keeps the completion: the old hold stands released once and
  // the redirect's hold is released, so nothing is given back twice or kept, in every replica.
  it('a task redirected by the majority and completed by its isolated target is released once', async () => {
    const plane = await start();
    const before = await heldWorkers(plane, 'us-east-1');
    const routed = await plane.post('us-east-1', '/v1/route', task('split-1', 'DE'));
    expect(routed.status, JSON.stringify(routed.body)).toBe(200);
    const target = routed.body.region as string;
    const id = routed.body.handoff.handoff_id as string;
    const survivor = REGIONS.find((r) => r !== target) as string;
    await plane.advance(5_000);
    await plane.isolate(target);
    const moved = await plane.until(async () => {
      const record = await plane.state(survivor).getHandoff(id);
      expect(record?.redirected_from).toBe(target);
      return record;
    }, 15 * 60_000);
    expect((await heldWorkers(plane, survivor))[moved?.target_region as string]).toBe(
      (before[moved?.target_region as string] ?? 0) + 1,
    );
    // The isolated target's worker finishes it after the redirect: the later write, it wins.
    expect((await plane.post(target, `/v1/handoffs/${id}/complete`, {})).status).toBe(200);
    await plane.fault({ kind: 'heal' });
    await plane.until(async () => {
      const [failover] = await plane.state(survivor).listFailovers(target);
      expect(failover?.status).toBe('completed');
    }, 10 * 60_000);
    await plane.fault({ kind: 'failback' });
    await plane.until(
      async () => {
        for (const replica of REGIONS) {
          expect((await plane.state(replica).getHandoff(id))?.status).toBe('completed');
          expect(await heldWorkers(plane, replica)).toEqual(before);
        }
        expect(await accounting(plane)).toEqual([]);
      },
      20 * 60_000,
      5_000,
    );
    plane.expectNoViolations();
  }, 120_000);
});

describe('reservations whose handoff never came', () => {
  // Invariant: a reservation no handoff names (its route died between reserving and writing the
  // handoff) is released by the region that made it once its hold has settled, in every replica.
  it('a reservation whose route died before writing its handoff is released a minute later', async () => {
    const plane = await start();
    const before = await heldWorkers(plane, 'eu-west-1');
    const hour = new Date(plane.now()).toISOString().slice(0, 13);
    const resources = plane.world.deps('us-east-1').resources;
    const pool = await resources?.getPool('eu-west-1', hour);
    if (!resources || !pool) throw new Error('no pool');
    const hold = holdRef('cross-region-died-1', 'eu-west-1', 'us-east-1', plane.now());
    await resources.reserve(
      { region: 'eu-west-1', hour, workers: 1, tokens: 0, compute_units: 5, hold },
      pool,
    );
    await plane.advance(5_000);
    expect((await heldWorkers(plane, 'ap-south-1'))['eu-west-1']).toBe((before['eu-west-1'] ?? 0) + 1);
    await plane.until(
      async () => {
        for (const replica of REGIONS) expect(await heldWorkers(plane, replica)).toEqual(before);
        expect(await accounting(plane)).toEqual([]);
      },
      3 * 60_000,
      5_000,
    );
    expect(plane.world.events).toContainEqual(
      expect.objectContaining({
        type: 'resources.holds_reconciled',
        source_region: 'us-east-1',
        detail: { released: [hold.id], restored: [], given_back: [] },
      }),
    );
    plane.expectNoViolations();
  }, 60_000);
});

describe('holds after their task', () => {
  // Invariant: holds do not pile up: a released hold is forgotten after its hour of retention, and
  // forgetting it changes no pool.
  it('forgets a completed task’s hold after an hour, leaving the pools as they were', async () => {
    const plane = await start();
    const before = await heldWorkers(plane, 'us-east-1');
    const routed = await plane.post('us-east-1', '/v1/route', task('done-1', 'IN'));
    expect(routed.status, JSON.stringify(routed.body)).toBe(200);
    await plane.advance(5_000);
    const id = routed.body.handoff.handoff_id as string;
    expect((await plane.post(routed.body.region, `/v1/handoffs/${id}/complete`, {})).status).toBe(200);
    await plane.advance(5_000);
    const holdsEverywhere = async () =>
      (await Promise.all(REGIONS.map((r) => plane.world.deps(r).resources?.listHolds('us-east-1')))).flat();
    expect((await holdsEverywhere()).map((h) => h?.released_by)).toEqual(
      REGIONS.map(() => routed.body.region),
    );
    await plane.advance(65 * 60_000);
    expect(await holdsEverywhere()).toEqual([]);
    for (const replica of REGIONS) expect(await heldWorkers(plane, replica)).toEqual(before);
    expect(await accounting(plane)).toEqual([]);
    plane.expectNoViolations();
  }, 60_000);
});

describe('no orphans', () => {
  /** Takes `region` down and runs until a survivor's replica shows its failover completed. */
  async function failOver(plane: SimPlane, region: string): Promise<void> {
    await plane.fault({ kind: 'down', region });
    await plane.until(async () => {
      const [record] = await plane.state('eu-west-1').listFailovers(region);
      expect(record?.status).toBe('completed');
    }, 15 * 60_000);
  }

  // Invariant: work routed to a failed region whose record arrives after the failover (late
  // replication) is moved by the failover's rules, its reservation with it.
  it('moves a handoff that reaches a failed region after its failover', async () => {
    const plane = await start();
    await failOver(plane, 'us-east-1');
    // A record routed to us-east-1 before the failure, delivered only now (a link that was paused):
    // written with its reservation where its router would have written it.
    const at = new Date(plane.now() - 600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const hour = new Date(plane.now()).toISOString().slice(0, 13);
    const reservation = { region: 'us-east-1', hour, workers: 1, tokens: 0, compute_units: 5 };
    const resources = plane.world.deps('ap-south-1').resources;
    const pool = await resources?.getPool('us-east-1', hour);
    if (!resources || !pool) throw new Error('no pool');
    await resources.reserve(reservation, pool);
    await plane.state('ap-south-1').createHandoff({
      handoff_id: 'cross-region-late-1',
      task_id: 'late-1',
      source_region: 'ap-south-1',
      target_region: 'us-east-1',
      routing_score: 50,
      status: 'pending',
      created_at: at,
      task: task('late-1'),
      request_hash: 'late',
      decision: { candidates: [], excluded: [] },
      reservation,
    } as never);
    await plane.until(async () => {
      for (const region of ['eu-west-1', 'ap-south-1']) {
        const found = await plane.state(region).getHandoff('cross-region-late-1');
        expect(found?.target_region).not.toBe('us-east-1');
        expect(found?.redirected_from).toBe('us-east-1');
      }
    }, 3 * 60_000);
    await plane.advance(5_000);
    const held = await heldWorkers(plane, 'eu-west-1');
    expect(held['us-east-1'] ?? 0).toBe(0);
    plane.expectNoViolations();
  }, 60_000);

  // Invariant: a region that was failed over serves nothing from the moment it is reachable again
  // until a failback: /health 503 and no new work, whatever its own replica has received yet.
  it('a failed-over region answers 503 and refuses work as soon as it is back', async () => {
    const plane = await start();
    await failOver(plane, 'us-east-1');
    await plane.fault({ kind: 'up', region: 'us-east-1' });
    const health = await plane.get('us-east-1', '/health');
    expect(health.status, JSON.stringify(health.body)).toBe(503);
    const routed = await plane.post('us-east-1', '/v1/route', task('after-up-1'));
    expect(routed.status, JSON.stringify(routed.body)).toBe(503);
    for (let i = 0; i < 10; i++) {
      await plane.advance(100);
      expect((await plane.get('us-east-1', '/health')).status).toBe(503);
    }
    plane.expectNoViolations();
  }, 60_000);
});
