import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyRound, type HealthPolicy, healthPolicyOf, p99 } from '../../lib/core/health/evaluate.ts';
import type { ProbeObservation, TargetHealth } from '../../lib/core/health/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';

const POLICY = healthPolicyOf(validateTopology(defaultTopologyJson()));
const INTERVAL_MS = POLICY.interval_seconds * 1000;

type Call = 'ok' | 'timeout' | 'refused' | 503 | 500;

/** One round's outcome per endpoint; anything not named answers ok. */
interface RoundSpec {
  readonly health?: Call;
  readonly ping?: Call;
  readonly status?: Call;
  readonly latency_ms?: number;
  readonly available_capacity?: number;
  readonly heartbeat?: { seq: number; at: number };
}

function call(endpoint: string, outcome: Call, at: number, latency_ms: number): ProbeObservation {
  const base = { observer: 'us-east-1', target: 'eu-west-1', endpoint, at };
  if (outcome === 'ok') return { ...base, ok: true, status: 200, latency_ms };
  if (outcome === 'timeout') return { ...base, ok: false, error: 'timeout', latency_ms: 10_000 };
  if (outcome === 'refused') return { ...base, ok: false, error: 'refused', latency_ms: 3 };
  return { ...base, ok: false, status: outcome, error: `http ${outcome}`, latency_ms };
}

/** The three calls of round `n` (at = n * interval). */
function round(n: number, spec: RoundSpec = {}): ProbeObservation[] {
  const at = n * INTERVAL_MS;
  const latency = spec.latency_ms ?? 80;
  const status = call('/coordination/status', spec.status ?? 'ok', at + 2, latency);
  return [
    call('/health', spec.health ?? 'ok', at, latency),
    call('/api/v1/ping', spec.ping ?? 'ok', at + 1, latency),
    status.ok
      ? {
          ...status,
          reported_status: 'healthy',
          ...(spec.available_capacity !== undefined ? { available_capacity: spec.available_capacity } : {}),
          ...(spec.heartbeat ? { reported_heartbeat: spec.heartbeat } : {}),
        }
      : status,
  ];
}

/** Folds the rounds in order; returns every intermediate view. */
function run(specs: readonly RoundSpec[], policy: HealthPolicy = POLICY): TargetHealth[] {
  const seen: TargetHealth[] = [];
  specs.forEach((spec, i) => {
    seen.push(applyRound(seen.at(-1), round(i + 1, spec), policy));
  });
  return seen;
}

const last = (views: readonly TargetHealth[]): TargetHealth => {
  const view = views.at(-1);
  if (!view) throw new Error('no rounds');
  return view;
};

const OK: RoundSpec = {};
const DOWN: RoundSpec = { health: 'timeout', ping: 'timeout', status: 'timeout' };
const HEALTH_503: RoundSpec = { health: 503 };

describe('healthPolicyOf', () => {
  it('takes thresholds and conditions from the topology', () => {
    expect(POLICY).toMatchObject({
      interval_seconds: 30,
      timeout_seconds: 10,
      failure_threshold: 3,
      success_threshold: 2,
      endpoints: ['/health', '/api/v1/ping', '/coordination/status'],
      error_rate_threshold: 0.1,
      latency_p99_threshold_ms: 5000,
      available_capacity_threshold: 0.2,
      window_size: 30,
      min_samples_for_slo: 10,
    });
  });

  it('lets the stricter of the two failure counts rule', () => {
    const json = defaultTopologyJson();
    json.failover_policies.automatic_failover.conditions.health_check_failures = 5;
    expect(healthPolicyOf(validateTopology(json)).failure_threshold).toBe(5);
  });
});

