/**
 * Link faults of the simulated network (lib/sim/network.ts): a pair of members may delay or lose
 * what crosses it, both directions. Probes see a delay in their round trip and a loss as a timeout
 * on the virtual clock; replication sees both as lag (DynamoDB retries what is lost) and a link that
 * loses everything as a cut. Schedules generate these faults as episodes, each undone.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RegionalDeps } from '../../lib/app/deps.ts';
import { StateUnavailableError } from '../../lib/core/errors.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { createKernel, type SimKernel } from '../../lib/sim/kernel.ts';
import { REPLICATION_RETRY_MS, SimNetwork, SimProbe } from '../../lib/sim/network.ts';
import { generateSchedule, type SimAction } from '../../lib/sim/schedule.ts';
import { describe as describeAction, SimWorld } from '../../lib/sim/world.ts';

const START = Date.parse('2026-11-26T12:00:00Z');
const DEFAULT = validateTopology(
  JSON.parse(readFileSync(new URL('../../topology/default.json', import.meta.url), 'utf8')),
);
const PING = '/api/v1/ping';

/** A probe port over `network` whose targets all answer (their deps are never read for a ping). */
function probeOf(network: SimNetwork, deps: Partial<RegionalDeps> = {}, seed = 1) {
  const kernel = createKernel({ seed, start: START });
  const probe = new SimProbe({
    kernel,
    network,
    depsOf: () => deps as RegionalDeps,
    latencyMs: () => 40,
  });
  return { kernel, probe };
}

/** One probe, the kernel run until it answers. */
async function probeOnce(kernel: SimKernel, probe: SimProbe, endpoint = PING, timeoutMs = 10_000) {
  const answer = probe.probe('us-east-1', 'eu-west-1', endpoint, timeoutMs);
  await kernel.run(kernel.now() + timeoutMs + 1);
  return answer;
}

