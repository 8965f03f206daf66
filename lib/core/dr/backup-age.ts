/**
 * Backups against the spec's recovery objectives (DR_OBJECTIVES, objectives.ts): which RPO class
 * each table's data falls in, what retention each table needs from its backups, and the restore
 * test's verdict on the newest recovery point of each table. Pure: `now` and the recovery points
 * read (AWS Backup, DynamoDB point-in-time recovery, local snapshots) are inputs.
 */

import { DATA_CLASSES, type DataClass, DR_OBJECTIVES } from './objectives.ts';

/** A data class of the spec's RPO objectives (DR_OBJECTIVES.rpo). */
type RpoClassId = DataClass;

/** The spec's `backup_strategy`. */
export const BACKUP_STRATEGY = {
  continuous: { data_types: ['master_state', 'active_tasks'], retention_days: 7 },
  incremental: { interval_minutes: 15, data_types: ['worker_state', 'metrics'], retention_days: 30 },
  full: { schedule: '0 2 * * *', data_types: ['all'], retention_days: 90 },
} as const;

/**
 * DynamoDB point-in-time recovery's window as deployed (lib/infra/state-table.ts): the service's
 * longest, at the same price as the shortest (PITR is billed by table size). It is the continuous
 * backup of every table and stands in for the spec's 15-minute incremental backups too: a restore
 * to any second, where AWS Backup's shortest schedule is hourly and each DynamoDB backup a full copy.
 */
export const PITR_RECOVERY_DAYS = 35;

/**
 * The nightly full backup is overdue past a day, its one-hour start window and an hour for the
 * job: the restore test says so even when point-in-time recovery is fresh.
 */
export const FULL_BACKUP_MAX_AGE_SECONDS = 26 * 3600;

/** The AWS Backup vault in every region that homes a table (`<name>` the topology's, with its generation). */
export function backupVaultName(topologyName: string): string {
  return `${topologyName}-backups`;
}

/** Data types the topology names differently from the spec's objectives. */
const SPEC_NAME: Readonly<Record<string, string>> = { audit_trails: 'audit_logs' };

interface RpoClass {
  readonly id: RpoClassId;
  readonly max_data_loss_seconds: number;
}

/**
 * The RPO class of a data type: the class whose list names it (or its spec name); otherwise a
 * data type replicated synchronously is treated as critical (it is replicated like master_state
 * because losing it is as bad), and anything else, selective data included, as standard.
 */
export function rpoClassOf(dataType: string, synchronousTypes: readonly string[]): RpoClass {
  const name = SPEC_NAME[dataType] ?? dataType;
  const listed = DATA_CLASSES.find((c) =>
    (DR_OBJECTIVES.rpo[c].data_types as readonly string[]).includes(name),
  );
  const id: DataClass = listed ?? (synchronousTypes.includes(dataType) ? 'critical_data' : 'standard_data');
  return { id, max_data_loss_seconds: DR_OBJECTIVES.rpo[id].max_data_loss_seconds };
}

/** What a table holds, as the replication placement says (PlacedTable's fields). */
interface HeldData {
  readonly name: string;
  /** Synchronous and asynchronous data types living in the table. */
  readonly dataTypes: readonly string[];
  /** Selective policies whose data lives in the table. */
  readonly policies: readonly string[];
}

interface TableBackupNeeds {
  readonly table: string;
  /** The strictest class among the data it holds: the one the restore test holds it to. */
  readonly rpo: RpoClass;
  /** Every data type or selective policy held, by RPO class. */
  readonly classes: Readonly<Partial<Record<RpoClassId, readonly string[]>>>;
  /**
   * Days of recovery points each backup kind must keep for this table: the longest any of its data
   * needs, so nothing held in a shared table is lost early. 0 where none of its data needs that kind.
   */
  readonly retention_days: {
    readonly continuous: number;
    readonly incremental: number;
    readonly full: number;
  };
}

