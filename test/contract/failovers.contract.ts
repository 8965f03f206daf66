import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../lib/core/errors.ts';
import type { FailoverRecord } from '../../lib/core/failover/types.ts';
import type { Failovers } from '../../lib/ports.ts';
import { failover, failoverStep, type StateFixture, useStateFixture } from './state-fixture.ts';

/**
 * The Failovers contract (STYLE 4): one record per id, conditional updates, the active index.
 * Every StatePort implementation's test file runs it, through stateContract (state.contract.ts).
 */
export function failoversContract(name: string, setup: () => Promise<StateFixture<Failovers>>): void {
  describe(`Failovers contract: ${name}`, () => {
    const fixture = useStateFixture(setup);

    it('creates a failover once per id, whoever asks', async () => {
      const results = await Promise.allSettled([
        fixture.state.createFailover(failover({ coordinator: 'us-east-1' })),
        fixture.state.createFailover(failover({ coordinator: 'ap-south-1' })),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason.code).toBe('FAILOVER_EXISTS');
      expect(rejected.reason.current.failover_id).toBe('failover-eu-west-1-e0');
    });

    it('updates a failover only from an expected status and appends its steps in order', async () => {
      await fixture.state.createFailover(failover());
      await fixture.state.updateFailover(
        'failover-eu-west-1-e0',
        { target_region: 'us-east-1' },
        { expectedStatuses: ['running'], step: failoverStep() },
      );
      const updated = await fixture.state.updateFailover(
        'failover-eu-west-1-e0',
        { status: 'completed' },
        { expectedStatuses: ['running'], step: failoverStep({ action: 'assess_impact' }) },
      );
      expect(updated.status).toBe('completed');
      expect(updated.target_region).toBe('us-east-1');
      expect(updated.steps.map((s) => s.action)).toEqual(['verify_failure', 'assess_impact']);
      const late = await fixture.state
        .updateFailover('failover-eu-west-1-e0', { status: 'rolled_back' }, { expectedStatuses: ['running'] })
        .catch((e) => e);
      expect(late).toBeInstanceOf(ConflictError);
      expect(late.code).toBe('FAILOVER_CHANGED');
      expect(late.current.status).toBe('completed');
      const missing = await fixture.state
        .updateFailover('nope', { status: 'failed' }, { expectedStatuses: ['running'] })
        .catch((e) => e);
      expect(missing.code).toBe('FAILOVER_CHANGED');
    });

    describe('active failovers', () => {
      const ids = (records: readonly FailoverRecord[]) => records.map((f) => f.failover_id);
      const step = failoverStep();

      // Invariant: the active list holds the failovers still going and nothing else, so a probe
      // round's read does not grow with the failovers ever written; the full list still holds all.
      it('lists only the failovers still going, newest first, and every failover in the full list', async () => {
        const at = (hour: number) => `2026-11-26T${String(hour).padStart(2, '0')}:00:00Z`;
        const statuses = [
          'completed',
          'running',
          'rolled_back',
          'awaiting_approval',
          'failed',
          'cancelled',
        ] as const;
        for (const [i, status] of statuses.entries()) {
          await fixture.state.createFailover(
            failover({ failover_id: `f${i + 1}`, initiated_at: at(i + 1), status }),
          );
        }
        expect(ids(await fixture.state.listActiveFailovers())).toEqual(['f4', 'f2']);
        expect(ids(await fixture.state.listFailovers())).toEqual(['f6', 'f5', 'f4', 'f3', 'f2', 'f1']);
        expect(await fixture.state.listActiveFailovers()).toEqual([
          await fixture.state.getFailover('f4'),
          await fixture.state.getFailover('f2'),
        ]);
      });

      // Invariant: the write that ends a failover takes it out of the active list; one that waits
      // for an operator stays listed, and so does one whose update keeps it going.
      it('moves a failover out of the active list in the write that ends it', async () => {
        await fixture.state.createFailover(failover());
        expect(ids(await fixture.state.listActiveFailovers())).toEqual(['failover-eu-west-1-e0']);
        await fixture.state.updateFailover(
          'failover-eu-west-1-e0',
          { status: 'awaiting_approval' },
          { expectedStatuses: ['running'], step },
        );
        await fixture.state.updateFailover(
          'failover-eu-west-1-e0',
          { coordinator: 'ap-south-1' },
          { expectedStatuses: ['running', 'awaiting_approval'] },
        );
        expect(await fixture.state.listActiveFailovers()).toEqual([
          expect.objectContaining({ status: 'awaiting_approval', coordinator: 'ap-south-1' }),
        ]);
        await fixture.state.updateFailover(
          'failover-eu-west-1-e0',
          { status: 'running' },
          { expectedStatuses: ['awaiting_approval'] },
        );
        const ended = await fixture.state.updateFailover(
          'failover-eu-west-1-e0',
          { status: 'completed', updated_at: '2026-11-26T12:05:00Z' },
          { expectedStatuses: ['running'], step },
        );
        expect(await fixture.state.listActiveFailovers()).toEqual([]);
        expect(await fixture.state.listFailovers()).toEqual([ended]);
        // A refused change leaves the lists as they were.
        const late = await fixture.state
          .updateFailover('failover-eu-west-1-e0', { status: 'running' }, { expectedStatuses: ['running'] })
          .catch((e) => e);
        expect(late).toBeInstanceOf(ConflictError);
        expect(await fixture.state.listActiveFailovers()).toEqual([]);
        // An ended failover's own updates (no status change) keep it out of the active list.
        await fixture.state.updateFailover(
          'failover-eu-west-1-e0',
          { updated_at: '2026-11-26T12:06:00Z' },
          { expectedStatuses: ['completed', 'rolled_back'] },
        );
        expect(await fixture.state.listActiveFailovers()).toEqual([]);
        expect(ids(await fixture.state.listFailovers())).toEqual(['failover-eu-west-1-e0']);
      });

      // Invariant: of concurrent transitions exactly one ends a failover, and both lists agree with
      // the record that won: it is listed once in all, never in the active list once it ended.
      it('lets one of concurrent transitions end a failover and keeps the lists with the winner', async () => {
        await fixture.state.createFailover(failover());
        const ends = ['completed', 'rolled_back', 'failed', 'cancelled'] as const;
        const results = await Promise.allSettled([
          ...ends.map((status) =>
            fixture.state.updateFailover(
              'failover-eu-west-1-e0',
              { status },
              { expectedStatuses: ['running'] },
            ),
          ),
          ...[1, 2, 3].map(() =>
            fixture.state.updateFailover(
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
        const stored = await fixture.state.getFailover('failover-eu-west-1-e0');
        expect(stored?.status).toBe(endedBy[0]?.value.status);
        expect(await fixture.state.listActiveFailovers()).toEqual([]);
        expect(await fixture.state.listFailovers()).toEqual([stored]);
      });

      // Invariant: concurrent steps of a running failover keep it listed once, with every step.
      it('keeps a failover listed once under concurrent steps', async () => {
        await fixture.state.createFailover(failover());
        await Promise.all(
          [1, 2, 3, 4].map((attempt) =>
            fixture.state.updateFailover(
              'failover-eu-west-1-e0',
              {},
              { expectedStatuses: ['running'], step: { ...step, attempt } },
            ),
          ),
        );
        const [active, ...rest] = await fixture.state.listActiveFailovers();
        expect(rest).toEqual([]);
        expect(active?.steps.map((s) => s.attempt).sort()).toEqual([1, 2, 3, 4]);
        expect(await fixture.state.listFailovers()).toEqual([active]);
      });
    });

    it('lists failovers newest first, optionally for one region', async () => {
      await fixture.state.createFailover(
        failover({ failover_id: 'a', initiated_at: '2026-11-26T12:00:00Z' }),
      );
      await fixture.state.createFailover(
        failover({ failover_id: 'b', initiated_at: '2026-11-26T13:00:00Z', failed_region: 'ap-south-1' }),
      );
      expect((await fixture.state.listFailovers()).map((f) => f.failover_id)).toEqual(['b', 'a']);
      expect((await fixture.state.listFailovers('eu-west-1')).map((f) => f.failover_id)).toEqual(['a']);
      expect(await fixture.state.getFailover('c')).toBeUndefined();
    });
  });
}
