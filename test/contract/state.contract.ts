import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../lib/core/errors.ts';
import type { FailoverRecord } from '../../lib/core/failover/types.ts';
import type { TargetHealth } from '../../lib/core/health/types.ts';
import type { Handoff, RegionStatusRecord } from '../../lib/core/state/records.ts';
import type { StatePort } from '../../lib/ports.ts';

export interface StateFixture {
  readonly state: StatePort;
  /** Another port on the same store whose status writes are `writer`'s (a region's replica writer). */
  stateAs(writer: string): StatePort;
  /**
   * Lands `writer`'s status write as replication delivers it from `writer`'s replica: unconditionally,
   * whatever this store holds (how two sides of a partition end up with writes at one epoch).
   */
  replicated(writer: string, record: RegionStatusRecord): Promise<void>;
  /** Empties the store between tests. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export function status(overrides: Partial<RegionStatusRecord> = {}): RegionStatusRecord {
  return {
    region_id: 'eu-west-1',
    status: 'healthy',
    role: 'active',
    epoch: 1,
    updated_at: '2026-11-26T12:00:00Z',
    updated_by: 'us-east-1',
    ...overrides,
  };
}

export function handoff(overrides: Partial<Handoff> = {}): Handoff {
  return {
    handoff_id: 'cross-region-task-1',
    task_id: 'task-1',
    source_region: 'us-east-1',
    target_region: 'eu-west-1',
    routing_score: 81.4,
    status: 'pending',
    created_at: '2026-11-26T12:00:00Z',
    task: { task_id: 'task-1', requirements: { latency_sensitive: true } },
    request_hash: 'abc',
    decision: {
      candidates: [
        {
          region: 'eu-west-1',
          score: 81.4,
          factors: { capacity: 26.7, latency: 92, compliance: 100, cost: 89.3 },
          latency_ms: 80,
          latency_source: 'matrix',
        },
      ],
      excluded: [{ region: 'ap-south-1', reasons: ['region is failed, not serving'] }],
    },
    ...overrides,
  };
}

export function view(overrides: Partial<TargetHealth> = {}): TargetHealth {
  return {
    observer: 'us-east-1',
    target: 'eu-west-1',
    consecutive_failures: 0,
    consecutive_successes: 2,
    endpoints: { '/health': { consecutive_failures: 0, last_ok: true } },
    window: [{ at: 1, ok: true, latency_ms: 80 }],
    error_rate: 0,
    p99_ms: 80,
    verdict: 'healthy',
    reasons: [],
    rounds: 2,
    updated_at: 1,
    ...overrides,
  };
}

export function failover(overrides: Partial<FailoverRecord> = {}): FailoverRecord {
  return {
    failover_id: 'failover-eu-west-1-e0',
    kind: 'failover',
    failed_region: 'eu-west-1',
    trigger: 'automatic',
    reason: 'majority of observers report eu-west-1 unhealthy',
    status: 'running',
    coordinator: 'us-east-1',
    epoch: 0,
    dry_run: false,
    initiated_at: '2026-11-26T12:00:00Z',
    workloads_migrated: 0,
    workloads_pending: 0,
    steps: [],
    previous_statuses: [],
    abort_requested: false,
    updated_at: '2026-11-26T12:00:00Z',
    ...overrides,
  };
}

/** The StatePort contract (STYLE 4): every adapter's test file runs this suite. */
export function stateContract(name: string, setup: () => Promise<StateFixture>): void {
  describe(`StatePort contract: ${name}`, () => {
    let fixture: StateFixture;
    let state: StatePort;

    beforeEach(async () => {
      fixture ??= await setup();
      await fixture.reset();
      state = fixture.state;
    });
    afterAll(async () => {
      await fixture?.close();
    });

    it('answers undefined for a region that has no status record', async () => {
      expect(await state.getRegionStatus('eu-west-1')).toBeUndefined();
      expect(await state.listRegionStatuses()).toEqual([]);
    });

    it('creates a status record only when none exists', async () => {
      await state.putRegionStatus(status(), undefined);
      expect(await state.getRegionStatus('eu-west-1')).toEqual(status());
      const error = await state.putRegionStatus(status({ epoch: 2 }), undefined).catch((e) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect(error.code).toBe('EPOCH_CONFLICT');
      expect(error.current).toEqual(status());
    });

    it('updates a status only from the expected epoch, to a higher one', async () => {
      await state.putRegionStatus(status(), undefined);
      await state.putRegionStatus(status({ status: 'draining', epoch: 2 }), 1);
      expect((await state.getRegionStatus('eu-west-1'))?.status).toBe('draining');

      const stale = await state.putRegionStatus(status({ status: 'failed', epoch: 3 }), 1).catch((e) => e);
      expect(stale).toBeInstanceOf(ConflictError);
      expect(stale.current.epoch).toBe(2);

      const backwards = await state.putRegionStatus(status({ epoch: 2 }), 2).catch((e) => e);
      expect(backwards).toBeInstanceOf(ConflictError);
      expect(backwards.code).toBe('EPOCH_NOT_INCREASING');
      expect((await state.getRegionStatus('eu-west-1'))?.epoch).toBe(2);
    });

    it('lets exactly one of two concurrent writers from the same epoch win', async () => {
      await state.putRegionStatus(status(), undefined);
      const results = await Promise.allSettled([
        state.putRegionStatus(status({ status: 'failed', epoch: 2, updated_by: 'us-east-1' }), 1),
        state.putRegionStatus(status({ status: 'fenced', epoch: 2, updated_by: 'ap-south-1' }), 1),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason).toBeInstanceOf(ConflictError);
    });

    // Invariant: a status write is fenced by its epoch. A writer that decided from an older or equal
    // epoch (expected below the stored one, or none while one is stored) is refused and nothing changes.
    it('refuses a stale write at an older or equal epoch and changes nothing', async () => {
      await state.putRegionStatus(status({ epoch: 1 }), undefined);
      await state.putRegionStatus(status({ status: 'draining', epoch: 2 }), 1);
      await state.putRegionStatus(status({ status: 'failed', epoch: 3 }), 2);
      const stored = status({ status: 'failed', epoch: 3 });
      const attempts: [RegionStatusRecord, number | undefined][] = [
        [status({ status: 'healthy', epoch: 3 }), 2], // equal epoch, from an older one
        [status({ status: 'healthy', epoch: 2 }), 1], // older epoch
        [status({ status: 'healthy', epoch: 9 }), 1], // higher epoch decided from an old one
        [status({ status: 'healthy', epoch: 3 }), undefined], // equal, as if nothing were stored
        [status({ status: 'healthy', epoch: 9 }), undefined], // higher, as if nothing were stored
      ];
      for (const [record, expected] of attempts) {
        for (const port of [state, fixture.stateAs('ap-south-1')]) {
          const error = await port.putRegionStatus(record, expected).catch((e) => e);
          expect(error).toBeInstanceOf(ConflictError);
          expect(error.code).toBe('EPOCH_CONFLICT');
          expect(error.current).toEqual(stored);
        }
      }
      expect(await state.getRegionStatus('eu-west-1')).toEqual(stored);
      expect(await state.listRegionStatuses()).toEqual([stored]);
    });

    // Invariant: a writer whose own last write is older than another writer's is stale: it is
    // fenced by the merged epoch, not by its own slot.
    it('refuses a writer that decided from its own older write after another writer moved on', async () => {
      const us = fixture.stateAs('us-east-1');
      const ap = fixture.stateAs('ap-south-1');
      await us.putRegionStatus(status({ epoch: 5, updated_by: 'us-east-1' }), undefined);
      await fixture.replicated(
        'ap-south-1',
        status({ status: 'failed', epoch: 7, updated_by: 'ap-south-1' }),
      );
      const stale = await us.putRegionStatus(status({ status: 'draining', epoch: 6 }), 5).catch((e) => e);
      expect(stale.code).toBe('EPOCH_CONFLICT');
      expect(stale.current).toMatchObject({ status: 'failed', epoch: 7 });
      for (const port of [us, ap, state]) {
        expect(await port.getRegionStatus('eu-west-1')).toMatchObject({ status: 'failed', epoch: 7 });
      }
      // From the merged epoch it writes, and its write is the one every writer reads.
      await us.putRegionStatus(status({ status: 'healthy', epoch: 8, updated_by: 'us-east-1' }), 7);
      expect(await ap.getRegionStatus('eu-west-1')).toEqual(
        status({ status: 'healthy', epoch: 8, updated_by: 'us-east-1' }),
      );
    });

    // Invariant: epochs only grow. Whichever writer wrote last, every writer reads the highest epoch
    // written by any of them, with exactly the record that writer stored.
    it('merges the writes of several writers to the highest epoch', async () => {
      const us = fixture.stateAs('us-east-1');
      const eu = fixture.stateAs('eu-west-1');
      const r1 = status({ epoch: 1, updated_by: 'health-probe@eu-west-1' });
      const r2 = status({ status: 'draining', epoch: 2, updated_by: 'failover@us-east-1' });
      const r3 = status({ status: 'fenced', epoch: 3, updated_by: 'health-probe@eu-west-1' });
      await eu.putRegionStatus(r1, undefined);
      await us.putRegionStatus(r2, 1);
      await eu.putRegionStatus(r3, 2);
      await us.putRegionStatus(
        status({ region_id: 'us-east-1', updated_by: 'failover@us-east-1' }),
        undefined,
      );
      for (const port of [us, eu, state]) {
        expect(await port.getRegionStatus('eu-west-1')).toEqual(r3);
        expect(await port.listRegionStatuses()).toEqual([
          r3,
          status({ region_id: 'us-east-1', updated_by: 'failover@us-east-1' }),
        ]);
      }
    });

    // Invariant: the outcome does not depend on replication order. Two writes at one epoch (two
    // sides of a partition) resolve by one rule: another region's write (a failover decision) over
    // the region's own, then failed > draining > fenced > degraded > healthy, then the writer id.
    describe('equal epochs resolve the same whichever write arrived first', () => {
      const cases: {
        name: string;
        writes: [string, RegionStatusRecord][];
        winner: number;
      }[] = [
        {
          name: "a coordinator's failed over the region's own fence",
          writes: [
            ['eu-west-1', status({ status: 'fenced', epoch: 6, updated_by: 'health-probe@eu-west-1' })],
            ['us-east-1', status({ status: 'failed', epoch: 6, updated_by: 'failover@us-east-1' })],
          ],
          winner: 1,
        },
        {
          name: "a coordinator's write over the region's own, even a less severe one",
          writes: [
            ['eu-west-1', status({ status: 'fenced', epoch: 6, updated_by: 'health-probe@eu-west-1' })],
            ['ap-south-1', status({ status: 'healthy', epoch: 6, updated_by: 'failover@ap-south-1' })],
          ],
          winner: 1,
        },
        {
          name: 'between two coordinators, the more severe status',
          writes: [
            ['ap-south-1', status({ status: 'draining', epoch: 6, updated_by: 'failover@ap-south-1' })],
            ['us-east-1', status({ status: 'failed', epoch: 6, updated_by: 'failover@us-east-1' })],
          ],
          winner: 1,
        },
        {
          name: 'between two coordinators writing the same status, the lower writer id',
          writes: [
            ['us-east-1', status({ status: 'failed', epoch: 6, updated_by: 'failover@us-east-1' })],
            ['ap-south-1', status({ status: 'failed', epoch: 6, updated_by: 'failover@ap-south-1' })],
          ],
          winner: 1,
        },
        {
          name: 'a higher epoch over every tie rule',
          writes: [
            ['us-east-1', status({ status: 'failed', epoch: 6, updated_by: 'failover@us-east-1' })],
            ['eu-west-1', status({ status: 'healthy', epoch: 7, updated_by: 'health-probe@eu-west-1' })],
          ],
          winner: 1,
        },
      ];
      for (const { name, writes, winner } of cases) {
        it(name, async () => {
          const expected = writes[winner]?.[1];
          for (const order of [writes, [...writes].reverse()]) {
            await fixture.reset();
            for (const [writer, record] of order) await fixture.replicated(writer, record);
            for (const port of [state, ...writes.map(([writer]) => fixture.stateAs(writer))]) {
              expect(await port.getRegionStatus('eu-west-1')).toEqual(expected);
              expect(await port.listRegionStatuses()).toEqual([expected]);
            }
          }
          // The next write goes from the merged epoch, and only from it.
          const next = status({ status: 'healthy', epoch: 8, updated_by: 'failover@us-east-1' });
          const stale = await fixture
            .stateAs('us-east-1')
            .putRegionStatus(next, 5)
            .catch((e) => e);
          expect(stale.code).toBe('EPOCH_CONFLICT');
          await fixture.stateAs('us-east-1').putRegionStatus(next, expected?.epoch);
          expect(await state.getRegionStatus('eu-west-1')).toEqual(next);
        });
      }
    });

    it('lists every region status', async () => {
      await state.putRegionStatus(status({ region_id: 'us-east-1' }), undefined);
      await state.putRegionStatus(status({ region_id: 'eu-west-1', status: 'failed' }), undefined);
      const all = await state.listRegionStatuses();
      expect(all.map((s) => s.region_id).sort()).toEqual(['eu-west-1', 'us-east-1']);
    });

    it('stores a handoff and reads it back whole', async () => {
      await state.createHandoff(handoff());
      expect(await state.getHandoff('cross-region-task-1')).toEqual(handoff());
      expect(await state.getHandoff('cross-region-other')).toBeUndefined();
    });

    it('refuses a second handoff with the same id and hands back the stored one', async () => {
      await state.createHandoff(handoff());
      const error = await state.createHandoff(handoff({ target_region: 'us-east-1' })).catch((e) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect(error.code).toBe('HANDOFF_EXISTS');
      expect(error.current).toEqual(handoff());
      expect((await state.getHandoff('cross-region-task-1'))?.target_region).toBe('eu-west-1');
    });

    it('lets exactly one of many concurrent creators of a handoff win', async () => {
      const targets = ['us-east-1', 'eu-west-1', 'ap-south-1', 'us-east-1', 'eu-west-1'];
      const results = await Promise.allSettled(
        targets.map((t) => state.createHandoff(handoff({ target_region: t }))),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results.filter((x) => x.status === 'rejected')) {
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
      }
    });

    it('lists handoffs by target region, oldest first', async () => {
      await state.createHandoff(
        handoff({ handoff_id: 'cross-region-b', created_at: '2026-11-26T12:00:02Z' }),
      );
      await state.createHandoff(
        handoff({ handoff_id: 'cross-region-a', created_at: '2026-11-26T12:00:01Z' }),
      );
      await state.createHandoff(handoff({ handoff_id: 'cross-region-c', target_region: 'us-east-1' }));
      const eu = await state.listHandoffsByTarget('eu-west-1');
      expect(eu.map((h) => h.handoff_id)).toEqual(['cross-region-a', 'cross-region-b']);
      expect(await state.listHandoffsByTarget('ap-south-1')).toEqual([]);
    });

    it('redirects a handoff only from the expected status, and lists it under its new target', async () => {
      await state.createHandoff(handoff());
      const change = {
        target_region: 'us-east-1',
        status: 'redirected' as const,
        routing_score: 70,
        redirected_from: 'eu-west-1',
      };
      await state.redirectHandoff('cross-region-task-1', change, 'pending');
      expect(await state.getHandoff('cross-region-task-1')).toMatchObject(change);
      expect((await state.listHandoffsByTarget('us-east-1')).map((h) => h.handoff_id)).toEqual([
        'cross-region-task-1',
      ]);
      expect(await state.listHandoffsByTarget('eu-west-1')).toEqual([]);
      const again = await state.redirectHandoff('cross-region-task-1', change, 'pending').catch((e) => e);
      expect(again).toBeInstanceOf(ConflictError);
      expect(again.code).toBe('HANDOFF_CHANGED');
      const missing = await state.redirectHandoff('cross-region-none', change, 'pending').catch((e) => e);
      expect(missing).toBeInstanceOf(ConflictError);
    });

    it('replaces the reservation a redirect carries, and keeps it when it carries none', async () => {
      const held = { region: 'eu-west-1', hour: '2026-11-26T12', workers: 2, tokens: 500, compute_units: 1 };
      await state.createHandoff({ ...handoff(), reservation: held } as Handoff);
      const moved = { ...held, region: 'us-east-1' };
      const change = {
        target_region: 'us-east-1',
        status: 'pending' as const,
        routing_score: 70,
        redirected_from: 'eu-west-1',
      };
      await state.redirectHandoff('cross-region-task-1', { ...change, reservation: moved }, 'pending');
      expect(await state.getHandoff('cross-region-task-1')).toMatchObject({ ...change, reservation: moved });
      await state.redirectHandoff(
        'cross-region-task-1',
        { ...change, target_region: 'ap-south-1' },
        'pending',
      );
      expect(await state.getHandoff('cross-region-task-1')).toMatchObject({ reservation: moved });
    });

    it('forgets why a handoff was held once a redirect gives it a region', async () => {
      await state.createHandoff(handoff({ held_reason: 'eu-west-1 is failed; no region can take it' }));
      await state.redirectHandoff(
        'cross-region-task-1',
        { target_region: 'us-east-1', status: 'pending', routing_score: 70, redirected_from: 'eu-west-1' },
        'pending',
      );
      const moved = await state.getHandoff('cross-region-task-1');
      expect(moved?.target_region).toBe('us-east-1');
      expect(moved && 'held_reason' in moved).toBe(false);
    });

    // Invariant: work a failover took from a region that had accepted it keeps the record of that
    // acceptance (who, when, why it ended) and is pending again where it goes, accepted by nobody.
    it('records an interrupted acceptance and clears it, appending to the earlier ones', async () => {
      const accepted = handoff({
        status: 'accepted',
        accepted_at: '2026-11-26T12:01:00Z',
        accepted_by: 'worker-1',
      });
      await state.createHandoff(accepted);
      const first = {
        region: 'eu-west-1',
        accepted_at: '2026-11-26T12:01:00Z',
        accepted_by: 'worker-1',
        at: '2026-11-26T12:10:00Z',
        reason: 'still running in eu-west-1 when the drain of failover-eu-west-1-e1 gave up',
      };
      await state.redirectHandoff(
        'cross-region-task-1',
        {
          target_region: 'us-east-1',
          status: 'pending',
          routing_score: 70,
          redirected_from: 'eu-west-1',
          interrupted: first,
        },
        'accepted',
      );
      const moved = await state.getHandoff('cross-region-task-1');
      expect(moved).toMatchObject({
        status: 'pending',
        target_region: 'us-east-1',
        redirected_from: 'eu-west-1',
        interruptions: [first],
      });
      expect(moved && ('accepted_at' in moved || 'accepted_by' in moved)).toBe(false);
      expect((await state.listHandoffsByTarget('us-east-1')).map((h) => h.handoff_id)).toEqual([
        'cross-region-task-1',
      ]);

      await state.transitionHandoff(
        'cross-region-task-1',
        'accepted',
        { accepted_at: '2026-11-26T12:11:00Z', accepted_by: 'worker-2' },
        ['pending'],
      );
      const second = { ...first, region: 'us-east-1', accepted_by: 'worker-2', at: '2026-11-26T12:20:00Z' };
      await state.redirectHandoff(
        'cross-region-task-1',
        {
          target_region: 'ap-south-1',
          status: 'pending',
          routing_score: 60,
          redirected_from: 'us-east-1',
          interrupted: second,
        },
        'accepted',
      );
      expect((await state.getHandoff('cross-region-task-1'))?.interruptions).toEqual([first, second]);
    });

    // The target region's side of the lifecycle (lib/app/handoffs/lifecycle.ts): each move is one
    // conditional write on the status, so a repeat or a wrong move changes nothing and says why.
    describe('handoff transitions', () => {
      const accept = { accepted_at: '2026-11-26T12:01:00Z', accepted_by: 'worker-1' };

      it('accepts a pending handoff, sets the fields given and hands back the handoff as it was', async () => {
        await state.createHandoff(handoff());
        const before = await state.transitionHandoff('cross-region-task-1', 'accepted', accept, [
          'pending',
          'redirected',
        ]);
        expect(before).toEqual(handoff());
        expect(await state.getHandoff('cross-region-task-1')).toEqual({
          ...handoff(),
          status: 'accepted',
          ...accept,
        });
        // An update in place: still listed under its target, where it was.
        expect((await state.listHandoffsByTarget('eu-west-1')).map((h) => [h.handoff_id, h.status])).toEqual([
          ['cross-region-task-1', 'accepted'],
        ]);
      });

      it('leaves out the fields given as undefined', async () => {
        await state.createHandoff(handoff());
        await state.transitionHandoff(
          'cross-region-task-1',
          'accepted',
          { accepted_at: accept.accepted_at, accepted_by: undefined },
          ['pending'],
        );
        const stored = await state.getHandoff('cross-region-task-1');
        expect(stored).toMatchObject({ status: 'accepted', accepted_at: accept.accepted_at });
        expect(stored && 'accepted_by' in stored).toBe(false);
      });

      // Invariant: a repeated move changes nothing; the conflict carries the record as the first move
      // left it, so the caller can answer the repeat with it (the API's 200 to the same worker).
      it('refuses a repeat of the same move and hands back the record the first one wrote', async () => {
        await state.createHandoff(handoff());
        await state.transitionHandoff('cross-region-task-1', 'accepted', accept, ['pending', 'redirected']);
        const again = await state
          .transitionHandoff(
            'cross-region-task-1',
            'accepted',
            { accepted_at: '2026-11-26T12:05:00Z', accepted_by: 'worker-1' },
            ['pending', 'redirected'],
          )
          .catch((e) => e);
        expect(again).toBeInstanceOf(ConflictError);
        expect(again.code).toBe('HANDOFF_CHANGED');
        expect(again.current).toEqual({ ...handoff(), status: 'accepted', ...accept });
        expect((await state.getHandoff('cross-region-task-1'))?.accepted_at).toBe(accept.accepted_at);
      });

      it('moves a handoff to the status it has when that status is expected (marking it in place)', async () => {
        await state.createHandoff(handoff());
        const reason = 'eu-west-1 is failed; no region can take it';
        await state.transitionHandoff('cross-region-task-1', 'pending', { held_reason: reason }, ['pending']);
        expect(await state.getHandoff('cross-region-task-1')).toEqual({ ...handoff(), held_reason: reason });
      });

      // Invariant: a move the status does not allow is refused naming both states, and writes nothing.
      it('refuses a move from a status not expected, naming the current and the expected ones', async () => {
        await state.createHandoff(handoff({ status: 'completed' }));
        const wrong = await state
          .transitionHandoff('cross-region-task-1', 'accepted', accept, ['pending', 'redirected'])
          .catch((e) => e);
        expect(wrong).toBeInstanceOf(ConflictError);
        expect(wrong.code).toBe('HANDOFF_CHANGED');
        expect(wrong.message).toContain('completed');
        expect(wrong.message).toContain('pending or redirected');
        expect(wrong.current).toEqual(handoff({ status: 'completed' }));
        expect(await state.getHandoff('cross-region-task-1')).toEqual(handoff({ status: 'completed' }));
      });

      // Invariant: a settled handoff never moves again, whatever its status says (a settlement is
      // what released its reservation; moving it would reopen work that was paid back).
      it('refuses to move a handoff that carries a settlement, even from an expected status', async () => {
        const settlement = { outcome: 'completed', at: '2026-11-26T12:02:00Z', tokens_used: 0 };
        const settled = { ...handoff({ status: 'accepted' }), settlement } as Handoff;
        await state.createHandoff(settled);
        const refused = await state
          .transitionHandoff('cross-region-task-1', 'failed', { reason: 'late' }, ['pending', 'accepted'])
          .catch((e) => e);
        expect(refused).toBeInstanceOf(ConflictError);
        expect(refused.code).toBe('HANDOFF_CHANGED');
        expect(refused.current).toEqual(settled);
        expect(await state.getHandoff('cross-region-task-1')).toEqual(settled);
      });

      it('refuses to move a handoff that does not exist, carrying no record', async () => {
        const missing = await state
          .transitionHandoff('cross-region-none', 'accepted', accept, ['pending'])
          .catch((e) => e);
        expect(missing).toBeInstanceOf(ConflictError);
        expect(missing.code).toBe('HANDOFF_CHANGED');
        expect(missing.current).toBeUndefined();
        expect(await state.getHandoff('cross-region-none')).toBeUndefined();
      });

      // Invariant: of concurrent moves from one status exactly one wins (the concurrent-accept case).
      it('lets exactly one of several concurrent accepts win', async () => {
        await state.createHandoff(handoff());
        const workers = ['worker-a', 'worker-b', 'worker-c', 'worker-d'];
        const results = await Promise.allSettled(
          workers.map((worker) =>
            state.transitionHandoff(
              'cross-region-task-1',
              'accepted',
              { accepted_at: accept.accepted_at, accepted_by: worker },
              ['pending', 'redirected'],
            ),
          ),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const stored = await state.getHandoff('cross-region-task-1');
        for (const r of results.filter((x) => x.status === 'rejected')) {
          const reason = (r as PromiseRejectedResult).reason;
          expect(reason).toBeInstanceOf(ConflictError);
          expect(reason.current.accepted_by).toBe(stored?.accepted_by);
        }
        expect(workers).toContain(stored?.accepted_by);
      });

      it('refuses an empty list of expected statuses as a programming error, not a conflict', async () => {
        await state.createHandoff(handoff());
        const error = await state
          .transitionHandoff('cross-region-task-1', 'accepted', accept, [])
          .catch((e) => e);
        expect(error).toBeInstanceOf(Error);
        expect(error).not.toBeInstanceOf(ConflictError);
        expect((await state.getHandoff('cross-region-task-1'))?.status).toBe('pending');
      });
    });

    describe('batch reads of handoffs', () => {
      // Invariant: a batch read answers what one read per id would, the absent ones left out,
      // whatever the order or repeats of the ids asked for.
      it('answers the handoffs it holds by id and leaves the absent ones out', async () => {
        await state.createHandoff(handoff({ handoff_id: 'h-a', task_id: 'a' }));
        await state.createHandoff(handoff({ handoff_id: 'h-b', task_id: 'b', status: 'accepted' }));
        const found = await state.getHandoffs(['h-b', 'h-missing', 'h-a', 'h-b']);
        expect([...found.keys()].sort()).toEqual(['h-a', 'h-b']);
        expect(found.get('h-a')).toEqual(await state.getHandoff('h-a'));
        expect(found.get('h-b')).toEqual(await state.getHandoff('h-b'));
        expect(await state.getHandoffs([])).toEqual(new Map());
      });

      // Invariant: more ids than one store call takes are all answered (BatchGetItem: 100 a call).
      it('answers more handoffs than one batch call takes', async () => {
        const ids = Array.from({ length: 130 }, (_, i) => `h-${String(i).padStart(3, '0')}`);
        await Promise.all(ids.map((id) => state.createHandoff(handoff({ handoff_id: id, task_id: id }))));
        const found = await state.getHandoffs(ids);
        expect([...found.keys()].sort()).toEqual(ids);
        expect(found.get('h-129')?.task_id).toBe('h-129');
      });

      // Invariant: a batch read sees the last write to each handoff, as getHandoff does.
      it('reads what the last transition left', async () => {
        await state.createHandoff(handoff());
        await state.transitionHandoff(
          'cross-region-task-1',
          'accepted',
          { accepted_at: '2026-11-26T12:00:05Z', accepted_by: 'worker-1' },
          ['pending'],
        );
        const found = await state.getHandoffs(['cross-region-task-1']);
        expect(found.get('cross-region-task-1')).toMatchObject({
          status: 'accepted',
          accepted_by: 'worker-1',
        });
      });
    });

    it('keeps one health view per observer and target, replacing it on each round', async () => {
      await state.putTargetHealth(view());
      await state.putTargetHealth(view({ target: 'ap-south-1' }));
      await state.putTargetHealth(view({ consecutive_failures: 1, verdict: 'suspect', rounds: 3 }));
      const views = await state.listTargetHealth();
      expect(views).toHaveLength(2);
      expect(views.find((v) => v.target === 'eu-west-1')).toEqual(
        view({ consecutive_failures: 1, verdict: 'suspect', rounds: 3 }),
      );
    });

    it('keeps the last heartbeat of each region', async () => {
      await state.putHeartbeat({ region: 'us-east-1', seq: 1, at: 10 });
      await state.putHeartbeat({ region: 'us-east-1', seq: 2, at: 20 });
      await state.putHeartbeat({ region: 'eu-west-1', seq: 7, at: 15 });
      const beats = await state.listHeartbeats();
      expect(beats.sort((a, b) => a.region.localeCompare(b.region))).toEqual([
        { region: 'eu-west-1', seq: 7, at: 15 },
        { region: 'us-east-1', seq: 2, at: 20 },
      ]);
    });

    it('creates a failover once per id, whoever asks', async () => {
      const results = await Promise.allSettled([
        state.createFailover(failover({ coordinator: 'us-east-1' })),
        state.createFailover(failover({ coordinator: 'ap-south-1' })),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason.code).toBe('FAILOVER_EXISTS');
      expect(rejected.reason.current.failover_id).toBe('failover-eu-west-1-e0');
    });

    it('updates a failover only from an expected status and appends its steps in order', async () => {
      await state.createFailover(failover());
      const step = (action: 'verify_failure' | 'assess_impact') => ({
        action,
        phase: 'detection' as const,
        started_at: '2026-11-26T12:00:00Z',
        ended_at: '2026-11-26T12:00:01Z',
        outcome: 'succeeded' as const,
        detail: 'ok',
        attempt: 1,
      });
      await state.updateFailover(
        'failover-eu-west-1-e0',
        { target_region: 'us-east-1' },
        { expectedStatuses: ['running'], step: step('verify_failure') },
      );
      const updated = await state.updateFailover(
        'failover-eu-west-1-e0',
        { status: 'completed' },
        { expectedStatuses: ['running'], step: step('assess_impact') },
      );
      expect(updated.status).toBe('completed');
      expect(updated.target_region).toBe('us-east-1');
      expect(updated.steps.map((s) => s.action)).toEqual(['verify_failure', 'assess_impact']);
      const late = await state
        .updateFailover('failover-eu-west-1-e0', { status: 'rolled_back' }, { expectedStatuses: ['running'] })
        .catch((e) => e);
      expect(late).toBeInstanceOf(ConflictError);
      expect(late.code).toBe('FAILOVER_CHANGED');
      expect(late.current.status).toBe('completed');
      const missing = await state
        .updateFailover('nope', { status: 'failed' }, { expectedStatuses: ['running'] })
        .catch((e) => e);
      expect(missing.code).toBe('FAILOVER_CHANGED');
    });

    describe('active failovers', () => {
      const ids = (records: readonly FailoverRecord[]) => records.map((f) => f.failover_id);
      const step = {
        action: 'verify_failure' as const,
        phase: 'detection' as const,
        started_at: '2026-11-26T12:00:00Z',
        ended_at: '2026-11-26T12:00:01Z',
        outcome: 'succeeded' as const,
        detail: 'ok',
        attempt: 1,
      };

      // Invariant: the active list holds the failovers still going and nothing else, so a probe
      // round's read does not grow with the failovers ever written; the full list still holds all.
      it('lists only the failovers still going, newest first, and every failover in the full list', async () => {
        const at = (hour: number) => `2026-11-26T${String(hour).padStart(2, '0')}:00:00Z`;
        await state.createFailover(failover({ failover_id: 'f1', initiated_at: at(1), status: 'completed' }));
        await state.createFailover(failover({ failover_id: 'f2', initiated_at: at(2), status: 'running' }));
        await state.createFailover(
          failover({ failover_id: 'f3', initiated_at: at(3), status: 'rolled_back' }),
        );
        await state.createFailover(
          failover({ failover_id: 'f4', initiated_at: at(4), status: 'awaiting_approval' }),
        );
        await state.createFailover(failover({ failover_id: 'f5', initiated_at: at(5), status: 'failed' }));
        await state.createFailover(failover({ failover_id: 'f6', initiated_at: at(6), status: 'cancelled' }));
        expect(ids(await state.listActiveFailovers())).toEqual(['f4', 'f2']);
        expect(ids(await state.listFailovers())).toEqual(['f6', 'f5', 'f4', 'f3', 'f2', 'f1']);
        expect(await state.listActiveFailovers()).toEqual([
          await state.getFailover('f4'),
          await state.getFailover('f2'),
        ]);
      });

      // Invariant: the write that ends a failover takes it out of the active list; one that waits
      // for an operator stays listed, and so does one whose update keeps it going.
      it('moves a failover out of the active list in the write that ends it', async () => {
        await state.createFailover(failover());
        expect(ids(await state.listActiveFailovers())).toEqual(['failover-eu-west-1-e0']);
        await state.updateFailover(
          'failover-eu-west-1-e0',
          { status: 'awaiting_approval' },
          { expectedStatuses: ['running'], step },
        );
        await state.updateFailover(
          'failover-eu-west-1-e0',
          { coordinator: 'ap-south-1' },
          { expectedStatuses: ['running', 'awaiting_approval'] },
        );
        expect(await state.listActiveFailovers()).toEqual([
          expect.objectContaining({ status: 'awaiting_approval', coordinator: 'ap-south-1' }),
        ]);
        await state.updateFailover(
          'failover-eu-west-1-e0',
          { status: 'running' },
          { expectedStatuses: ['awaiting_approval'] },
        );
        const ended = await state.updateFailover(
          'failover-eu-west-1-e0',
          { status: 'completed', updated_at: '2026-11-26T12:05:00Z' },
          { expectedStatuses: ['running'], step },
        );
        expect(await state.listActiveFailovers()).toEqual([]);
        expect(await state.listFailovers()).toEqual([ended]);
        // A refused change leaves the lists as they were.
        const late = await state
          .updateFailover('failover-eu-west-1-e0', { status: 'running' }, { expectedStatuses: ['running'] })
          .catch((e) => e);
        expect(late).toBeInstanceOf(ConflictError);
        expect(await state.listActiveFailovers()).toEqual([]);
        // An ended failover's own updates (no status change) keep it out of the active list.
        await state.updateFailover(
          'failover-eu-west-1-e0',
          { updated_at: '2026-11-26T12:06:00Z' },
          { expectedStatuses: ['completed', 'rolled_back'] },
        );
        expect(await state.listActiveFailovers()).toEqual([]);
        expect(ids(await state.listFailovers())).toEqual(['failover-eu-west-1-e0']);
      });

      // Invariant: of concurrent transitions exactly one ends a failover, and both lists agree with
      // the record that won: it is listed once in all, never in the active list once it ended.
      it('lets one of concurrent transitions end a failover and keeps the lists with the winner', async () => {
        await state.createFailover(failover());
        const ends = ['completed', 'rolled_back', 'failed', 'cancelled'] as const;
        const results = await Promise.allSettled([
          ...ends.map((status) =>
            state.updateFailover('failover-eu-west-1-e0', { status }, { expectedStatuses: ['running'] }),
          ),
          ...[1, 2, 3].map(() =>
            state.updateFailover(
              'failover-eu-west-1-e0',
              { updated_at: '2026-11-26T12:01:00Z' },
              { expectedStatuses: ['running', 'awaiting_approval'], step },
            ),
          ),
        ]);
        const endedBy = results
          .slice(0, ends.length)
          .filter((r): r is PromiseFulfilledResult<FailoverRecord> => r.status === 'fulfilled');
        expect(endedBy).toHaveLength(1);
        for (const r of results.filter((x) => x.status === 'rejected')) {
          expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
        }
        const stored = await state.getFailover('failover-eu-west-1-e0');
        expect(stored?.status).toBe(endedBy[0]?.value.status);
        expect(await state.listActiveFailovers()).toEqual([]);
        expect(await state.listFailovers()).toEqual([stored]);
      });

      // Invariant: concurrent steps of a running failover keep it listed once, with every step.
      it('keeps a failover listed once under concurrent steps', async () => {
        await state.createFailover(failover());
        await Promise.all(
          [1, 2, 3, 4].map((attempt) =>
            state.updateFailover(
              'failover-eu-west-1-e0',
              {},
              { expectedStatuses: ['running'], step: { ...step, attempt } },
            ),
          ),
        );
        const [active, ...rest] = await state.listActiveFailovers();
        expect(rest).toEqual([]);
        expect(active?.steps.map((s) => s.attempt).sort()).toEqual([1, 2, 3, 4]);
        expect(await state.listFailovers()).toEqual([active]);
      });
    });

    it('lists failovers newest first, optionally for one region', async () => {
      await state.createFailover(failover({ failover_id: 'a', initiated_at: '2026-11-26T12:00:00Z' }));
      await state.createFailover(
        failover({ failover_id: 'b', initiated_at: '2026-11-26T13:00:00Z', failed_region: 'ap-south-1' }),
      );
      expect((await state.listFailovers()).map((f) => f.failover_id)).toEqual(['b', 'a']);
      expect((await state.listFailovers('eu-west-1')).map((f) => f.failover_id)).toEqual(['a']);
      expect(await state.getFailover('c')).toBeUndefined();
    });
  });
}