/** The RPO class and the backup retention a table needs for the data it holds. */
export function backupNeeds(table: HeldData, synchronousTypes: readonly string[]): TableBackupNeeds {
  const classes: Partial<Record<RpoClassId, string[]>> = {};
  let rpo: RpoClass = rpoClassOf('', []);
  for (const item of [...table.dataTypes, ...table.policies]) {
    const c = rpoClassOf(item, synchronousTypes);
    classes[c.id] = [...(classes[c.id] ?? []), item];
    if (c.max_data_loss_seconds < rpo.max_data_loss_seconds) rpo = c;
  }
  return { table: table.name, rpo, classes, retention_days: retentionNeeds(table) };
}

/**
 * Days of recovery points each backup kind must keep for a table: the spec's retention for every
 * kind one of its data types needs, the longest where it holds several; 0 for a kind none needs.
 * Every table gets the nightly full backup (`data_types: ["all"]`).
 */
export function retentionNeeds(table: HeldData): TableBackupNeeds['retention_days'] {
  const names = table.dataTypes.map((t) => SPEC_NAME[t] ?? t);
  const holds = (kind: readonly string[]) => names.some((t) => kind.includes(t));
  return {
    continuous: holds(BACKUP_STRATEGY.continuous.data_types) ? BACKUP_STRATEGY.continuous.retention_days : 0,
    incremental: holds(BACKUP_STRATEGY.incremental.data_types)
      ? BACKUP_STRATEGY.incremental.retention_days
      : 0,
    full: BACKUP_STRATEGY.full.retention_days,
  };
}

/** One replica of a table as the restore test expects to find it. */
export interface ExpectedBackups {
  readonly table: string;
  readonly region: string;
  readonly needs: TableBackupNeeds;
  /** Point-in-time recovery should be on (every replica on AWS; none locally). */
  readonly pitr: boolean;
  /** The nightly full backup should be here (the table's home region on AWS; every store locally). */
  readonly full: boolean;
}

/** A backup taken at one time (an AWS Backup recovery point, a local snapshot). */
export interface BackupPoint {
  /** ISO time the data was read (AWS Backup's CreationDate, a snapshot's taken_at). */
  readonly created_at: string;
  /** Only completed points count (AWS Backup: COMPLETED or AVAILABLE). */
  readonly completed: boolean;
}

/** What was found for one replica. */
export interface RecoveryPointReading {
  readonly table: string;
  readonly region: string;
  /** Undefined where point-in-time recovery was not read (locally). */
  readonly pitr?: {
    readonly enabled: boolean;
    /** ISO: the newest time a restore can reach. */
    readonly latest_restorable?: string;
    readonly recovery_period_days?: number;
  };
  readonly backups: readonly BackupPoint[];
  /** Why nothing could be read (table or vault missing, access denied ...). */
  readonly error?: string;
}

type RestoreVerdict = 'ok' | 'late' | 'missing' | 'unknown';

interface TableCheck {
  readonly table: string;
  readonly region: string;
  readonly rpo_class: RpoClassId;
  readonly rpo_seconds: number;
  /** The newest recovery point of any kind: what a restore now could reach. */
  readonly newest?: { readonly source: 'pitr' | 'backup'; readonly at: string; readonly age_seconds: number };
  /** The newest completed full backup, where one is expected. */
  readonly full?: { readonly at: string; readonly age_seconds: number };
  readonly verdict: RestoreVerdict;
  /** Each reason the verdict is not ok, with figures. */
  readonly problems: readonly string[];
}

export interface RestoreTestReport {
  readonly ok: boolean;
  readonly checked_at: string;
  readonly tables: readonly TableCheck[];
}

/**
 * Point-in-time recovery's latest restorable time is typically about five minutes behind now
 * (DynamoDB's documentation), so no backup meets an RPO under that: critical data's minute is met by
 * synchronous replication to the other regions, which survive the loss of one. A backup is late only
 * past twice that lag, or past its class's RPO when that is longer.
 */
const PITR_TYPICAL_LAG_SECONDS = 300;

function backupObjectiveSeconds(rpoSeconds: number): number {
  return Math.max(rpoSeconds, 2 * PITR_TYPICAL_LAG_SECONDS);
}

/**
 * The restore test: for each expected replica, the newest recovery point (point-in-time recovery's
 * latest restorable time or the newest completed backup) against the table's RPO, and the newest
 * full backup against the nightly schedule. A replica not read is `unknown`; none at all `missing`.
 */
