import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../lib/core/errors.ts';
import type { FailoverRecord } from '../../lib/core/failover/types.ts';
import type { TargetHealth } from '../../lib/core/health/types.ts';
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
