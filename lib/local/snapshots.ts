/**
 * The local stand-in for the nightly full backup (AWS Backup on AWS, docs/backups.md): at 02:00 UTC
 * of the plane's clock each region's store is read table by table (a consistent Scan) into
 * `<dataDir>/backups/<region>/<taken_at>/<table>.json`, with a manifest written last, so a snapshot
 * cut short is never counted. Snapshots older than the full backup's retention (90 days) are
 * removed. There is no point-in-time recovery locally: these snapshots are the only recovery points
 * the restore test finds (docs/local.md, divergences).
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { Scheduler } from '../adapters/local/replication.ts';
import { BACKUP_STRATEGY, type BackupPoint, type RecoveryPointReading } from '../core/dr/backup-age.ts';
import { messageOf } from '../core/errors.ts';
import type { ReplicationPlacement } from '../core/replication/placement.ts';

interface SnapshotManifest {
  readonly kind: 'full';
  readonly region: string;
  /** ISO, the plane's clock when the reading started. */
  readonly taken_at: string;
  readonly tables: readonly { readonly name: string; readonly items: number }[];
}

const MANIFEST = 'manifest.json';

export function snapshotsDir(dataDir: string): string {
  return join(dataDir, 'backups');
}

/** The folder of `region`'s snapshot taken at `takenAt` (ISO; `:` is not allowed in every file system). */
function snapshotDir(dataDir: string, region: string, takenAt: string): string {
  return join(snapshotsDir(dataDir), region, takenAt.replaceAll(':', '-'));
}

/**
 * The tables a region's local store holds: those with a replica there, the MRSC table only in its
 * home region's store (locally it has one authoritative copy, lib/adapters/local/mrsc.ts).
 */
export function localTablesOf(placement: ReplicationPlacement, regionId: string): string[] {
  return placement.tables
    .filter((t) => t.regions.includes(regionId) && (t.role !== 'critical' || t.homeRegion === regionId))
    .map((t) => t.name);
}

/** Reads every item of `tables` from one region's store and writes them, manifest last. */
export async function takeSnapshot(options: {
  readonly dataDir: string;
  readonly region: string;
  readonly client: Pick<DynamoDBClient, 'send'>;
  readonly tables: readonly string[];
  readonly now: number;
}): Promise<SnapshotManifest> {
  const takenAt = new Date(options.now).toISOString();
  const dir = snapshotDir(options.dataDir, options.region, takenAt);
  await mkdir(dir, { recursive: true });
  const tables: { name: string; items: number }[] = [];
  for (const table of options.tables) {
    const items: Record<string, AttributeValue>[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await options.client.send(
        new ScanCommand({
          TableName: table,
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    await writeFile(join(dir, `${table}.json`), JSON.stringify(items));
    tables.push({ name: table, items: items.length });
  }
  const manifest: SnapshotManifest = { kind: 'full', region: options.region, taken_at: takenAt, tables };
  await writeFile(join(dir, `${MANIFEST}.tmp`), JSON.stringify(manifest, null, 2));
  await rename(join(dir, `${MANIFEST}.tmp`), join(dir, MANIFEST));
  return manifest;
}

/** Every complete snapshot under the data dir (a folder without its manifest is skipped). */
export async function listSnapshots(dataDir: string): Promise<SnapshotManifest[]> {
  const root = snapshotsDir(dataDir);
  const regions = await readdir(root).catch(() => [] as string[]);
  const found: SnapshotManifest[] = [];
  for (const region of regions) {
    for (const stamp of await readdir(join(root, region)).catch(() => [] as string[])) {
      const text = await readFile(join(root, region, stamp, MANIFEST), 'utf8').catch(() => undefined);
      if (text !== undefined) found.push(JSON.parse(text) as SnapshotManifest);
    }
  }
  return found.sort((a, b) => Date.parse(b.taken_at) - Date.parse(a.taken_at));
}

/** Removes the snapshots older than `retentionDays` at `now`; returns how many. */
async function pruneSnapshots(
  dataDir: string,
  now: number,
  retentionDays: number = BACKUP_STRATEGY.full.retention_days,
): Promise<number> {
  let removed = 0;
  for (const manifest of await listSnapshots(dataDir)) {
    if (now - Date.parse(manifest.taken_at) <= retentionDays * 86_400_000) continue;
    await rm(snapshotDir(dataDir, manifest.region, manifest.taken_at), { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}

/** What the restore test reads locally: each snapshot of each table of each region, as a backup point. */
export function snapshotReadings(
  manifests: readonly SnapshotManifest[],
  expected: readonly { readonly table: string; readonly region: string }[],
): RecoveryPointReading[] {
  return expected.map(({ table, region }) => ({
    table,
    region,
    backups: manifests
      .filter((m) => m.region === region && m.tables.some((t) => t.name === table))
      .map((m): BackupPoint => ({ created_at: m.taken_at, completed: true })),
  }));
}

/** The next 02:00 UTC strictly after `now` (the spec's `0 2 * * *`). */
export function nextNightly(now: number): number {
  const day = new Date(now);
  const at = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), 2);
  return at > now ? at : at + 86_400_000;
}

export interface SnapshotRegion {
  readonly regionId: string;
  /** A client of the region's store. */
  readonly client: Pick<DynamoDBClient, 'send'>;
  readonly tables: readonly string[];
}

/**
 * Takes every region's snapshot at 02:00 UTC of `clock` each night (a region that is down is
 * skipped, as its compute would be), then removes those past retention. Errors are logged.
 */
export function startNightlySnapshots(options: {
  readonly dataDir: string;
  readonly regions: readonly SnapshotRegion[];
  readonly clock: Scheduler;
  readonly isDown?: (regionId: string) => boolean;
  readonly log?: (line: string) => void;
}): { stop(): Promise<void> } {
  const { clock } = options;
  const log = options.log ?? (() => undefined);
  let cancel: (() => void) | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const schedule = () => {
    const due = nextNightly(clock.now());
    cancel = clock.setTimer(due - clock.now(), () => {
      running = run().finally(() => {
        running = undefined;
        if (!stopped) schedule();
      });
    });
  };
  const run = async () => {
    for (const region of options.regions) {
      if (stopped || options.isDown?.(region.regionId)) continue;
      try {
        await takeSnapshot({
          dataDir: options.dataDir,
          region: region.regionId,
          client: region.client,
          tables: region.tables,
          now: clock.now(),
        });
      } catch (error) {
        log(`snapshot of ${region.regionId} failed: ${messageOf(error)}`);
      }
    }
    await pruneSnapshots(options.dataDir, clock.now()).catch((error: unknown) =>
      log(`removing old snapshots failed: ${messageOf(error)}`),
    );
  };
  schedule();
  return {
    stop: async () => {
      stopped = true;
      cancel?.();
      await running;
    },
  };
}
