/**
 * The restore test against the local control plane: its nightly snapshots (lib/local/snapshots.ts)
 * of every store, read back from the data directory by `cortex dr restore-test` at the plane's
 * clock (asked through the gateway's /v1/sim) or, with --data-dir, at the caller's.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { restoreTestCommand } from '../../lib/cli/dr-restore.ts';
import type { RestoreTestReport } from '../../lib/core/dr/backup-age.ts';
import { type LocalControlPlane, startLocalControlPlane } from '../../lib/local/control-plane.ts';
import {
  listSnapshots,
  localTablesOf,
  nextNightly,
  type SnapshotRegion,
  snapshotsDir,
  startNightlySnapshots,
  takeSnapshot,
} from '../../lib/local/snapshots.ts';
import { cli } from '../support/cli.ts';
import { ManualScheduler } from '../support/manual-time.ts';

let dataDir: string;
let otherDir: string;
let plane: LocalControlPlane;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cortex-restore-e2e-'));
  otherDir = await mkdtemp(join(tmpdir(), 'cortex-restore-nightly-'));
  plane = await startLocalControlPlane({
    port: 0,
    dataDir,
    fresh: true,
    replicationLagMs: 20,
    probeRounds: false,
    log: () => {},
  });
});
afterAll(async () => {
  await plane?.stop();
  await rm(dataDir, { recursive: true, force: true });
  await rm(otherDir, { recursive: true, force: true });
});

function storeRegions(): SnapshotRegion[] {
  return plane.runtime.regions.map((region) => ({
    regionId: region.regionId,
    client: region.store.createClient(),
    tables: localTablesOf(plane.runtime.placement, region.regionId),
  }));
}

async function restoreTest(args: string[], now?: number) {
  const c = cli();
  const code = await restoreTestCommand(
    [...args, '--json'],
    c.io,
    now === undefined ? {} : { now: () => now },
  );
  return { code, report: JSON.parse(c.out.join('\n')) as RestoreTestReport & { where: string } };
}

describe('cortex dr restore-test on the local plane', () => {
  it('finds no recovery point before the first snapshot, through the plane at the endpoint', async () => {
    const { code, report } = await restoreTest(['--endpoint', plane.gatewayUrl]);
    expect(code).toBe(1);
    expect(report.where).toContain(snapshotsDir(dataDir).replace(/\/backups$/, ''));
    expect(report.where).toContain("the running plane's clock");
    expect(new Set(report.tables.map((t) => t.verdict))).toEqual(new Set(['missing']));
    // Every table of every store: the MRSC table (none here) only in its home store.
    expect(report.tables.length).toBe(
      plane.runtime.regions.reduce(
        (n, r) => n + localTablesOf(plane.runtime.placement, r.regionId).length,
        0,
      ),
    );
  });

  it('is ok right after a snapshot of every store: each table within its RPO', async () => {
    const entry = await fetch(
      `${plane.regions['us-east-1']?.url}/v1/data/coordination/ops/knowledge-base/runbook`,
      {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ value: { steps: 3 } }),
      },
    );
    expect(entry.status).toBe(200);
    for (const region of storeRegions()) {
      await takeSnapshot({
        dataDir,
        region: region.regionId,
        client: region.client,
        tables: region.tables,
        now: plane.clock.now(),
      });
    }
    const { code, report } = await restoreTest(['--endpoint', plane.gatewayUrl]);
    expect(report.tables.filter((t) => t.verdict !== 'ok')).toEqual([]);
    expect(code).toBe(0);
    const state = report.tables.find((t) => t.table === 'cortex-state' && t.region === 'us-east-1');
    expect(state).toMatchObject({
      rpo_class: 'critical_data',
      rpo_seconds: 60,
      newest: { source: 'backup' },
    });
    // The snapshot holds the table's items as the store gave them.
    const [manifest] = (await listSnapshots(dataDir)).filter((m) => m.region === 'us-east-1');
    const kb = manifest?.tables.find((t) => t.name === 'cortex-sel-knowledge_base_replication');
    expect(kb?.items).toBeGreaterThan(0);
    const stamp = manifest?.taken_at.replaceAll(':', '-') as string;
    const items = JSON.parse(
      await readFile(
        join(snapshotsDir(dataDir), 'us-east-1', stamp, 'cortex-sel-knowledge_base_replication.json'),
        'utf8',
      ),
    ) as { pk: { S: string } }[];
    expect(JSON.stringify(items)).toContain('knowledge-base/runbook');
  });

  it('takes the nightly snapshot at 02:00 UTC, keeps 90 days, and reads late two hours on', async () => {
    const start = Date.parse('2026-12-03T01:59:30Z');
    expect(nextNightly(start)).toBe(Date.parse('2026-12-03T02:00:00Z'));
    expect(nextNightly(Date.parse('2026-12-03T02:00:00Z'))).toBe(Date.parse('2026-12-04T02:00:00Z'));
    // A snapshot from 91 days ago goes at the next night's run.
    const old = storeRegions()[0] as SnapshotRegion;
    await takeSnapshot({
      dataDir: otherDir,
      region: old.regionId,
      client: old.client,
      tables: old.tables,
      now: start - 91 * 86_400_000,
    });
    const clock = new ManualScheduler();
    clock.time = start;
    const nightly = startNightlySnapshots({ dataDir: otherDir, regions: storeRegions(), clock });
    clock.advance(Date.parse('2026-12-03T02:00:00Z') - start);
    // Stopping skips the regions not yet snapshotted, so wait for every region's manifest first:
    // polled, as a busy machine takes its own time over the reads and writes.
    await vi.waitFor(
      async () => expect(await listSnapshots(otherDir)).toHaveLength(plane.runtime.regions.length),
      { timeout: 20_000, interval: 20 },
    );
    await nightly.stop();
    const manifests = await listSnapshots(otherDir);
    expect(manifests.map((m) => [m.region, m.taken_at]).sort()).toEqual(
      plane.runtime.regions.map((r) => [r.regionId, '2026-12-03T02:00:00.000Z']).sort(),
    );
    expect(await readdir(join(snapshotsDir(otherDir), old.regionId))).toHaveLength(1);

    const fresh = await restoreTest(['--data-dir', otherDir], Date.parse('2026-12-03T02:00:30Z'));
    expect(fresh.code).toBe(0);
    const later = await restoreTest(
      ['--data-dir', otherDir, '--region', 'eu-west-1'],
      Date.parse('2026-12-03T04:00:00Z'),
    );
    expect(later.code).toBe(1);
    expect(later.report.tables.find((t) => t.table === 'cortex-state')?.problems).toEqual([
      "newest recovery point is 2 h old, over the 10 min a backup can promise (the critical_data RPO of 1 min is met by the other regions' replicas)",
    ]);
    expect(later.report.tables.every((t) => t.region === 'eu-west-1' && t.verdict === 'late')).toBe(true);
  });
});
