/**
 * One primary at a time (ends-serving: at most one primary in every replica once things heal),
 * whatever order fencing, unfencing, failovers and rollbacks take. Two schedules of the
 * 10,000-schedule campaign from seed 424242 (test/fixtures/schedules), and the two orders they do
 * not reach, scripted: the promotion took the role from a fenced primary that heard of it late.
 *
 * The rule (lib/core/state/records.ts holdsPrimary): a region holds the primary role while it has
 * it and is serving or fenced. A promotion takes it from every other holder (update_dns_routing),
 * never from a draining region, whose status its failover owns; a rollback gives it back last and
 * only while nobody holds it; an unfence keeps it only while nobody else holds it in its replica;
 * a fenced region that adopts a newer decision about itself adopts the role that came with it.
 */
import { describe, expect, it } from 'vitest';
import { isServing, type RegionStatusRecord } from '../../lib/core/state/records.ts';
import type { ControlPlaneEvent } from '../../lib/ports.ts';
import { simulate } from '../../lib/sim/run.ts';
import type { SimWorld } from '../../lib/sim/world.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { DEFAULT, foundSchedule, played } from '../support/found-schedules.ts';
import { SimPlane } from '../support/sim-plane.ts';

const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';
const WITNESS = 'witness-us-west-2';

/** The regions whose record says primary and serving, per replica (what ends-serving counts). */
async function primaries(world: { regionIds: readonly string[]; state: SimWorld['state'] }) {
  const out: Record<string, string[]> = {};
  for (const replica of world.regionIds) {
    out[replica] = (await world.state(replica).listRegionStatuses())
      .filter((s) => s.role === 'primary' && isServing(s.status))
      .map((s) => s.region_id);
  }
  return out;
}

const about = (events: readonly ControlPlaneEvent[], type: string, region: string) =>
  events.findIndex((e) => e.type === type && e.detail.region === region);

describe('schedules that left two primaries', () => {
  // Invariant: ends-serving (one primary). Seed 430975: ap-south-1 down, failed over to us-east-1
  // (primary since); failed back; a partition cuts us-east-1 off and it fences (871 s); ap-south-1
  // down again and, once the partition heals, eu-west-1 fails it over to itself (904 s). That failover
  // left the fenced primary as it was, and us-east-1 unfenced at 931 s as a second primary.
  it('a promotion takes the role from a fenced primary, which unfences as active (seed 430975)', async () => {
    const schedule = foundSchedule(430975);
    const result = await simulate(DEFAULT, schedule, { stopAtFirst: false });
    expect(result.violations).toEqual([]);

    const world = await played(DEFAULT, schedule);
    const fenced = about(world.events, 'region.fenced', US);
    const demoted = world.events.findIndex(
      (e) =>
        e.type === 'region.demoted' &&
        e.detail.region === US &&
        e.detail.failover_id === 'failover-ap-south-1-e3',
    );
    const unfenced = about(world.events, 'region.unfenced', US);
    expect(fenced).toBeGreaterThanOrEqual(0);
    expect(demoted).toBeGreaterThan(fenced);
    expect(unfenced).toBeGreaterThan(demoted);
    expect(world.events[unfenced]?.detail.role).toBe('active');
    expect(await primaries(world)).toEqual({ [US]: [EU], [EU]: [EU], [AP]: [EU] });
  });

  // Invariant: ends-serving (one primary), and a promotion never takes a draining region's status
  // from the failover that drains it. Seed 427337: ap-south-1 partitioned off and failed over to
  // us-east-1 (primary since); us-east-1 down (298 s), its failover (coordinator and target
  // eu-west-1) drains it, and its target goes down too (a cascade); ap-south-1 takes that failover
  // over, fails eu-west-1 over to itself (844 s) and rolls the us-east-1 failover back (it cannot
  // read its target's replica). Demoting the draining us-east-1 (fd5e2f5) took its status from that
  // rollback and left it draining for good; restoring it as primary (before) left two primaries
  // until a later failover happened to fail ap-south-1.
  it('a rollback gives the role back only while nobody holds it (seed 427337)', async () => {
    const schedule = foundSchedule(427337);
    const result = await simulate(DEFAULT, schedule, { stopAtFirst: false });
    expect(result.violations).toEqual([]);

    const world = await played(DEFAULT, schedule);
    const demotedByPromotion = world.events.filter(
      (e) => e.type === 'region.demoted' && e.detail.failover_id === 'failover-eu-west-1-e0',
    );
    expect(demotedByPromotion).toEqual([]);
    const restored = world.events.find(
      (e) => e.type === 'region.restored' && e.detail.failover_id === 'failover-us-east-1-e1',
    );
    expect(restored?.detail).toMatchObject({ region: US, status: 'healthy', role: 'active' });
    expect(world.events.indexOf(restored as ControlPlaneEvent)).toBeGreaterThan(
      world.events.findIndex((e) => e.type === 'region.promoted' && e.detail.region === AP),
    );
  });
});

