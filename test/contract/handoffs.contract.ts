import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../lib/core/errors.ts';
import type { Handoff } from '../../lib/core/state/records.ts';
import type { Handoffs } from '../../lib/ports.ts';
import { handoff, type StateFixture, useStateFixture } from './state-fixture.ts';

/**
 * The Handoffs contract (STYLE 4): one creator per id, conditional moves, batch reads.
 * Every StatePort implementation's test file runs it, through stateContract (state.contract.ts).
 */
export function handoffsContract(name: string, setup: () => Promise<StateFixture<Handoffs>>): void {
  describe(`Handoffs contract: ${name}`, () => {
    const fixture = useStateFixture(setup);

    it('stores a handoff and reads it back whole', async () => {
      await fixture.state.createHandoff(handoff());
      expect(await fixture.state.getHandoff('cross-region-task-1')).toEqual(handoff());
      expect(await fixture.state.getHandoff('cross-region-other')).toBeUndefined();
    });

    it('refuses a second handoff with the same id and hands back the stored one', async () => {
      await fixture.state.createHandoff(handoff());
      const error = await fixture.state
        .createHandoff(handoff({ target_region: 'us-east-1' }))
        .catch((e) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect(error.code).toBe('HANDOFF_EXISTS');
      expect(error.current).toEqual(handoff());
      expect((await fixture.state.getHandoff('cross-region-task-1'))?.target_region).toBe('eu-west-1');
    });

    it('lets exactly one of many concurrent creators of a handoff win', async () => {
      const targets = ['us-east-1', 'eu-west-1', 'ap-south-1', 'us-east-1', 'eu-west-1'];
      const results = await Promise.allSettled(
        targets.map((t) => fixture.state.createHandoff(handoff({ target_region: t }))),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results.filter((x) => x.status === 'rejected')) {
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
      }
    });

    it('lists handoffs by target region, oldest first', async () => {
      await fixture.state.createHandoff(
        handoff({ handoff_id: 'cross-region-b', created_at: '2026-11-26T12:00:02Z' }),
      );
      await fixture.state.createHandoff(
        handoff({ handoff_id: 'cross-region-a', created_at: '2026-11-26T12:00:01Z' }),
      );
      await fixture.state.createHandoff(
        handoff({ handoff_id: 'cross-region-c', target_region: 'us-east-1' }),
      );
      const eu = await fixture.state.listHandoffsByTarget('eu-west-1');
      expect(eu.map((h) => h.handoff_id)).toEqual(['cross-region-a', 'cross-region-b']);
      expect(await fixture.state.listHandoffsByTarget('ap-south-1')).toEqual([]);
    });

    it('redirects a handoff only from the expected status, and lists it under its new target', async () => {
      await fixture.state.createHandoff(handoff());
      const change = {
        target_region: 'us-east-1',
        status: 'redirected' as const,
        routing_score: 70,
        redirected_from: 'eu-west-1',
      };
      await fixture.state.redirectHandoff('cross-region-task-1', change, 'pending');
      expect(await fixture.state.getHandoff('cross-region-task-1')).toMatchObject(change);
      expect((await fixture.state.listHandoffsByTarget('us-east-1')).map((h) => h.handoff_id)).toEqual([
        'cross-region-task-1',
      ]);
      expect(await fixture.state.listHandoffsByTarget('eu-west-1')).toEqual([]);
      const again = await fixture.state
        .redirectHandoff('cross-region-task-1', change, 'pending')
        .catch((e) => e);
      expect(again).toBeInstanceOf(ConflictError);
      expect(again.code).toBe('HANDOFF_CHANGED');
      const missing = await fixture.state
        .redirectHandoff('cross-region-none', change, 'pending')
        .catch((e) => e);
      expect(missing).toBeInstanceOf(ConflictError);
    });

    it('replaces the reservation a redirect carries, and keeps it when it carries none', async () => {
      const held = { region: 'eu-west-1', hour: '2026-11-26T12', workers: 2, tokens: 500, compute_units: 1 };
      await fixture.state.createHandoff({ ...handoff(), reservation: held } as Handoff);
      const moved = { ...held, region: 'us-east-1' };
      const change = {
        target_region: 'us-east-1',
        status: 'pending' as const,
        routing_score: 70,
        redirected_from: 'eu-west-1',
      };
      await fixture.state.redirectHandoff(
        'cross-region-task-1',
        { ...change, reservation: moved },
        'pending',
      );
      expect(await fixture.state.getHandoff('cross-region-task-1')).toMatchObject({
        ...change,
        reservation: moved,
      });
      await fixture.state.redirectHandoff(
        'cross-region-task-1',
        { ...change, target_region: 'ap-south-1' },
        'pending',
      );
      expect(await fixture.state.getHandoff('cross-region-task-1')).toMatchObject({ reservation: moved });
    });

    it('forgets why a handoff was held once a redirect gives it a region', async () => {
      await fixture.state.createHandoff(
        handoff({ held_reason: 'eu-west-1 is failed; no region can take it' }),
      );
      await fixture.state.redirectHandoff(
        'cross-region-task-1',
        { target_region: 'us-east-1', status: 'pending', routing_score: 70, redirected_from: 'eu-west-1' },
        'pending',
      );
      const moved = await fixture.state.getHandoff('cross-region-task-1');
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
      await fixture.state.createHandoff(accepted);
      const first = {
        region: 'eu-west-1',
        accepted_at: '2026-11-26T12:01:00Z',
        accepted_by: 'worker-1',
        at: '2026-11-26T12:10:00Z',
        reason: 'still running in eu-west-1 when the drain of failover-eu-west-1-e1 gave up',
      };
      await fixture.state.redirectHandoff(
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
      const moved = await fixture.state.getHandoff('cross-region-task-1');
      expect(moved).toMatchObject({
        status: 'pending',
        target_region: 'us-east-1',
        redirected_from: 'eu-west-1',
        interruptions: [first],
      });
      expect(moved && ('accepted_at' in moved || 'accepted_by' in moved)).toBe(false);
      expect((await fixture.state.listHandoffsByTarget('us-east-1')).map((h) => h.handoff_id)).toEqual([
        'cross-region-task-1',
      ]);

      await fixture.state.transitionHandoff(
        'cross-region-task-1',
        'accepted',
        { accepted_at: '2026-11-26T12:11:00Z', accepted_by: 'worker-2' },
        ['pending'],
      );
      const second = { ...first, region: 'us-east-1', accepted_by: 'worker-2', at: '2026-11-26T12:20:00Z' };
      await fixture.state.redirectHandoff(
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
      expect((await fixture.state.getHandoff('cross-region-task-1'))?.interruptions).toEqual([first, second]);
    });

    // The target region's side of the lifecycle (lib/app/handoffs/lifecycle.ts): each move is one
    // conditional write on the status, so a repeat or a wrong move changes nothing and says why.
    describe('handoff transitions', () => {
      const accept = { accepted_at: '2026-11-26T12:01:00Z', accepted_by: 'worker-1' };

      it('accepts a pending handoff, sets the fields given and hands back the handoff as it was', async () => {
        await fixture.state.createHandoff(handoff());
        const before = await fixture.state.transitionHandoff('cross-region-task-1', 'accepted', accept, [
          'pending',
          'redirected',
        ]);
        expect(before).toEqual(handoff());
        expect(await fixture.state.getHandoff('cross-region-task-1')).toEqual({
          ...handoff(),
          status: 'accepted',
          ...accept,
        });
        // An update in place: still listed under its target, where it was.
        expect(
          (await fixture.state.listHandoffsByTarget('eu-west-1')).map((h) => [h.handoff_id, h.status]),
        ).toEqual([['cross-region-task-1', 'accepted']]);
      });

      it('leaves out the fields given as undefined', async () => {
        await fixture.state.createHandoff(handoff());
        await fixture.state.transitionHandoff(
          'cross-region-task-1',
          'accepted',
          { accepted_at: accept.accepted_at, accepted_by: undefined },
          ['pending'],
        );
        const stored = await fixture.state.getHandoff('cross-region-task-1');
        expect(stored).toMatchObject({ status: 'accepted', accepted_at: accept.accepted_at });
        expect(stored && 'accepted_by' in stored).toBe(false);
      });

      // Invariant: a repeated move changes nothing; the conflict carries the record as the first move
      // left it, so the caller can answer the repeat with it (the API's 200 to the same worker).
      it('refuses a repeat of the same move and hands back the record the first one wrote', async () => {
        await fixture.state.createHandoff(handoff());
        await fixture.state.transitionHandoff('cross-region-task-1', 'accepted', accept, [
          'pending',
          'redirected',
        ]);
        const again = await fixture.state
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
        expect((await fixture.state.getHandoff('cross-region-task-1'))?.accepted_at).toBe(accept.accepted_at);
      });

      it('moves a handoff to the status it has when that status is expected (marking it in place)', async () => {
        await fixture.state.createHandoff(handoff());
        const reason = 'eu-west-1 is failed; no region can take it';
        await fixture.state.transitionHandoff('cross-region-task-1', 'pending', { held_reason: reason }, [
          'pending',
        ]);
        expect(await fixture.state.getHandoff('cross-region-task-1')).toEqual({
          ...handoff(),
          held_reason: reason,
        });
      });

      // Invariant: a move the status does not allow is refused naming both states, and writes nothing.
      it('refuses a move from a status not expected, naming the current and the expected ones', async () => {
        await fixture.state.createHandoff(handoff({ status: 'completed' }));
        const wrong = await fixture.state
          .transitionHandoff('cross-region-task-1', 'accepted', accept, ['pending', 'redirected'])
          .catch((e) => e);
        expect(wrong).toBeInstanceOf(ConflictError);
        expect(wrong.code).toBe('HANDOFF_CHANGED');
        expect(wrong.message).toContain('completed');
        expect(wrong.message).toContain('pending or redirected');
        expect(wrong.current).toEqual(handoff({ status: 'completed' }));
        expect(await fixture.state.getHandoff('cross-region-task-1')).toEqual(
          handoff({ status: 'completed' }),
        );
      });

      // Invariant: a settled handoff never moves again, whatever its status says (a settlement is
      // what released its reservation; moving it would reopen work that was paid back).
      it('refuses to move a handoff that carries a settlement, even from an expected status', async () => {
        const settlement = { outcome: 'completed', at: '2026-11-26T12:02:00Z', tokens_used: 0 };
        const settled = { ...handoff({ status: 'accepted' }), settlement } as Handoff;
        await fixture.state.createHandoff(settled);
        const refused = await fixture.state
          .transitionHandoff('cross-region-task-1', 'failed', { reason: 'late' }, ['pending', 'accepted'])
          .catch((e) => e);
        expect(refused).toBeInstanceOf(ConflictError);
        expect(refused.code).toBe('HANDOFF_CHANGED');
        expect(refused.current).toEqual(settled);
        expect(await fixture.state.getHandoff('cross-region-task-1')).toEqual(settled);
      });

      it('refuses to move a handoff that does not exist, carrying no record', async () => {
        const missing = await fixture.state
          .transitionHandoff('cross-region-none', 'accepted', accept, ['pending'])
          .catch((e) => e);
        expect(missing).toBeInstanceOf(ConflictError);
        expect(missing.code).toBe('HANDOFF_CHANGED');
        expect(missing.current).toBeUndefined();
        expect(await fixture.state.getHandoff('cross-region-none')).toBeUndefined();
      });

      // Invariant: of concurrent moves from one status exactly one wins (the concurrent-accept case).
      it('lets exactly one of several concurrent accepts win', async () => {
        await fixture.state.createHandoff(handoff());
        const workers = ['worker-a', 'worker-b', 'worker-c', 'worker-d'];
        const results = await Promise.allSettled(
          workers.map((worker) =>
            fixture.state.transitionHandoff(
              'cross-region-task-1',
              'accepted',
              { accepted_at: accept.accepted_at, accepted_by: worker },
              ['pending', 'redirected'],
            ),
          ),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const stored = await fixture.state.getHandoff('cross-region-task-1');
        for (const r of results.filter((x) => x.status === 'rejected')) {
          const reason = (r as PromiseRejectedResult).reason;
          expect(reason).toBeInstanceOf(ConflictError);
          expect(reason.current.accepted_by).toBe(stored?.accepted_by);
        }
        expect(workers).toContain(stored?.accepted_by);
      });

      it('refuses an empty list of expected statuses as a programming error, not a conflict', async () => {
        await fixture.state.createHandoff(handoff());
        const error = await fixture.state
          .transitionHandoff('cross-region-task-1', 'accepted', accept, [])
          .catch((e) => e);
        expect(error).toBeInstanceOf(Error);
        expect(error).not.toBeInstanceOf(ConflictError);
        expect((await fixture.state.getHandoff('cross-region-task-1'))?.status).toBe('pending');
      });
    });

    describe('batch reads of handoffs', () => {
      // Invariant: a batch read answers what one read per id would, the absent ones left out,
      // whatever the order or repeats of the ids asked for.
      it('answers the handoffs it holds by id and leaves the absent ones out', async () => {
        await fixture.state.createHandoff(handoff({ handoff_id: 'h-a', task_id: 'a' }));
        await fixture.state.createHandoff(handoff({ handoff_id: 'h-b', task_id: 'b', status: 'accepted' }));
        const found = await fixture.state.getHandoffs(['h-b', 'h-missing', 'h-a', 'h-b']);
        expect([...found.keys()].sort()).toEqual(['h-a', 'h-b']);
        expect(found.get('h-a')).toEqual(await fixture.state.getHandoff('h-a'));
        expect(found.get('h-b')).toEqual(await fixture.state.getHandoff('h-b'));
        expect(await fixture.state.getHandoffs([])).toEqual(new Map());
      });

      // Invariant: more ids than one store call takes are all answered (BatchGetItem: 100 a call).
      it('answers more handoffs than one batch call takes', async () => {
        const ids = Array.from({ length: 130 }, (_, i) => `h-${String(i).padStart(3, '0')}`);
        await Promise.all(
          ids.map((id) => fixture.state.createHandoff(handoff({ handoff_id: id, task_id: id }))),
        );
        const found = await fixture.state.getHandoffs(ids);
        expect([...found.keys()].sort()).toEqual(ids);
        expect(found.get('h-129')?.task_id).toBe('h-129');
      });

      // Invariant: a batch read sees the last write to each handoff, as getHandoff does.
      it('reads what the last transition left', async () => {
        await fixture.state.createHandoff(handoff());
        await fixture.state.transitionHandoff(
          'cross-region-task-1',
          'accepted',
          { accepted_at: '2026-11-26T12:00:05Z', accepted_by: 'worker-1' },
          ['pending'],
        );
        const found = await fixture.state.getHandoffs(['cross-region-task-1']);
        expect(found.get('cross-region-task-1')).toMatchObject({
          status: 'accepted',
          accepted_by: 'worker-1',
        });
      });
    });
  });
}