describe('applyRound thresholds (failure 3, success 2)', () => {
  const cases: { name: string; rounds: RoundSpec[]; verdict: TargetHealth['verdict'] }[] = [
    { name: 'a first clean round is healthy (never failed)', rounds: [OK], verdict: 'healthy' },
    { name: '1 failed /health round is suspect', rounds: [HEALTH_503], verdict: 'suspect' },
    { name: '2 failed /health rounds are suspect', rounds: [HEALTH_503, HEALTH_503], verdict: 'suspect' },
    { name: '3 failed /health rounds are unhealthy', rounds: [DOWN, DOWN, DOWN], verdict: 'unhealthy' },
    { name: '3 x 503 is unhealthy', rounds: [HEALTH_503, HEALTH_503, HEALTH_503], verdict: 'unhealthy' },
    { name: 'a failure after healthy is suspect', rounds: [OK, OK, HEALTH_503], verdict: 'suspect' },
    { name: '1 success after a failure is suspect', rounds: [HEALTH_503, OK], verdict: 'suspect' },
    { name: '2 successes after a failure are healthy', rounds: [HEALTH_503, OK, OK], verdict: 'healthy' },
    { name: '1 success after unhealthy is suspect', rounds: [DOWN, DOWN, DOWN, OK], verdict: 'suspect' },
    {
      name: '2 successes after unhealthy are healthy',
      rounds: [DOWN, DOWN, DOWN, OK, OK],
      verdict: 'healthy',
    },
    {
      name: 'a long outage recovers after 2 clean rounds too',
      rounds: [...Array(12).fill(DOWN), OK, OK],
      verdict: 'healthy',
    },
    {
      name: 'a failure interrupting recovery restarts the count',
      rounds: [DOWN, DOWN, DOWN, OK, HEALTH_503, OK],
      verdict: 'suspect',
    },
  ];
  for (const { name, rounds, verdict } of cases) {
    it(name, () => {
      expect(last(run(rounds)).verdict).toBe(verdict);
    });
  }

  it('counts failed /health rounds and clean rounds in a row', () => {
    const views = run([DOWN, DOWN, OK, { ping: 500 }, OK, OK]);
    expect(views.map((v) => [v.consecutive_failures, v.consecutive_successes])).toEqual([
      [1, 0],
      [2, 0],
      [0, 1],
      [0, 0],
      [0, 1],
      [0, 2],
    ]);
    expect(views.map((v) => v.rounds)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('explains an unhealthy verdict in words', () => {
    expect(last(run([DOWN, DOWN, DOWN])).reasons).toContain('/health failed 3 rounds in a row (timeout)');
    expect(last(run([HEALTH_503, HEALTH_503, HEALTH_503])).reasons).toContain(
      '/health failed 3 rounds in a row (http 503)',
    );
    expect(last(run([HEALTH_503])).reasons[0]).toBe(
      '/health failed 1 round in a row (http 503); unhealthy at 3',
    );
    expect(last(run([DOWN, DOWN, DOWN, OK])).reasons).toContain('recovering: 1 of 2 clean rounds');
  });

  it('keeps per-endpoint failure counts and the last error', () => {
    const view = last(run([{ ping: 'refused' }, { ping: 'refused', health: 503 }]));
    expect(view.endpoints['/api/v1/ping']).toEqual({
      consecutive_failures: 2,
      last_ok: false,
      last_error: 'refused',
    });
    expect(view.endpoints['/health']).toEqual({
      consecutive_failures: 1,
      last_ok: false,
      last_error: 'http 503',
    });
    expect(view.endpoints['/coordination/status']).toEqual({ consecutive_failures: 0, last_ok: true });
  });
});

describe('applyRound flapping', () => {
  /** Rounds whose failure runs stay shorter than the failure threshold. */
  const flapping = fc
    .array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 4 })), {
      minLength: 1,
      maxLength: 30,
    })
    .map((runs) =>
      runs.flatMap(([failed, clean]) => [
        ...Array<RoundSpec>(failed).fill(HEALTH_503),
        ...Array<RoundSpec>(clean).fill(OK),
      ]),
    );

  it('flapping faster than the failure threshold never reaches unhealthy through the counts', () => {
    // The SLO conditions are set out of reach: this is the hysteresis alone.
    const countsOnly: HealthPolicy = { ...POLICY, error_rate_threshold: 1 };
    fc.assert(
      fc.property(flapping, (specs) => {
        for (const view of run(specs, countsOnly)) expect(view.verdict).not.toBe('unhealthy');
      }),
    );
  });

  it('a full window of clean calls absorbs /health failing one round in four', () => {
    const views = run([...Array(10).fill(OK), ...Array(10).fill([OK, OK, OK, HEALTH_503]).flat()]);
    expect(views.map((v) => v.verdict)).not.toContain('unhealthy');
    expect(Math.max(...views.map((v) => v.error_rate))).toBeLessThanOrEqual(0.1);
  });

  it('flapping that never recovers and fails over 10% of calls is caught by the error-rate condition', () => {
    const views = run(Array(8).fill([HEALTH_503, OK]).flat());
    const first = views.findIndex((v) => v.verdict === 'unhealthy');
    expect(first).toBeGreaterThan(2); // not before the window holds min_samples_for_slo samples
    expect(views[first]?.consecutive_failures).toBeLessThan(3);
    expect(views[first]?.reasons.join('; ')).toMatch(
      /^error rate \d+(\.\d)?% above 10% \(\d+ of \d+ answered calls failed\)/,
    );
  });
});

