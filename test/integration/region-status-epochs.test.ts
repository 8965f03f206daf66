/**
 * Region status epochs across a partition, on the local runtime: three dynalite replicas connected
 * by the local global-table replication (last writer wins by write time, conditions checked only
 * against the local replica), in manual time.
 *
 * Invariants (DESIGN principle 4):
 * - epochs only grow: the epoch any replica reads for a region never decreases, whatever order the
 *   replicated writes arrive in and whichever was written later in wall time;
 * - the outcome does not depend on replication order: once every write has been delivered, every
 *   replica reads the same record, the one with the highest epoch, and on equal epochs another
 *   region's decision (a failover) over the region's own fence;
 * - every write carries its epoch as a fencing token: after the partition heals, a writer that
 *   decided from an epoch older than the merged one is refused.
 */
import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../lib/core/errors.ts';
import type { RegionStatus, RegionStatusRecord } from '../../lib/core/state/records.ts';
import type { StatePort } from '../../lib/ports.ts';
import { useManualRuntime } from '../support/manual-time.ts';

const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';
const REGIONS = [US, EU, AP];
const LAG_MS = 200;

const local = useManualRuntime('cortex-status-epochs-');

/** The state port of `region`: its own replica, written as `region`. */
const stateIn = (region: string): StatePort => local.runtime.region(region).deps.state;

/** Every region's read of `subject`'s status, checking that no replica's epoch went back since the last read. */
function epochWatch(subject: string) {
  const seen = new Map<string, number>();
  return async (): Promise<Record<string, RegionStatusRecord | undefined>> => {
    const reads: Record<string, RegionStatusRecord | undefined> = {};
    for (const region of REGIONS) {
      const record = await stateIn(region).getRegionStatus(subject);
      const epoch = record?.epoch ?? 0;
      expect(
        epoch,
        `${region}'s replica read epoch ${epoch} after ${seen.get(region)}`,
      ).toBeGreaterThanOrEqual(seen.get(region) ?? 0);
      seen.set(region, epoch);
      reads[region] = record;
    }
    return reads;
  };
}

/** `writer`'s status write for EU, as the port's callers build it: epoch + 1 from the epoch they read. */
async function write(writer: string, status: RegionStatus, from: number): Promise<RegionStatusRecord> {
  const record: RegionStatusRecord = {
    region_id: EU,
    status,
    role: 'active',
    epoch: from + 1,
    reason: `${status} by ${writer}`,
    updated_at: new Date(local.scheduler.now()).toISOString(),
    // The region's own probe fences it; a coordinator elsewhere writes as its failover.
    updated_by: writer === EU ? `health-probe@${EU}` : `failover-${EU}-e${from}@${writer}`,
  };
  await stateIn(writer).putRegionStatus(record, from);
  return record;
}

/** EU healthy at epoch 5 in every replica. */
async function seedEpoch5(): Promise<void> {
  await stateIn(EU).putRegionStatus(
    {
      region_id: EU,
      status: 'healthy',
      role: 'active',
      epoch: 5,
      updated_at: new Date(local.scheduler.now()).toISOString(),
      updated_by: `health-probe@${EU}`,
    },
    undefined,
  );
  await local.tick(LAG_MS);
}

/** Cuts every link between the groups (both directions); links inside a group keep delivering. */
function partition(...groups: string[][]): void {
  for (const a of groups)
    for (const b of groups)
      if (a !== b) for (const from of a) for (const to of b) local.runtime.replication.pause(from, to);
}

function heal(): void {
  for (const from of REGIONS)
    for (const to of REGIONS) if (from !== to) local.runtime.replication.resume(from, to);
}

/** Heals, delivers every queued change and expects every replica to read `expected`. */
async function healAndExpectEverywhere(
  watch: () => Promise<Record<string, RegionStatusRecord | undefined>>,
  expected: RegionStatusRecord,
): Promise<void> {
  heal();
  await local.tick(LAG_MS);
  await local.runtime.replication.flush({ all: true });
  expect(local.runtime.replication.stats().links.every((link) => link.queued === 0)).toBe(true);
  const reads = await watch();
  for (const region of REGIONS) expect(reads[region], region).toEqual(expected);
  // And it stays so: nothing still in flight changes it.
  await local.tick(60_000);
  const later = await watch();
  for (const region of REGIONS) expect(later[region], region).toEqual(expected);
}

