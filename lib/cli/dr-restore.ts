/**
 * `cortex dr restore-test`: is there a recovery point recent enough to meet the RPO of the data in
 * each table? On AWS it reads, for every replica of every table of the topology (or those in
 * `--region`), DynamoDB point-in-time recovery's latest restorable time, and in each table's home
 * region the AWS Backup recovery points in the vault (lib/adapters/aws/backup-points.ts). Locally
 * (`--local`, `--data-dir`, or an endpoint that is the local plane) it reads the plane's nightly
 * snapshots from its data directory (lib/local/snapshots.ts), at the plane's clock. The verdicts
 * are lib/core/dr/backup-age.ts's. Exit 1 when any replica is late, missing or unreadable.
 */
import { resolve } from 'node:path';
import {
  type ContinuousBackupsClient,
  type RecoveryPointsClient,
  readPointInTimeRecovery,
  readVaultRecoveryPoints,
} from '../adapters/aws/backup-points.ts';
import {
  backupNeeds,
  backupVaultName,
  checkRecoveryPoints,
  type ExpectedBackups,
  formatAge,
  type RecoveryPointReading,
  type RestoreTestReport,
} from '../core/dr/backup-age.ts';
import { messageOf, TopologyError } from '../core/errors.ts';
import { placeReplication } from '../core/replication/placement.ts';
import type { Topology } from '../core/topology/types.ts';
import { withGeneration } from '../infra/generation.ts';
import { DEFAULT_DATA_DIR } from '../local/defaults.ts';
import { listSnapshots, localTablesOf, snapshotReadings } from '../local/snapshots.ts';
import { loadTopologyFile } from '../topology/load.ts';
import { ApiUnreachableError, isLoopback } from './client.ts';
import { apiClient, type CliIo, parse, requireReadable, UsageError } from './common.ts';
import { paint, type Style, table } from './format.ts';

/** One region's AWS clients; `close` releases them. */
export interface RegionClients {
  readonly dynamodb: ContinuousBackupsClient;
  readonly backup: RecoveryPointsClient;
  close(): void;
}

interface RestoreTestOptions {
  /** The AWS clients of a region; injected in tests. @default the SDK's, with its default credentials */
  readonly awsClients?: (region: string) => Promise<RegionClients>;
  /** @default Date.now */
  readonly now?: () => number;
}