/** Writes `region`'s status through `writer`'s own port, as a failover step coordinated there does. */
async function write(
  plane: SimPlane,
  writer: string,
  region: string,
  change: Pick<RegionStatusRecord, 'status' | 'role'>,
): Promise<RegionStatusRecord> {
  const { state } = plane.world.deps(writer);
  const current = (await state.listRegionStatuses()).find((s) => s.region_id === region);
  const next: RegionStatusRecord = {
    region_id: region,
    ...change,
    epoch: (current?.epoch ?? 0) + 1,
    reason: 'scripted',
    updated_at: new Date(plane.now()).toISOString(),
    updated_by: `failover-scripted@${writer}`,
  };
  await state.putRegionStatus(next, current?.epoch);
  return next;
}

async function ownRecord(plane: SimPlane, region: string): Promise<RegionStatusRecord | undefined> {
  return (await plane.state(region).listRegionStatuses()).find((s) => s.region_id === region);
}

/** The shipped topology without automatic failover: the scripted writes are the only failover decisions. */
function scripted() {
  const raw = defaultTopologyJson();
  raw.failover_policies.automatic_failover.enabled = false;
  return raw;
}

/** A scripted plane where us-east-1 is primary, then cut off from everyone until it fenced. */
async function fencedPrimary(): Promise<SimPlane> {
  const plane = await SimPlane.start(scripted());
  await plane.untilAllHealthy();
  await write(plane, EU, US, { status: 'healthy', role: 'primary' });
  await plane.rounds(1);
  await plane.isolate(US);
  await plane.until(
    async () => expect((await ownRecord(plane, US))?.status).toBe('fenced'),
    6 * plane.intervalMs,
  );
  return plane;
}

describe('a fenced primary that hears of the promotion late', () => {
  // Invariant: one primary at a time across an unfence. us-east-1 is primary and fences, cut off
  // from everyone; eu-west-1 is promoted meanwhile but us-east-1's demotion never lands (it lost to
  // a newer fence of us-east-1's own, or has not replicated yet): the promotion in its replica is
  // enough for us-east-1 to unfence as its topology role.
  it('unfences as active when another region holds the primary role in its replica', async () => {
    const plane = await fencedPrimary();
    await write(plane, EU, EU, { status: 'healthy', role: 'primary' });
    await plane.fault({ kind: 'unpartition', groups: [[EU, AP], [US]] });
    await plane.until(
      async () => expect((await ownRecord(plane, US))?.status).toBe('healthy'),
      6 * plane.intervalMs,
    );

    expect((await ownRecord(plane, US))?.role).toBe('active');
    const unfenced = plane.events.filter((e) => e.type === 'region.unfenced' && e.detail.region === US);
    expect(unfenced.map((e) => e.detail.role)).toEqual(['active']);
    await plane.rounds(2);
    expect(await primaries(plane.world)).toEqual({ [US]: [EU], [EU]: [EU], [AP]: [EU] });
    plane.expectNoViolations();
  }, 60_000);

  // Invariant: a fenced region adopts a newer decision about itself with the role it gives. us-east-1
  // is primary and fences, cut off from everyone; its link to eu-west-1 comes back for a moment (the
  // fence replicates there, us-east-1 still reaches no majority) and is cut again. eu-west-1 then
  // promotes itself and demotes the fenced us-east-1: ap-south-1's replica holds both writes,
  // us-east-1's neither (its link to eu-west-1 stays cut, and replication goes from the writer).
  // Once us-east-1 reaches ap-south-1 and the witness again it reads the newer record on
  // ap-south-1's /coordination/status and adopts it: as `active`, or it would unfence as primary
  // with nothing in its replica saying anyone else is.
  it('adopts the demotion a peer reports, role included, then unfences as active', async () => {
    const plane = await fencedPrimary();
    await plane.fault({ kind: 'join', a: US, b: EU });
    await plane.until(async () => {
      const seen = (await plane.state(EU).listRegionStatuses()).find((s) => s.region_id === US);
      expect(seen?.status).toBe('fenced');
    }, plane.intervalMs);
    await plane.fault({ kind: 'cut', a: US, b: EU });
    await write(plane, EU, EU, { status: 'healthy', role: 'primary' });
    await write(plane, EU, US, { status: 'fenced', role: 'active' });
    await plane.advance(2_000);
    await plane.fault({ kind: 'join', a: US, b: AP });
    await plane.fault({ kind: 'join', a: US, b: WITNESS });
    await plane.until(
      async () => expect((await ownRecord(plane, US))?.status).toBe('healthy'),
      8 * plane.intervalMs,
    );
    expect((await plane.state(US).listRegionStatuses()).find((s) => s.region_id === EU)?.role).not.toBe(
      'primary',
    );

    const reconciled = plane.events.filter((e) => e.type === 'region.reconciled' && e.detail.region === US);
    expect(reconciled.map((e) => [e.detail.status, e.detail.from])).toEqual([['fenced', AP]]);
    expect((await ownRecord(plane, US))?.role).toBe('active');
    const unfenced = plane.events.filter((e) => e.type === 'region.unfenced' && e.detail.region === US);
    expect(unfenced.map((e) => e.detail.role)).toEqual(['active']);
  }, 60_000);
});
