import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeObservation } from '../../lib/core/health/types.ts';
import type { RegionStatus } from '../../lib/core/state/records.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import type { StatePort } from '../../lib/ports.ts';

/** A fault the fixture's network injects, as both simulated networks know them. */
export type ProbeFault =
  | { readonly kind: 'down' | 'errors'; readonly region: string }
  | { readonly kind: 'slow'; readonly region: string; readonly ms: number }
  | { readonly kind: 'partition'; readonly a: string; readonly b: string };

export interface ProbeFixture {
  /** The default topology as shipped, whose regions answer with their real handlers. */
  readonly topology: Topology;
  /** The time base observations are stamped on. */
  now(): number;
  /** One call of the probe under test, with the time it needs passing (a simulated clock runs). */
  observe(observer: string, target: string, endpoint: string, timeoutMs: number): Promise<ProbeObservation>;
  /** One round's endpoints on `target` through the probe under test (`probeEndpoints`), with time passing. */
  observeRound(
    observer: string,
    target: string,
    endpoints: readonly string[],
    timeoutMs: number,
  ): Promise<ProbeObservation[]>;
  inject(fault: ProbeFault): Promise<void>;
  /** Writes `status` as the region's own status in its replica (the next epoch). */
  setStatus(region: string, status: RegionStatus): Promise<void>;
  /** Removes every fault and makes every region healthy again. */
  heal(): Promise<void>;
  close(): Promise<void>;
}

/** A fixture's `setStatus`: writes `status` as `region`'s own, the next epoch, in `state` (its replica). */
export async function writeOwnStatus(
  state: StatePort,
  region: string,
  status: RegionStatus,
  now: number,
): Promise<void> {
  const current = await state.getRegionStatus(region);
  await state.putRegionStatus(
    {
      region_id: region,
      status,
      role: current?.role ?? 'active',
      epoch: (current?.epoch ?? 0) + 1,
      updated_at: new Date(now).toISOString(),
      updated_by: `contract@${region}`,
    },
    current?.epoch,
  );
}

const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';
const TIMEOUT_MS = 2_000;

/**
 * The ProbePort contract (STYLE 4): what the probe round, the witness and the latency sampler rely on.
 * Quorum counts an observation with a `status` as reachable (principle 3), so which failures carry
 * one is part of the contract: an answer of any kind does, a call that got none does not.
 */