describe('applyRound SLO conditions', () => {
  it('calls that got no answer are left to the failure threshold, not the error rate', () => {
    const views = run([DOWN, OK, DOWN, OK, DOWN, OK, DOWN, OK]);
    expect(views.every((v) => v.error_rate === 0)).toBe(true);
    expect(views.some((v) => v.verdict === 'unhealthy')).toBe(false);
  });

  it('error rate above the threshold is unhealthy once the window holds enough samples', () => {
    // /health and ping fail every other round: 2 of 6 calls, never 3 rounds in a row.
    const flaky: RoundSpec = { health: 500, ping: 500 };
    const views = run([flaky, OK, flaky, OK, flaky]);
    expect(views[2]?.window).toHaveLength(9);
    expect(views[2]?.verdict).toBe('suspect'); // 9 samples < 10: too few to judge
    expect(last(views).verdict).toBe('unhealthy');
    expect(last(views).error_rate).toBeCloseTo(6 / 15);
    expect(last(views).reasons).toEqual(['error rate 40% above 10% (6 of 15 answered calls failed)']);
  });

  it('p99 above the threshold is unhealthy', () => {
    const slow: RoundSpec = { latency_ms: 6120 };
    const views = run([slow, slow, slow, slow]);
    expect(views[2]?.verdict).toBe('healthy'); // 9 samples
    expect(last(views).verdict).toBe('unhealthy');
    expect(last(views).p99_ms).toBe(6120);
    expect(last(views).reasons).toEqual(['p99 6120 ms above 5000 ms']);
  });

  // Invariant (found by the simulator): a region that answers fast again is not voted out for the
  // slow answers its window still holds.
  it('a p99 breach counts only in a round that is slow itself', () => {
    const views = run([...Array(10).fill({ latency_ms: 6_120 }), OK, OK, OK]);
    expect(views[9]?.verdict).toBe('unhealthy');
    expect(views[10]?.p99_ms).toBeGreaterThan(5000);
    expect(views.slice(10).every((v) => v.verdict !== 'unhealthy')).toBe(true);
    expect(views.slice(10).every((v) => !(v.signals ?? []).includes('latency'))).toBe(true);
  });

  it('one slow answer among many is not the p99 by itself; two are', () => {
    const sample = (latency_ms: number) => ({ at: 0, ok: true, latency_ms });
    const fast = Array.from({ length: 28 }, () => sample(100));
    expect(p99([...fast, sample(100), sample(6120)])).toBeLessThan(5000);
    expect(p99([...fast, sample(6120), sample(6120)])).toBe(6120);
    expect(p99([{ at: 0, ok: false, latency_ms: 10_000 }])).toBe(0);
  });

  // Invariant: p99 is numpy's linear interpolation over every answered latency sorted, whatever the
  // window's size and order (it keeps only the largest values instead of sorting them all).
  it('p99 interpolates between the sorted answered latencies at rank 0.99 (n - 1)', () => {
    const reference = (latencies: readonly number[]): number => {
      const sorted = [...latencies].sort((a, b) => a - b);
      if (sorted.length === 0) return 0;
      const rank = 0.99 * (sorted.length - 1);
      const low = Math.floor(rank);
      const lower = sorted[low] as number;
      const upper = sorted[Math.min(low + 1, sorted.length - 1)] as number;
      return lower + (upper - lower) * (rank - low);
    };
    const window = fc.array(
      fc.record({ ok: fc.boolean(), latency_ms: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.nat(20_000)) }),
      { maxLength: 250 },
    );
    fc.assert(
      fc.property(window, (calls) => {
        const samples = calls.map((c) => ({ at: 0, ...c }));
        const answered = calls.filter((c) => c.ok).map((c) => c.latency_ms);
        expect(p99(samples)).toBe(reference(answered));
      }),
    );
  });

  // Invariant (DESIGN principle 5): capacity is load, not failure. A saturated target is reported
  // as such and never voted out, however long it stays saturated.
  it('reported capacity below the threshold is saturated, never unhealthy', () => {
    const views = run(Array(12).fill({ available_capacity: 0.12 }));
    for (const view of views) {
      expect(view.verdict).toBe('healthy');
      expect(view.saturated).toBe(true);
      expect(view.reachable).toBe(true);
      expect(view.signals).toEqual(['saturated']);
    }
    expect(last(views).available_capacity).toBe(0.12);
    expect(last(views).reasons).toContain(
      'saturated: available capacity 12% below 20% (load, not failure: no new work, no failover)',
    );
  });

  it('keeps the last reported capacity when /coordination/status does not answer', () => {
    const view = last(run([{ available_capacity: 0.5 }, { status: 'timeout' }]));
    expect(view.available_capacity).toBe(0.5);
  });

  it('capacity at the threshold is not a breach', () => {
    const view = last(run([{ available_capacity: 0.2 }]));
    expect(view.verdict).toBe('healthy');
    expect(view.saturated).toBe(false);
  });
});

