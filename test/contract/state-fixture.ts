/**
 * The store the state contracts run on (one suite per aggregate of StatePort, lib/ports.ts) and the
 * records they write.
 */
import { afterAll, beforeEach } from 'vitest';
import type { FailoverRecord, FailoverStepRecord } from '../../lib/core/failover/types.ts';
import type { TargetHealth } from '../../lib/core/health/types.ts';
import type { Handoff, RegionStatusRecord } from '../../lib/core/state/records.ts';
import type { StatePort } from '../../lib/ports.ts';

/**
 * A store under test, seen through the port `P`: the whole StatePort for an implementation, one
 * aggregate of it in that aggregate's suite (which then reaches nothing else).
 */
export interface StateFixture<P = StatePort> {
  readonly state: P;
  /** Another port on the same store whose status writes are `writer`'s (a region's replica writer). */
  stateAs(writer: string): P;
  /**
   * Lands `writer`'s status write as replication delivers it from `writer`'s replica: unconditionally,
   * whatever this store holds (how two sides of a partition end up with writes at one epoch).
   */
  replicated(writer: string, record: RegionStatusRecord): Promise<void>;
  /** Empties the store between tests. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Registers the hooks every aggregate suite shares, inside the calling describe: the store opens
 * before the first test, is emptied before each one and closed after the last. The answer reaches
 * the open store from inside a test (`close` stays the suite's).
 */
export function useStateFixture<P>(setup: () => Promise<StateFixture<P>>): Omit<StateFixture<P>, 'close'> {
  let fixture: StateFixture<P> | undefined;
  beforeEach(async () => {
    fixture ??= await setup();
    await fixture.reset();
  });
  afterAll(async () => {
    await fixture?.close();
  });
  const open = (): StateFixture<P> => {
    if (!fixture) throw new Error('the state fixture opens before each test, not at describe time');
    return fixture;
  };
  return {
    get state() {
      return open().state;
    },
    stateAs: (writer) => open().stateAs(writer),
    replicated: (writer, record) => open().replicated(writer, record),
    reset: () => open().reset(),
  };
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

/** A step that succeeded in detection, a second after the failover began. */
export function failoverStep(overrides: Partial<FailoverStepRecord> = {}): FailoverStepRecord {
  return {
    action: 'verify_failure',
    phase: 'detection',
    started_at: '2026-11-26T12:00:00Z',
    ended_at: '2026-11-26T12:00:01Z',
    outcome: 'succeeded',
    detail: 'ok',
    attempt: 1,
    ...overrides,
  };
}
