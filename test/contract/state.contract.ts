import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../lib/core/errors.ts';
import type { Handoff, RegionStatusRecord } from '../../lib/core/state/records.ts';
import type { StatePort } from '../../lib/ports.ts';

export interface StateFixture {
  readonly state: StatePort;
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
  });
}