describe('applyRound isolated component (the spec decision tree)', () => {
  it('an endpoint failing 3 rounds while /health answers is a component failure, not unhealthy', () => {
    const views = run([{ ping: 500 }, { ping: 500 }, { ping: 500 }]);
    expect(views.map((v) => v.verdict)).toEqual(['suspect', 'suspect', 'component_failure']);
    expect(last(views).consecutive_failures).toBe(0);
    expect(last(views).reasons[0]).toBe(
      '/api/v1/ping failed 3 rounds in a row (http 500) while /health answers: isolated component, restart, no failover',
    );
  });

  it('stays a component failure when its errors push the window error rate over the threshold', () => {
    const views = run(Array(8).fill({ status: 500 }));
    expect(last(views).error_rate).toBeGreaterThan(0.1);
    expect(last(views).verdict).toBe('component_failure');
    expect(last(views).reasons.join('; ')).toContain('not on /health: isolated component, no failover');
  });

  it('is a regional failure when /health fails as well', () => {
    expect(last(run([DOWN, DOWN, DOWN])).verdict).toBe('unhealthy');
  });

  it('a repaired component passes through suspect before healthy', () => {
    const views = run([{ ping: 500 }, { ping: 500 }, { ping: 500 }, OK, OK]);
    expect(views.slice(3).map((v) => v.verdict)).toEqual(['suspect', 'healthy']);
  });
});

describe('applyRound window and records', () => {
  it('bounds the window to window_size samples, newest last', () => {
    const views = run(Array(20).fill(OK));
    const view = last(views);
    expect(view.window).toHaveLength(30);
    expect(view.window.at(-1)?.at).toBe(20 * INTERVAL_MS + 2);
    expect(view.window[0]?.at).toBe(11 * INTERVAL_MS);
    const small = last(run(Array(5).fill(OK), { ...POLICY, window_size: 4 }));
    expect(small.window.map((s) => s.endpoint)).toEqual([
      '/coordination/status',
      '/health',
      '/api/v1/ping',
      '/coordination/status',
    ]);
  });

  it('a recovered target forgets the failed calls of the episode', () => {
    const ERRORS: RoundSpec = { health: 500, ping: 500, status: 500 };
    const views = run([ERRORS, ERRORS, ERRORS, OK, OK]);
    expect(views[3]?.error_rate).toBeCloseTo(9 / 12);
    expect(last(views).error_rate).toBe(0);
    expect(last(views).window.every((s) => s.ok)).toBe(true);
  });

  it('updated_at is the newest observation time', () => {
    expect(last(run([OK, OK])).updated_at).toBe(2 * INTERVAL_MS + 2);
  });

  it('keeps the highest reported heartbeat', () => {
    const views = run([
      { heartbeat: { seq: 7, at: 1000 } },
      { heartbeat: { seq: 5, at: 900 } },
      { status: 'timeout' },
      { heartbeat: { seq: 9, at: 2000 } },
    ]);
    expect(views.map((v) => v.reported_heartbeat?.seq)).toEqual([7, 7, 7, 9]);
    expect(last(views).reported_heartbeat).toEqual({ seq: 9, at: 2000 });
    expect(last(views).reported_status).toBe('healthy');
  });

  it('does not change the previous view or the observations', () => {
    const prev = last(run([OK, HEALTH_503]));
    const obs = round(3, DOWN);
    const before = structuredClone({ prev, obs });
    applyRound(prev, obs, POLICY);
    expect({ prev, obs }).toEqual(before);
  });

  it('refuses a round that mixes targets or observers', () => {
    const [health] = round(1);
    if (!health) throw new Error('no call');
    expect(() => applyRound(undefined, [health, { ...health, target: 'ap-south-1' }], POLICY)).toThrow(
      RangeError,
    );
    expect(() => applyRound(undefined, [], POLICY)).toThrow(RangeError);
  });
});