export function probeContract(name: string, setup: () => Promise<ProbeFixture>): void {
  describe(`ProbePort contract: ${name}`, () => {
    let fixture: ProbeFixture;
    beforeAll(async () => {
      fixture = await setup();
    });
    afterEach(async () => {
      await fixture.heal();
    });
    afterAll(async () => {
      await fixture?.close();
    });

    const expectShape = (seen: ProbeObservation, target: string, endpoint: string, start: number) => {
      expect(seen).toMatchObject({ observer: US, target, endpoint });
      expect(seen.at).toBeGreaterThanOrEqual(start);
      expect(seen.at).toBeLessThanOrEqual(fixture.now());
      expect(seen.latency_ms).toBeGreaterThanOrEqual(0);
    };

    // Invariant: a serving region answers every endpoint of the policy with 200 within the timeout.
    it("answers every endpoint of a serving region's policy ok, within the timeout, naming the call", async () => {
      for (const endpoint of fixture.topology.failover_policies.health_check.endpoints) {
        const start = fixture.now();
        const seen = await fixture.observe(US, EU, endpoint, TIMEOUT_MS);
        expectShape(seen, EU, endpoint, start);
        expect(seen, endpoint).toMatchObject({ ok: true, status: 200 });
        expect(seen.latency_ms).toBeLessThan(TIMEOUT_MS);
      }
    });

    // Invariant: the coordination status carries what the round decides on: the target's own
    // status and its free capacity.
    it("reports the target's own status and capacity on /coordination/status", async () => {
      const seen = await fixture.observe(US, AP, '/coordination/status', TIMEOUT_MS);
      expect(seen).toMatchObject({ ok: true, status: 200, reported_status: 'healthy' });
      expect(seen.available_capacity).toBeGreaterThanOrEqual(0);
      expect(seen.available_capacity).toBeLessThanOrEqual(1);
    });

    // Invariant: a region that is not serving still answers, so it stays reachable: /health is 503
    // and its status document says why.
    it('sees a region that is not serving as reachable: /health 503, its status reported', async () => {
      await fixture.setStatus(EU, 'failed');
      const health = await fixture.observe(US, EU, '/health', TIMEOUT_MS);
      expect(health).toMatchObject({ ok: false, status: 503 });
      const status = await fixture.observe(US, EU, '/coordination/status', TIMEOUT_MS);
      expect(status).toMatchObject({ status: 200, reported_status: 'failed' });
    });

    // Invariant: an erroring region is reachable: its answer carries the status.
    it('sees a region that answers errors as reachable, with the status it answered', async () => {
      await fixture.inject({ kind: 'errors', region: AP });
      const seen = await fixture.observe(US, AP, '/health', TIMEOUT_MS);
      expect(seen).toMatchObject({ ok: false, status: 500 });
    });

    // Invariant: a call that gets no answer carries no status (unreachable for the quorum).
    it('sees a region that is down as unreachable: no status', async () => {
      await fixture.inject({ kind: 'down', region: AP });
      const start = fixture.now();
      const seen = await fixture.observe(US, AP, '/health', TIMEOUT_MS);
      expectShape(seen, AP, '/health', start);
      expect(seen.ok).toBe(false);
      expect(seen.status).toBeUndefined();
      expect(seen.error).toEqual(expect.any(String));
    });

    // Invariant: across a partition the call fails at once as unreachable, costing the timeout.
    it('answers a call across a partition as unreachable, with the timeout as its latency', async () => {
      await fixture.inject({ kind: 'partition', a: US, b: EU });
      const seen = await fixture.observe(US, EU, '/health', TIMEOUT_MS);
      expect(seen).toMatchObject({ ok: false, error: 'unreachable', latency_ms: TIMEOUT_MS });
      expect(seen.status).toBeUndefined();
      // Only that pair: the others still answer.
      expect(await fixture.observe(US, AP, '/health', TIMEOUT_MS)).toMatchObject({ ok: true, status: 200 });
    });

    // Invariant: an answer later than the timeout is no answer: a timeout without status.
    it('gives up on a region slower than the timeout, reporting a timeout', async () => {
      await fixture.inject({ kind: 'slow', region: EU, ms: 3 * TIMEOUT_MS });
      const seen = await fixture.observe(US, EU, '/health', TIMEOUT_MS);
      expect(seen.ok).toBe(false);
      expect(seen.status).toBeUndefined();
      expect(seen.error).toMatch(/timeout/);
      expect(seen.latency_ms).toBeGreaterThanOrEqual(TIMEOUT_MS * 0.9);
      expect(seen.latency_ms).toBeLessThan(3 * TIMEOUT_MS);
    });

    // What a probe round evaluates: the calls a path's own request makes, whatever the request shape.
    const verdictOf = (o: ProbeObservation) => ({
      endpoint: o.endpoint,
      ok: o.ok,
      status: o.status,
      error: o.error,
      reported_status: o.reported_status,
      available_capacity: o.available_capacity,
    });
    const endpoints = () => fixture.topology.failover_policies.health_check.endpoints;

    // Invariant: one round request answers each endpoint exactly as that endpoint's own request does
    // (status, reason, the target's reported status and capacity), one observation per endpoint, in order.
    it("answers a round's endpoints one observation each, as each endpoint's own probe answers it", async () => {
      const start = fixture.now();
      const round = await fixture.observeRound(US, EU, endpoints(), TIMEOUT_MS);
      expect(round.map((o) => o.endpoint)).toEqual([...endpoints()]);
      for (const seen of round) {
        expectShape(seen, EU, seen.endpoint, start);
        expect(seen.latency_ms).toBeLessThan(TIMEOUT_MS);
      }
      const alone = await Promise.all(endpoints().map((e) => fixture.observe(US, EU, e, TIMEOUT_MS)));
      expect(round.map(verdictOf)).toEqual(alone.map(verdictOf));
      expect(round.find((o) => o.endpoint === '/coordination/status')).toMatchObject({
        ok: true,
        status: 200,
        reported_status: 'healthy',
      });
    });

    // Invariant: a part failing fails on its own: a region that is not serving answers /health 503 in
    // the round while its other endpoints answer, and reports why, as the separate requests do.
    it('keeps each endpoint its own answer in a round: /health 503 beside a status saying failed', async () => {
      await fixture.setStatus(EU, 'failed');
      const round = await fixture.observeRound(US, EU, endpoints(), TIMEOUT_MS);
      const alone = await Promise.all(endpoints().map((e) => fixture.observe(US, EU, e, TIMEOUT_MS)));
      expect(round.map(verdictOf)).toEqual(alone.map(verdictOf));
      expect(round.find((o) => o.endpoint === '/health')).toMatchObject({ ok: false, status: 503 });
      expect(round.find((o) => o.endpoint === '/coordination/status')).toMatchObject({
        status: 200,
        reported_status: 'failed',
      });
    });

    // Invariant: a dead, cut-off, erroring or too slow region fails every endpoint of the round, each
    // with the reach it had (an answer carries a status; no answer carries none).
    it('fails every endpoint of a round on a region that is down, erroring, cut off or too slow', async () => {
      const failsAll = async (reachable: boolean) => {
        const round = await fixture.observeRound(US, AP, endpoints(), TIMEOUT_MS);
        expect(round.map((o) => o.endpoint)).toEqual([...endpoints()]);
        for (const seen of round) {
          expect(seen.ok, seen.endpoint).toBe(false);
          expect(seen.status !== undefined, seen.endpoint).toBe(reachable);
        }
        return round;
      };
      await fixture.inject({ kind: 'errors', region: AP });
      for (const seen of await failsAll(true)) expect(seen.status).toBe(500);
      await fixture.heal();
      await fixture.inject({ kind: 'down', region: AP });
      await failsAll(false);
      await fixture.heal();
      await fixture.inject({ kind: 'partition', a: US, b: AP });
      for (const seen of await failsAll(false)) expect(seen).toMatchObject({ error: 'unreachable' });
      await fixture.heal();
      await fixture.inject({ kind: 'slow', region: AP, ms: 3 * TIMEOUT_MS });
      for (const seen of await failsAll(false)) expect(seen.error).toMatch(/timeout/);
    });

    // Invariant: the port never throws: a target it knows nothing of is a failed observation.
    it('answers a target it knows no endpoint of with a failed observation, never an error', async () => {
      const seen = await fixture.observe(US, 'xx-nowhere-1', '/health', TIMEOUT_MS);
      expect(seen).toMatchObject({ observer: US, target: 'xx-nowhere-1', endpoint: '/health', ok: false });
      expect(seen.status).toBeUndefined();
      const round = await fixture.observeRound(US, 'xx-nowhere-1', endpoints(), TIMEOUT_MS);
      expect(round.map((o) => o.endpoint)).toEqual([...endpoints()]);
      for (const o of round) {
        expect(o.ok).toBe(false);
        expect(o.status).toBeUndefined();
      }
    });
  });
}
