/**
 * `cortex dr restore-test` on AWS, against stand-ins for DynamoDB and AWS Backup whose requests and
 * answers are the SDK's own command input and output types (no AWS Backup emulator exists): what
 * it asks each region, and the verdicts it draws from the answers.
 */
import type {
  ListRecoveryPointsByBackupVaultCommand,
  ListRecoveryPointsByBackupVaultCommandInput,
  ListRecoveryPointsByBackupVaultCommandOutput,
  RecoveryPointByBackupVault,
} from '@aws-sdk/client-backup';
import {
  type DescribeContinuousBackupsCommand,
  type DescribeContinuousBackupsCommandInput,
  type DescribeContinuousBackupsCommandOutput,
  TableNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { type RegionClients, restoreTestCommand } from '../../lib/cli/dr-restore.ts';
import type { RestoreTestReport } from '../../lib/core/dr/backup-age.ts';
import { placeReplication } from '../../lib/core/replication/placement.ts';
import { loadTopologyFile } from '../../lib/topology/load.ts';
import { cli } from '../support/cli.ts';

const NOW = Date.parse('2026-12-03T08:00:00Z');
const ago = (seconds: number) => new Date(NOW - seconds * 1000);
const NOWHERE = { CORTEX_ENDPOINT: 'http://127.0.0.1:9' };
const placement = placeReplication(loadTopologyFile());

interface World {
  /** Seconds behind now of each replica's latest restorable time (`<table>@<region>`); absent: default. */
  readonly pitrLag?: Readonly<Record<string, number>>;
  readonly pitrOff?: readonly string[];
  readonly missingTables?: readonly string[];
  readonly missingVaults?: readonly string[];
  /** Age in seconds of the newest nightly backup; default 6 h. */
  readonly nightlyAge?: number;
}

/** One region's stand-in clients, recording every request they get. */
function stubClients(world: World, requests: { region: string; command: string; input: unknown }[]) {
  return async (region: string): Promise<RegionClients> => ({
    dynamodb: {
      send: async (
        command: DescribeContinuousBackupsCommand,
      ): Promise<DescribeContinuousBackupsCommandOutput> => {
        const input: DescribeContinuousBackupsCommandInput = command.input;
        requests.push({ region, command: 'DescribeContinuousBackups', input });
        const key = `${input.TableName}@${region}`;
        if (world.missingTables?.includes(key)) {
          throw new TableNotFoundException({ message: `Table not found: ${input.TableName}`, $metadata: {} });
        }
        const off = world.pitrOff?.includes(key);
        return {
          $metadata: {},
          ContinuousBackupsDescription: {
            ContinuousBackupsStatus: 'ENABLED',
            PointInTimeRecoveryDescription: off
              ? { PointInTimeRecoveryStatus: 'DISABLED' }
              : {
                  PointInTimeRecoveryStatus: 'ENABLED',
                  RecoveryPeriodInDays: 35,
                  EarliestRestorableDateTime: ago(35 * 86_400),
                  LatestRestorableDateTime: ago(world.pitrLag?.[key] ?? 30),
                },
          },
        };
      },
    },
    backup: {
      send: async (
        command: ListRecoveryPointsByBackupVaultCommand,
      ): Promise<ListRecoveryPointsByBackupVaultCommandOutput> => {
        const input: ListRecoveryPointsByBackupVaultCommandInput = command.input;
        requests.push({ region, command: 'ListRecoveryPointsByBackupVault', input });
        if (world.missingVaults?.includes(region)) {
          throw Object.assign(new Error(`Backup vault ${input.BackupVaultName} not found`), {
            name: 'ResourceNotFoundException',
          });
        }
        const homed = placement.tables.filter((t) => t.homeRegion === region);
        const point = (table: string, age: number, status: 'COMPLETED' | 'CREATING') =>
          ({
            ResourceArn: `arn:aws:dynamodb:${region}:123456789012:table/${table}`,
            ResourceType: 'DynamoDB',
            BackupVaultName: input.BackupVaultName,
            Status: status,
            CreationDate: ago(age),
          }) satisfies RecoveryPointByBackupVault;
        // Two pages: last night's (and one running) on the first, the night before on the second.
        return input.NextToken === undefined
          ? {
              $metadata: {},
              RecoveryPoints: homed.flatMap((t) => [
                point(t.name, world.nightlyAge ?? 6 * 3600, 'COMPLETED'),
                point(t.name, 60, 'CREATING'),
              ]),
              NextToken: 'page-2',
            }
          : { $metadata: {}, RecoveryPoints: homed.map((t) => point(t.name, 30 * 3600, 'COMPLETED')) };
      },
    },
    close: () => undefined,
  });
}

async function restoreTest(world: World, ...args: string[]) {
  const requests: { region: string; command: string; input: unknown }[] = [];
  const c = cli('', NOWHERE);
  const code = await restoreTestCommand([...args, '--json'], c.io, {
    awsClients: stubClients(world, requests),
    now: () => NOW,
  });
  const report = JSON.parse(c.out.join('\n')) as RestoreTestReport & { where: string };
  return { code, report, requests, err: c.err };
}

describe('cortex dr restore-test on AWS', () => {
  it("asks every replica for its point-in-time recovery and each home region's vault for its backups", async () => {
    const { code, report, requests } = await restoreTest({}, '--region', 'us-east-1');
    expect(requests.filter((r) => r.command === 'ListRecoveryPointsByBackupVault')).toEqual([
      {
        region: 'us-east-1',
        command: 'ListRecoveryPointsByBackupVault',
        input: { BackupVaultName: 'cortex-backups', ByResourceType: 'DynamoDB' },
      },
      {
        region: 'us-east-1',
        command: 'ListRecoveryPointsByBackupVault',
        input: { BackupVaultName: 'cortex-backups', ByResourceType: 'DynamoDB', NextToken: 'page-2' },
      },
    ]);
    const described = requests.filter((r) => r.command === 'DescribeContinuousBackups').map((r) => r.input);
    expect(described).toEqual(
      placement.tables.filter((t) => t.regions.includes('us-east-1')).map((t) => ({ TableName: t.name })),
    );
    // The state table's point-in-time recovery is 30 s old: within critical data's minute.
    expect(report.tables.find((t) => t.table === 'cortex-state')).toMatchObject({
      verdict: 'ok',
      rpo_class: 'critical_data',
      newest: { source: 'pitr', age_seconds: 30 },
      full: { age_seconds: 6 * 3600 },
    });
    expect(report.ok).toBe(true);
    expect(code).toBe(0);
  });

  it('covers every replica of every table without --region, the full backup only where the table is homed', async () => {
    const { report } = await restoreTest({});
    expect(report.tables.map((t) => `${t.table}@${t.region}`).sort()).toEqual(
      placement.tables.flatMap((t) => t.regions.map((r) => `${t.name}@${r}`)).sort(),
    );
    for (const t of report.tables) {
      const home = placement.tables.find((p) => p.name === t.table)?.homeRegion;
      expect(t.full !== undefined, `${t.table}@${t.region}`).toBe(t.region === home);
    }
    expect(report.where).toBe('AWS, us-east-1, eu-west-1, ap-south-1');
  });

  it('says late with figures and exits 1 when point-in-time recovery is behind the RPO', async () => {
    const { code, report } = await restoreTest({ pitrLag: { 'cortex-state@eu-west-1': 700 } });
    expect(code).toBe(1);
    expect(report.tables.find((t) => t.table === 'cortex-state' && t.region === 'eu-west-1')).toMatchObject({
      verdict: 'late',
      problems: [
        "newest recovery point is 11 min 40 s old, over the 10 min a backup can promise (the critical_data RPO of 1 min is met by the other regions' replicas)",
      ],
    });
    // A selective table is held to the standard hour: 700 s would be fine there.
    expect(report.tables.filter((t) => t.verdict !== 'ok')).toHaveLength(1);
  });

  it('names a replica whose point-in-time recovery is off, a missing table and a missing vault', async () => {
    const { code, report } = await restoreTest({
      pitrOff: ['cortex-sel-knowledge_base_replication@ap-south-1'],
      missingTables: ['cortex-state@ap-south-1'],
      missingVaults: ['eu-west-1'],
    });
    expect(code).toBe(1);
    const at = (table: string, region: string) =>
      report.tables.find((t) => t.table === table && t.region === region);
    expect(at('cortex-sel-knowledge_base_replication', 'ap-south-1')).toMatchObject({
      verdict: 'missing',
      problems: ['point-in-time recovery is off', 'no recovery point'],
    });
    expect(at('cortex-state', 'ap-south-1')).toMatchObject({
      verdict: 'unknown',
      problems: ['table cortex-state not found'],
    });
    expect(at('cortex-sel-compliance_data_replication-european_union', 'eu-west-1')).toMatchObject({
      verdict: 'unknown',
      problems: ['backup vault cortex-backups not found'],
    });
    // eu-west-1's replica of the state table needs no vault there (it is homed in us-east-1).
    expect(at('cortex-state', 'eu-west-1')?.verdict).toBe('ok');
  });

  it('says the nightly full backup is overdue when the newest is older than 26 hours', async () => {
    const { code, report } = await restoreTest({ nightlyAge: 27 * 3600 }, '--region', 'ap-south-1');
    expect(code).toBe(1);
    expect(
      report.tables.find((t) => t.table === 'cortex-sel-compliance_data_replication-india')?.problems,
    ).toEqual(['the newest full backup is 1 d 3 h old, the nightly should be under 1 d 2 h']);
  });

  it('prints a table per replica and the reasons, and refuses a region outside the topology', async () => {
    const c = cli('', NOWHERE);
    const code = await restoreTestCommand(['--region', 'us-east-1'], c.io, {
      awsClients: stubClients({ pitrLag: { 'cortex-state@us-east-1': 800 } }, []),
      now: () => NOW,
    });
    expect(code).toBe(1);
    expect(c.out[0]).toBe('restore test: AWS, us-east-1, at 2026-12-03T08:00:00.000Z');
    expect(c.out[1]).toMatch(/^TABLE\s+REGION\s+RPO\s+NEWEST POINT\s+AGE\s+FULL BACKUP\s+VERDICT/);
    expect(c.out.join('\n')).toMatch(
      /cortex-state\s+us-east-1\s+critical_data 1 min\s+pitr \S+\s+13 min 20 s\s+6 h old\s+late/,
    );
    expect(c.out).toContain(
      "  cortex-state us-east-1: newest recovery point is 13 min 20 s old, over the 10 min a backup can promise (the critical_data RPO of 1 min is met by the other regions' replicas)",
    );
    await expect(restoreTestCommand(['--region', 'us-west-1'], cli('', NOWHERE).io)).rejects.toThrow(
      /--region us-west-1 is not a region of the topology/,
    );
  });

  it('names the tables of a generation (-c generation)', async () => {
    const { requests } = await restoreTest({}, '--region', 'eu-west-1', '--generation', 'g2');
    expect(
      requests.map(
        (r) =>
          (r.input as { TableName?: string; BackupVaultName?: string }).TableName ??
          (r.input as { BackupVaultName: string }).BackupVaultName,
      ),
    ).toContain('cortex-g2-state');
    expect(
      requests.some((r) => (r.input as { BackupVaultName?: string }).BackupVaultName === 'cortex-g2-backups'),
    ).toBe(true);
  });
});