describe('SimNetwork link faults', () => {
  it('holds one fault per pair, the same both ways; a field set to 0 clears it', () => {
    const network = new SimNetwork();
    network.setLink('us-east-1', 'eu-west-1', { delayMs: 300 });
    network.setLink('eu-west-1', 'us-east-1', { dropRate: 0.3 });
    expect(network.linkOf('us-east-1', 'eu-west-1')).toEqual({ delayMs: 300, dropRate: 0.3 });
    expect(network.linkOf('eu-west-1', 'us-east-1')).toEqual({ delayMs: 300, dropRate: 0.3 });
    expect(network.linkFaulty('eu-west-1', 'us-east-1')).toBe(true);
    expect(network.linkFaulty('eu-west-1', 'ap-south-1')).toBe(false);
    expect(network.links()).toEqual([['eu-west-1|us-east-1', { delayMs: 300, dropRate: 0.3 }]]);
    network.setLink('us-east-1', 'eu-west-1', { delayMs: 0 });
    expect(network.linkOf('us-east-1', 'eu-west-1')).toEqual({ dropRate: 0.3 });
    network.setLink('us-east-1', 'eu-west-1', { dropRate: 0 });
    expect(network.linkOf('us-east-1', 'eu-west-1')).toEqual({});
    expect(network.linkFaulty('us-east-1', 'eu-west-1')).toBe(false);
    expect(network.links()).toEqual([]);
  });

  // Invariant: a link that loses everything is a cut for everything that asks whether a pair reaches
  // (replica reads, the MRSC quorum, the invariants); one that loses less is not.
  it('blocks a pair only when its link loses everything', () => {
    const network = new SimNetwork();
    network.setLink('us-east-1', 'eu-west-1', { dropRate: 0.6, delayMs: 6_000 });
    expect(network.blocked('us-east-1', 'eu-west-1')).toBe(false);
    network.setLink('us-east-1', 'eu-west-1', { dropRate: 1 });
    expect(network.blocked('eu-west-1', 'us-east-1')).toBe(true);
    expect(network.partitioned('eu-west-1', 'us-east-1')).toBe(false);
    network.heal();
    expect(network.blocked('eu-west-1', 'us-east-1')).toBe(false);
    expect(network.links()).toEqual([]);
  });

  it('turns delay and loss into replication lag: retries of what is lost, never a loss', () => {
    const network = new SimNetwork();
    expect(network.replicationDelayMs('us-east-1', 'eu-west-1')).toBe(0);
    network.setLink('us-east-1', 'eu-west-1', { dropRate: 0.3 });
    // 0.3 / 0.7 retries a change on average, each REPLICATION_RETRY_MS later.
    expect(network.replicationDelayMs('us-east-1', 'eu-west-1')).toBe(
      Math.round((REPLICATION_RETRY_MS * 0.3) / 0.7),
    );
    network.setLink('us-east-1', 'eu-west-1', { dropRate: 0.5, delayMs: 200 });
    expect(network.replicationDelayMs('eu-west-1', 'us-east-1')).toBe(200 + REPLICATION_RETRY_MS);
    network.setLink('us-east-1', 'eu-west-1', { dropRate: 1 });
    expect(network.replicationDelayMs('us-east-1', 'eu-west-1')).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('SimProbe on faulty links', () => {
  it('adds a link delay to both legs of the round trip', async () => {
    const network = new SimNetwork();
    network.setLink('us-east-1', 'eu-west-1', { delayMs: 600 });
    const { kernel, probe } = probeOf(network);
    const started = kernel.now();
    const answer = await probeOnce(kernel, probe);
    expect(answer).toMatchObject({ ok: true, status: 200, latency_ms: 2 * (40 + 600), at: started });
  });

  it('times out on the virtual clock when the delayed round trip is past the timeout', async () => {
    const network = new SimNetwork();
    network.setLink('eu-west-1', 'us-east-1', { delayMs: 6_000 });
    const { kernel, probe } = probeOf(network);
    const answer = probe.probe('us-east-1', 'eu-west-1', PING, 10_000);
    await kernel.run(START + 9_999);
    let settled = false;
    void answer.then(() => {
      settled = true;
    });
    await Promise.resolve();
    expect(settled).toBe(false);
    await kernel.run(START + 10_000);
    expect(await answer).toMatchObject({ ok: false, error: 'timeout', latency_ms: 10_000 });
  });

  // A lost probe is a dropped packet: no answer at all (no status), so it counts against reachability.
  it('loses every probe on a link that loses everything: each a timeout with no status', async () => {
    const network = new SimNetwork();
    network.setLink('us-east-1', 'eu-west-1', { dropRate: 1 });
    const { kernel, probe } = probeOf(network);
    const answer = await probeOnce(kernel, probe);
    expect(answer).toMatchObject({ ok: false, error: 'timeout', latency_ms: 10_000 });
    expect(answer.status).toBeUndefined();
    expect(kernel.now()).toBe(START + 10_001);
  });

  it('loses about the link rate of probes, the same ones for the same seed', async () => {
    const run = async (seed: number) => {
      const network = new SimNetwork();
      network.setLink('us-east-1', 'eu-west-1', { dropRate: 0.3 });
      const { kernel, probe } = probeOf(network, {}, seed);
      const answers = [];
      for (let i = 0; i < 400; i++) answers.push(probe.probe('us-east-1', 'eu-west-1', PING, 10_000));
      await kernel.run(START + 10_000);
      return (await Promise.all(answers)).map((a) => a.ok);
    };
    const first = await run(9);
    const lost = first.filter((ok) => !ok).length;
    expect(lost).toBeGreaterThan(90);
    expect(lost).toBeLessThan(150);
    expect(await run(9)).toEqual(first);
    expect(await run(10)).not.toEqual(first);
  });

  // As the handlers' error boundary: a region cut off from the MRSC table's majority answers 503.
  it('reports an MRSC refusal behind an endpoint as a 503, anything else as a 500', async () => {
    const refusing = (error: Error) =>
      ({
        regionId: 'eu-west-1',
        topology: DEFAULT,
        // Every read of the replica refuses, whichever the handler makes first.
        state: new Proxy({}, { get: () => () => Promise.reject(error) }),
      }) as unknown as RegionalDeps;
    const unavailable = new StateUnavailableError(
      'cortex-critical',
      'eu-west-1',
      'reaches 1 of its 3 replicas',
    );
    let { kernel, probe } = probeOf(new SimNetwork(), refusing(unavailable));
    expect(await probeOnce(kernel, probe, '/health')).toMatchObject({ ok: false, status: 503 });
    ({ kernel, probe } = probeOf(new SimNetwork(), refusing(new Error('boom'))));
    expect(await probeOnce(kernel, probe, '/health')).toMatchObject({ ok: false, status: 500 });
  });
});

describe('link faults in the simulated world', () => {
  const lags = (world: SimWorld, a: string, b: string) =>
    world.stores.replication
      .stats()
      .links.filter((l) => (l.from === a && l.to === b) || (l.from === b && l.to === a))
      .map((l) => [l.lag_ms, l.paused]);

  it('applies delay and loss to replication between two regions, and stops it at 100 % loss', async () => {
    const world = new SimWorld({ topology: DEFAULT, seed: 1 });
    const apply = (action: SimAction) => world.apply(action);
    await apply({ kind: 'delay', a: 'us-east-1', b: 'eu-west-1', ms: 1_000 });
    expect(lags(world, 'us-east-1', 'eu-west-1')).toEqual([
      [1_200, false],
      [1_200, false],
    ]);
    await apply({ kind: 'drop', a: 'eu-west-1', b: 'us-east-1', rate: 0.5 });
    expect(lags(world, 'us-east-1', 'eu-west-1')).toEqual([
      [2_200, false],
      [2_200, false],
    ]);
    await apply({ kind: 'drop', a: 'eu-west-1', b: 'us-east-1', rate: 1 });
    expect(lags(world, 'us-east-1', 'eu-west-1').map(([, paused]) => paused)).toEqual([true, true]);
    // A cut joined on the same pair does not resume a link that still loses everything.
    await apply({ kind: 'cut', a: 'us-east-1', b: 'eu-west-1' });
    await apply({ kind: 'join', a: 'us-east-1', b: 'eu-west-1' });
    expect(lags(world, 'us-east-1', 'eu-west-1').map(([, paused]) => paused)).toEqual([true, true]);
    await apply({ kind: 'drop', a: 'eu-west-1', b: 'us-east-1', rate: 0 });
    expect(lags(world, 'us-east-1', 'eu-west-1')).toEqual([
      [1_200, false],
      [1_200, false],
    ]);
    await world.heal();
    expect(lags(world, 'us-east-1', 'eu-west-1')).toEqual([
      [200, false],
      [200, false],
    ]);
    expect(world.network.links()).toEqual([]);
    // A witness holds no replica: its links change probes only.
    await apply({ kind: 'drop', a: 'us-east-1', b: DEFAULT.witnesses[0]?.witness_id as string, rate: 1 });
    expect(world.stores.replication.stats().links.every((l) => l.lag_ms === 200 && !l.paused)).toBe(true);
  });

  it('describes link faults and their undoing', () => {
    expect(describeAction({ kind: 'delay', a: 'a', b: 'b', ms: 600 })).toBe(
      'a <-> b delayed by 600 ms each way',
    );
    expect(describeAction({ kind: 'delay', a: 'a', b: 'b', ms: 0 })).toBe('a <-> b delay cleared');
    expect(describeAction({ kind: 'drop', a: 'a', b: 'b', rate: 0.3 })).toBe('a <-> b loses 30 % of probes');
    expect(describeAction({ kind: 'drop', a: 'a', b: 'b', rate: 0 })).toBe('a <-> b loses nothing');
  });
});

describe('link fault episodes in schedules', () => {
  it('come as episodes on distinct pairs, each undone on its pair or healed, sometimes with a witness', () => {
    const members = new Set([
      ...DEFAULT.regions.map((r) => r.region_id),
      ...DEFAULT.witnesses.map((w) => w.witness_id),
    ]);
    const faults: Extract<SimAction, { kind: 'delay' | 'drop' }>[] = [];
    for (let seed = 1; seed <= 60; seed++) {
      const schedule = generateSchedule(DEFAULT, seed);
      const open = new Map<string, number>();
      for (const { at, action } of schedule.actions) {
        if (action.kind === 'heal') open.clear();
        if (action.kind !== 'delay' && action.kind !== 'drop') continue;
        expect(at).toBeLessThan(schedule.quiet_from_ms);
        expect(action.a).not.toBe(action.b);
        expect(members.has(action.a) && members.has(action.b)).toBe(true);
        const key = `${action.kind} ${action.a} ${action.b}`;
        if ((action.kind === 'delay' ? action.ms : action.rate) > 0) {
          faults.push(action);
          open.set(key, (open.get(key) ?? 0) + 1);
        } else {
          // An undo closes a fault of its kind on its pair.
          expect(open.get(key), key).toBeGreaterThan(0);
          open.set(key, (open.get(key) ?? 0) - 1);
        }
      }
      // The heal of the quiet tail clears what is still open.
      expect([...open.values()].every((n) => n === 0)).toBe(true);
    }
    expect(faults.filter((f) => f.kind === 'delay').length).toBeGreaterThan(5);
    expect(new Set(faults.filter((f) => f.kind === 'drop').map((f) => f.rate))).toEqual(
      new Set([0.1, 0.3, 0.6, 1]),
    );
    expect(faults.some((f) => f.b.startsWith('witness'))).toBe(true);
  });
});