describe('region status epochs across a partition', () => {
  for (const coordinatorFirst of [true, false]) {
    it(`a coordinator's failed at epoch 6 beats the region's own fence at epoch 6 (${
      coordinatorFirst ? 'coordinator' : 'region'
    } wrote first)`, async () => {
      const watch = epochWatch(EU);
      await seedEpoch5();
      await watch();
      partition([EU], [US, AP]);

      // Both sides decide from epoch 5; each write passes its own replica's check.
      const writers: [string, RegionStatus][] = [
        [US, 'failed'],
        [EU, 'fenced'],
      ];
      const written: RegionStatusRecord[] = [];
      for (const [writer, status] of coordinatorFirst ? writers : [...writers].reverse()) {
        written.push(await write(writer, status, 5));
        await local.tick(50);
        await watch();
      }
      const failed = written.find((r) => r.status === 'failed') as RegionStatusRecord;
      const fenced = written.find((r) => r.status === 'fenced') as RegionStatusRecord;
      await local.tick(LAG_MS);
      const during = await watch();
      expect(during[EU]).toEqual(fenced);
      expect(during[US]).toEqual(failed);
      expect(during[AP]).toEqual(failed);

      await healAndExpectEverywhere(watch, failed);
    });
  }

  it('epoch 7 written earlier in wall time than epoch 6 stays the status everywhere', async () => {
    const watch = epochWatch(EU);
    await seedEpoch5();
    partition([EU], [US, AP]);

    // The coordinator side drains then fails EU (epochs 6 and 7); later in wall time EU, cut off
    // and still at epoch 5, fences itself at epoch 6. A single item would keep EU's later write.
    await write(US, 'draining', 5);
    await local.tick(LAG_MS);
    const failed = await write(US, 'failed', 6);
    await local.tick(5_000);
    await watch();
    const fenced = await write(EU, 'fenced', 5);
    await local.tick(LAG_MS);
    const during = await watch();
    expect(during[EU]).toEqual(fenced);
    expect(during[AP]).toEqual(failed);

    await healAndExpectEverywhere(watch, failed);

    // EU's probe decided from its own epoch 6: fenced off by the merged epoch 7.
    const stale = await write(EU, 'healthy', 6).catch((e) => e);
    expect(stale).toBeInstanceOf(ConflictError);
    expect(stale.code).toBe('EPOCH_CONFLICT');
    expect(stale.current).toEqual(failed);
    await local.tick(LAG_MS);
    for (const read of Object.values(await watch())) expect(read).toEqual(failed);
  });

  it('three sides writing epoch 6 converge on one record, and the next write goes from it', async () => {
    const watch = epochWatch(EU);
    await seedEpoch5();
    partition([US], [EU], [AP]);

    await write(AP, 'draining', 5);
    await local.tick(10);
    const failed = await write(US, 'failed', 5);
    await local.tick(10);
    await write(EU, 'fenced', 5);
    await local.tick(LAG_MS);
    await watch();

    // Another region's decision over EU's own fence; between the two coordinators, failed > draining.
    await healAndExpectEverywhere(watch, failed);

    // A writer that decided before the heal, from epoch 5, is refused in every replica.
    for (const region of REGIONS) {
      const stale = await write(region, 'healthy', 5).catch((e) => e);
      expect(stale).toBeInstanceOf(ConflictError);
      expect(stale.code).toBe('EPOCH_CONFLICT');
    }
    // From the merged epoch a write lands, and it is what every replica reads once delivered.
    const restored = await write(AP, 'healthy', 6);
    await local.tick(LAG_MS);
    for (const read of Object.values(await watch())) expect(read).toEqual(restored);
  });

  it('a replica that missed writes while cut off reads the highest epoch as soon as they arrive', async () => {
    const watch = epochWatch(EU);
    await seedEpoch5();
    partition([AP], [US, EU]);

    await write(US, 'draining', 5);
    await local.tick(LAG_MS);
    await write(EU, 'fenced', 6);
    await local.tick(LAG_MS);
    const failed = await write(US, 'failed', 7);
    await local.tick(LAG_MS);
    expect((await watch())[AP]?.epoch).toBe(5);

    // Deliver one link at a time: AP gets EU's epoch 7 slot before US's epoch 8 slot, and never
    // reads an epoch go back (US's slot at epoch 6 arrives in the same queue, before its 8).
    local.runtime.replication.resume(EU, AP);
    await local.tick(LAG_MS);
    expect((await watch())[AP]?.epoch).toBe(7);
    await healAndExpectEverywhere(watch, failed);
  });
});