export function checkRecoveryPoints(
  now: number,
  expected: readonly ExpectedBackups[],
  readings: readonly RecoveryPointReading[],
): RestoreTestReport {
  const tables = expected.map((e) =>
    checkOne(
      now,
      e,
      readings.find((r) => r.table === e.table && r.region === e.region),
    ),
  );
  return { ok: tables.every((t) => t.verdict === 'ok'), checked_at: new Date(now).toISOString(), tables };
}

function checkOne(
  now: number,
  expected: ExpectedBackups,
  reading: RecoveryPointReading | undefined,
): TableCheck {
  const base = {
    table: expected.table,
    region: expected.region,
    rpo_class: expected.needs.rpo.id,
    rpo_seconds: expected.needs.rpo.max_data_loss_seconds,
  };
  if (reading === undefined || reading.error !== undefined) {
    return { ...base, verdict: 'unknown', problems: [reading?.error ?? 'not read'] };
  }
  const problems: string[] = [];
  const ageOf = (at: string) => Math.max(0, Math.round((now - Date.parse(at)) / 1000));
  const candidates: { source: 'pitr' | 'backup'; at: string }[] = [];
  if (expected.pitr) {
    const pitr = reading.pitr;
    if (!pitr?.enabled) problems.push('point-in-time recovery is off');
    else if (pitr.latest_restorable === undefined)
      problems.push('point-in-time recovery has no restorable time yet');
    else candidates.push({ source: 'pitr', at: pitr.latest_restorable });
    if (pitr?.enabled && pitr.recovery_period_days !== undefined) {
      const needed = Math.max(
        expected.needs.retention_days.continuous,
        expected.needs.retention_days.incremental,
      );
      if (pitr.recovery_period_days < needed) {
        problems.push(
          `point-in-time recovery keeps ${pitr.recovery_period_days} days, the data here needs ${needed}`,
        );
      }
    }
  }
  const completed = reading.backups
    .filter((b) => b.completed && Number.isFinite(Date.parse(b.created_at)))
    .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
  const newestBackup = completed[0];
  if (newestBackup) candidates.push({ source: 'backup', at: newestBackup.created_at });
  let full: TableCheck['full'];
  if (expected.full) {
    if (!newestBackup) problems.push('no completed full backup (the nightly runs at 02:00 UTC)');
    else {
      full = { at: newestBackup.created_at, age_seconds: ageOf(newestBackup.created_at) };
      if (full.age_seconds > FULL_BACKUP_MAX_AGE_SECONDS) {
        problems.push(
          `the newest full backup is ${formatAge(full.age_seconds)} old, the nightly should be under ${formatAge(FULL_BACKUP_MAX_AGE_SECONDS)}`,
        );
      }
    }
  }
  const newestPoint = candidates.sort((a, b) => Date.parse(b.at) - Date.parse(a.at))[0];
  if (!newestPoint) {
    return {
      ...base,
      ...(full ? { full } : {}),
      verdict: 'missing',
      problems: [...problems, 'no recovery point'],
    };
  }
  const newest = { ...newestPoint, age_seconds: ageOf(newestPoint.at) };
  const objective = backupObjectiveSeconds(base.rpo_seconds);
  if (newest.age_seconds > objective) {
    problems.unshift(
      objective === base.rpo_seconds
        ? `newest recovery point is ${formatAge(newest.age_seconds)} old, over the ${base.rpo_class} RPO of ${formatAge(base.rpo_seconds)}`
        : `newest recovery point is ${formatAge(newest.age_seconds)} old, over the ${formatAge(objective)} a backup can promise (the ${base.rpo_class} RPO of ${formatAge(base.rpo_seconds)} is met by the other regions' replicas)`,
    );
  }
  return {
    ...base,
    newest,
    ...(full ? { full } : {}),
    verdict: problems.length === 0 ? 'ok' : 'late',
    problems,
  };
}

/** `59 s`, `4 min 58 s`, `26 h 3 min`, `3 d 2 h`. */
export function formatAge(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  if (s < 86_400) {
    const m = Math.floor((s % 3600) / 60);
    return `${Math.floor(s / 3600)} h${m ? ` ${m} min` : ''}`;
  }
  const h = Math.floor((s % 86_400) / 3600);
  return `${Math.floor(s / 86_400)} d${h ? ` ${h} h` : ''}`;
}