export async function restoreTestCommand(
  args: readonly string[],
  io: CliIo,
  options: RestoreTestOptions = {},
): Promise<number> {
  const { values } = parse(args, {
    local: { type: 'boolean' },
    'data-dir': { type: 'string' },
    endpoint: { type: 'string' },
    region: { type: 'string' },
    topology: { type: 'string' },
    generation: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.topology !== undefined) requireReadable(values.topology, '--topology');
  const wantsLocal = values.local === true || values['data-dir'] !== undefined;
  if (wantsLocal && values.generation !== undefined) {
    throw new UsageError('--generation names AWS tables: it does not go with --local or --data-dir');
  }
  const topology = withGeneration(loadTopologyFile(values.topology), values.generation as string | undefined);
  const placement = placeReplication(topology);
  if (placement.errors.length > 0) throw new TopologyError(placement.errors);
  const region = values.region as string | undefined;
  if (region !== undefined && !topology.regions.some((r) => r.region_id === region)) {
    throw new UsageError(
      `--region ${region} is not a region of the topology (${topology.regions.map((r) => r.region_id).join(', ')})`,
    );
  }
  const now = options.now ?? Date.now;

  // The local plane, when asked for or when the endpoint is one: its data dir and its clock.
  const plane =
    values['data-dir'] === undefined && (wantsLocal || region === undefined)
      ? await localPlane(values, io)
      : undefined;
  let report: RestoreTestReport;
  let where: string;
  if (wantsLocal || plane !== undefined) {
    const dataDir = resolve(
      (values['data-dir'] as string | undefined) ?? plane?.data_dir ?? DEFAULT_DATA_DIR,
    );
    const at = plane ? Date.parse(plane.now) : now();
    const expected = localExpected(topology, placement, region);
    report = checkRecoveryPoints(at, expected, snapshotReadings(await listSnapshots(dataDir), expected));
    where = `local snapshots in ${dataDir}${plane ? " (the running plane's clock)" : ''}`;
  } else {
    const expected = awsExpected(topology, placement, region);
    report = checkRecoveryPoints(
      now(),
      expected,
      await readAws(expected, backupVaultName(topology.name), options.awsClients ?? sdkClients),
    );
    where = `AWS, ${[...new Set(expected.map((e) => e.region))].join(', ')}`;
  }
  if (values.json) io.out(JSON.stringify({ where, ...report }, null, 2));
  else printReport(report, where, io);
  return report.ok ? 0 : 1;
}

/** What the local plane at the endpoint says of itself (`GET /v1/sim`), if one answers there. */
async function localPlane(
  values: Record<string, unknown>,
  io: CliIo,
): Promise<{ data_dir: string; now: string } | undefined> {
  const client = apiClient(values, io, { quiet: true });
  if (!isLoopback(client.endpoints[0] as string)) return undefined;
  try {
    const answer = await client.call('GET', '/v1/sim');
    const body = answer.body as { data_dir?: unknown; now?: unknown } | null;
    if (answer.status !== 200 || typeof body?.data_dir !== 'string' || typeof body.now !== 'string') {
      return undefined;
    }
    return { data_dir: body.data_dir, now: body.now };
  } catch (error) {
    if (error instanceof ApiUnreachableError) return undefined;
    throw error;
  }
}

function synchronousTypes(topology: Topology): readonly string[] {
  return topology.replication_strategies.synchronous.data_types;
}

/** Every replica on AWS: point-in-time recovery everywhere, the nightly backup in the home region. */
function awsExpected(
  topology: Topology,
  placement: ReturnType<typeof placeReplication>,
  region: string | undefined,
): ExpectedBackups[] {
  return placement.tables.flatMap((t) => {
    const needs = backupNeeds(t, synchronousTypes(topology));
    return t.regions
      .filter((r) => region === undefined || r === region)
      .map((r) => ({ table: t.name, region: r, needs, pitr: true, full: r === t.homeRegion }));
  });
}

/** Every table of every local store: snapshots only (no point-in-time recovery locally). */
function localExpected(
  topology: Topology,
  placement: ReturnType<typeof placeReplication>,
  region: string | undefined,
): ExpectedBackups[] {
  return topology.regions
    .map((r) => r.region_id)
    .filter((r) => region === undefined || r === region)
    .flatMap((r) =>
      localTablesOf(placement, r).map((name) => {
        const placed = placement.tables.find((t) => t.name === name);
        const needs = backupNeeds(
          placed ?? { name, dataTypes: [], policies: [] },
          synchronousTypes(topology),
        );
        return { table: name, region: r, needs, pitr: false, full: true };
      }),
    );
}

async function readAws(
  expected: readonly ExpectedBackups[],
  vaultName: string,
  clientsFor: (region: string) => Promise<RegionClients>,
): Promise<RecoveryPointReading[]> {
  const regions = [...new Set(expected.map((e) => e.region))];
  const clients = new Map<string, RegionClients>();
  try {
    for (const region of regions) clients.set(region, await clientsFor(region));
    // One vault listing per home region: the nightly backups of the tables homed there.
    const vaults = new Map<string, Awaited<ReturnType<typeof readVaultRecoveryPoints>>>();
    await Promise.all(
      [...new Set(expected.filter((e) => e.full).map((e) => e.region))].map(async (region) => {
        const client = clients.get(region) as RegionClients;
        vaults.set(
          region,
          await readVaultRecoveryPoints(client.backup, vaultName).catch((error: unknown) => ({
            error: messageOf(error),
          })),
        );
      }),
    );
    return await Promise.all(
      expected.map(async (e): Promise<RecoveryPointReading> => {
        const client = clients.get(e.region) as RegionClients;
        const pitr = await readPointInTimeRecovery(client.dynamodb, e.table).catch((error: unknown) => ({
          error: messageOf(error),
        }));
        const vault = e.full ? vaults.get(e.region) : undefined;
        const error = pitr.error ?? vault?.error;
        return {
          table: e.table,
          region: e.region,
          ...('pitr' in pitr && pitr.pitr ? { pitr: pitr.pitr } : {}),
          backups: vault?.points?.get(e.table) ?? [],
          ...(error === undefined ? {} : { error }),
        };
      }),
    );
  } finally {
    for (const client of clients.values()) client.close();
  }
}

/** The SDK's clients for a region, loaded only when the test runs on AWS. */
async function sdkClients(region: string): Promise<RegionClients> {
  const [{ DynamoDBClient }, { BackupClient }] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('@aws-sdk/client-backup'),
  ]);
  const dynamodb = new DynamoDBClient({ region });
  const backup = new BackupClient({ region });
  return {
    dynamodb,
    backup,
    close: () => {
      dynamodb.destroy();
      backup.destroy();
    },
  };
}

const VERDICT_COLOR = { ok: 'green', late: 'red', missing: 'red', unknown: 'yellow' } as const;

function printReport(report: RestoreTestReport, where: string, io: CliIo): void {
  const style: Style = { color: io.color };
  io.out(`restore test: ${where}, at ${report.checked_at}`);
  io.out(
    table(
      ['TABLE', 'REGION', 'RPO', 'NEWEST POINT', 'AGE', 'FULL BACKUP', 'VERDICT'],
      report.tables.map((t) => [
        t.table,
        t.region,
        `${t.rpo_class} ${formatAge(t.rpo_seconds)}`,
        t.newest ? `${t.newest.source} ${t.newest.at}` : '-',
        t.newest ? formatAge(t.newest.age_seconds) : '-',
        t.full ? `${formatAge(t.full.age_seconds)} old` : '-',
        paint(style, VERDICT_COLOR[t.verdict], t.verdict),
      ]),
    ),
  );
  for (const t of report.tables) for (const p of t.problems) io.out(`  ${t.table} ${t.region}: ${p}`);
  io.out(
    report.ok
      ? 'every table has a recovery point within its RPO'
      : `${report.tables.filter((t) => t.verdict !== 'ok').length} of ${report.tables.length} replicas miss their RPO or could not be read`,
  );
}