/** A round whose /coordination/status reports `status` and whose /health answers 503 (a non-serving region). */
function notServingRound(n: number, status: 'fenced' | 'draining' | 'failed'): ProbeObservation[] {
  return round(n, { health: 503 }).map((o) =>
    o.endpoint === '/coordination/status' ? { ...o, reported_status: status } : o,
  );
}

describe('applyRound reachability (transport level, the only thing quorum counts)', () => {
  // Invariant (DESIGN principle 3): a target that answers anything is reachable.
  it('a target answering 503, 500 or slowly stays reachable however long it does', () => {
    for (const spec of [
      HEALTH_503,
      { health: 500, ping: 500, status: 500 } as RoundSpec,
      { latency_ms: 9_000 },
    ]) {
      const views = run(Array(10).fill(spec));
      expect(views.every((v) => v.reachable === true)).toBe(true);
      expect(last(views).consecutive_unanswered).toBe(0);
    }
  });

  it('becomes unreachable after failure_threshold rounds with no answer, reachable after success_threshold with one', () => {
    const views = run([DOWN, DOWN, DOWN, OK, OK, OK]);
    expect(views.map((v) => v.reachable)).toEqual([true, true, false, false, true, true]);
    expect(views[2]?.signals).toContain('unreachable');
    expect(views[2]?.reasons).toContain('unreachable: no answer of any kind for 3 rounds in a row');
    // Answering again but not yet reachable: no failover vote for it (suspect), said in words.
    expect(views[3]?.verdict).toBe('suspect');
    expect(views[3]?.reasons.some((r) => r.startsWith('answering again'))).toBe(true);
  });

  it('a refused connection is no answer', () => {
    const refused: RoundSpec = { health: 'refused', ping: 'refused', status: 'refused' };
    expect(last(run([refused, refused, refused])).reachable).toBe(false);
  });

  it('property: any round with at least one answer never makes a reachable target unreachable', () => {
    const outcome = fc.constantFrom<Call>('ok', 'timeout', 'refused', 500, 503);
    fc.assert(
      fc.property(
        fc.array(fc.record({ health: outcome, ping: outcome, status: outcome }), {
          minLength: 1,
          maxLength: 30,
        }),
        (specs) => {
          const answered = specs.filter((s) =>
            [s.health, s.ping, s.status].some((c) => typeof c === 'number' || c === 'ok'),
          );
          fc.pre(answered.length === specs.length);
          return run(specs).every((v) => v.reachable === true);
        },
      ),
    );
  });
});

describe("applyRound: a 503 the target's own status explains", () => {
  // Invariant: one region's status never becomes another's failure (the fenced -> 503 -> unhealthy
  // -> fenced cascade). A fenced, draining or failed region says so; its 503 is not a failure.
  it('a fenced target answering 503 is not unhealthy however long it stays fenced', () => {
    const seen: TargetHealth[] = [];
    for (let n = 1; n <= 10; n++) seen.push(applyRound(seen.at(-1), notServingRound(n, 'fenced'), POLICY));
    for (const view of seen) {
      expect(view.verdict).not.toBe('unhealthy');
      expect(view.consecutive_failures).toBe(0);
      expect(view.error_rate).toBe(0);
      expect(view.reachable).toBe(true);
    }
    expect(last(seen).reasons).toContain('not serving by its own status (fenced): /health answers 503');
  });

  it('a 503 from a target that reports itself serving is still a failure', () => {
    expect(last(run([HEALTH_503, HEALTH_503, HEALTH_503])).verdict).toBe('unhealthy');
    expect(last(run([HEALTH_503, HEALTH_503, HEALTH_503])).signals).toContain('health_check');
  });
});
