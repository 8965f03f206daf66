/**
 * The recovery points of the deployed tables, as the restore test reads them on AWS: DynamoDB
 * point-in-time recovery per replica (DescribeContinuousBackups: its status, window and latest
 * restorable time) and the AWS Backup recovery points in a region's vault
 * (ListRecoveryPointsByBackupVault, DynamoDB only). Clients are injected, one per region.
 */
import {
  ListRecoveryPointsByBackupVaultCommand,
  type ListRecoveryPointsByBackupVaultCommandOutput,
} from '@aws-sdk/client-backup';
import {
  DescribeContinuousBackupsCommand,
  type DescribeContinuousBackupsCommandOutput,
} from '@aws-sdk/client-dynamodb';
import type { BackupPoint, RecoveryPointReading } from '../../core/dr/backup-age.ts';

/** What the adapter sends DynamoDB (a DynamoDBClient). */
export interface ContinuousBackupsClient {
  send(command: DescribeContinuousBackupsCommand): Promise<DescribeContinuousBackupsCommandOutput>;
}

/** What the adapter sends AWS Backup (a BackupClient). */
export interface RecoveryPointsClient {
  send(
    command: ListRecoveryPointsByBackupVaultCommand,
  ): Promise<ListRecoveryPointsByBackupVaultCommandOutput>;
}

/** AWS Backup statuses of a recovery point a restore can start from. */
const RESTORABLE = new Set(['COMPLETED', 'AVAILABLE']);

/** A replica's point-in-time recovery; a missing table is a reading with its error, not a throw. */
export async function readPointInTimeRecovery(
  client: ContinuousBackupsClient,
  table: string,
): Promise<Pick<RecoveryPointReading, 'pitr' | 'error'>> {
  try {
    const answer = await client.send(new DescribeContinuousBackupsCommand({ TableName: table }));
    const pitr = answer.ContinuousBackupsDescription?.PointInTimeRecoveryDescription;
    const enabled = pitr?.PointInTimeRecoveryStatus === 'ENABLED';
    return {
      pitr: {
        enabled,
        ...(enabled && pitr?.LatestRestorableDateTime
          ? { latest_restorable: pitr.LatestRestorableDateTime.toISOString() }
          : {}),
        ...(pitr?.RecoveryPeriodInDays === undefined
          ? {}
          : { recovery_period_days: pitr.RecoveryPeriodInDays }),
      },
    };
  } catch (error) {
    if ((error as Error).name === 'TableNotFoundException') return { error: `table ${table} not found` };
    throw error;
  }
}

/**
 * Every DynamoDB recovery point in the vault, by table name (the last part of the resource ARN),
 * newest first. A vault that does not exist is an error naming it (`undefined` points).
 */
export async function readVaultRecoveryPoints(
  client: RecoveryPointsClient,
  vaultName: string,
): Promise<{ points?: ReadonlyMap<string, readonly BackupPoint[]>; error?: string }> {
  const points = new Map<string, BackupPoint[]>();
  let token: string | undefined;
  try {
    do {
      const page = await client.send(
        new ListRecoveryPointsByBackupVaultCommand({
          BackupVaultName: vaultName,
          ByResourceType: 'DynamoDB',
          ...(token ? { NextToken: token } : {}),
        }),
      );
      for (const point of page.RecoveryPoints ?? []) {
        const table = point.ResourceArn?.split(':table/')[1];
        if (table === undefined || point.CreationDate === undefined) continue;
        const list = points.get(table) ?? [];
        list.push({
          created_at: point.CreationDate.toISOString(),
          completed: RESTORABLE.has(point.Status ?? ''),
        });
        points.set(table, list);
      }
      token = page.NextToken;
    } while (token);
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException')
      return { error: `backup vault ${vaultName} not found` };
    throw error;
  }
  for (const list of points.values())
    list.sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
  return { points };
}
