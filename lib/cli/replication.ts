/**
 * `cortex replication` (the lag of every link, GET /v1/replication) and `cortex replication check
 * [--reconcile] [--sample n]` (POST /v1/replication/consistency-checks). Thin clients of the HTTP API:
 * tables by default, `--json` the answer as is.
 */
import { apiClient, type CliIo, integerOption, parse, printApiError } from './common.ts';
import { paint, type Style, table } from './format.ts';

interface PairRow {
  source: string;
  replica: string;
  source_seq: number | null;
  replica_seq: number | null;
  lag_records: number | null;
  lag_seconds: number | null;
  lag_lower_bound: boolean;
  age_seconds: number | null;
  data_loss_window_seconds: number | null;
  status: string;
  reasons: string[];
}

interface Reading {
  observer: string;
  at: string;
  thresholds: {
    synchronous_seconds: number;
    asynchronous_seconds: number;
    alert_records: number;
    alert_seconds: number;
  };
  pairs: PairRow[];
  unreachable: { region: string; error: string }[];
  tables?: {
    name: string;
    role: string;
    consistency: string;
    regions: string[];
    lag: 'pairs' | 'strongly_consistent' | 'single_replica' | 'not_measured';
  }[];
}

const LAG_TEXT = {
  pairs: 'the pairs above',
  strongly_consistent: 'none: strongly consistent (MRSC)',
  single_replica: 'none: one replica, nothing replicates',
  not_measured: 'not measured (replicates like cortex-state)',
} as const;

interface CopyRow {
  present: boolean;
  checksum?: string;
}

interface CheckRecord {
  check_id: string;
  observer: string;
  reconcile: boolean;
  regions: string[];
  sampled: number;
  consistent: number;
  inconsistent: number;
  reconciled: number;
  truncated: number;
  duration_ms: number;
  unreachable: { region: string; error: string }[];
  inconsistencies: {
    key: string;
    record_type?: string;
    data_type: string;
    rule?: string;
    copies: Record<string, CopyRow>;
    reconciliation?: {
      rule: string;
      winner?: string;
      writes: { region: string; action: string; applied: boolean }[];
      skipped?: string;
    };
  }[];
}

const common = { endpoint: { type: 'string' }, json: { type: 'boolean' } } as const;

function statusColor(status: string): 'green' | 'yellow' | 'red' | 'dim' {
  if (status === 'ok') return 'green';
  if (status === 'over_sync_target' || status === 'over_async_target') return 'yellow';
  if (status === 'unknown') return 'dim';
  return 'red';
}

const text = (value: number | null, unit = '') => (value === null ? '-' : `${value}${unit}`);

function lagTable(reading: Reading, style: Style): string {
  return table(
    ['SOURCE', 'REPLICA', 'SEQ', 'LAG RECORDS', 'LAG', 'AGE', 'LOSS WINDOW', 'STATUS'],
    reading.pairs.map((p) => [
      p.source,
      p.replica,
      `${text(p.replica_seq)}/${text(p.source_seq)}`,
      text(p.lag_records),
      p.lag_seconds === null ? '-' : `${p.lag_lower_bound ? '>=' : ''}${p.lag_seconds} s`,
      text(p.age_seconds, ' s'),
      text(p.data_loss_window_seconds, ' s'),
      paint(style, statusColor(p.status), p.status),
    ]),
  );
}

export async function replicationCommand(args: readonly string[], io: CliIo): Promise<number> {
  if (args[0] === 'check') return checkCommand(args.slice(1), io);
  const { values } = parse(args, common);
  const answer = await apiClient(values, io).call('GET', '/v1/replication');
  if (values.json) io.out(JSON.stringify(answer.body, null, 2));
  if (answer.status !== 200) {
    if (!values.json) printApiError(io, answer);
    return 1;
  }
  if (values.json) return 0;
  const reading = answer.body as Reading;
  const style: Style = { color: io.color };
  io.out(lagTable(reading, style));
  const t = reading.thresholds;
  io.out(
    paint(
      style,
      'dim',
      `as seen from ${reading.observer} at ${reading.at}; SEQ is replica/source heartbeat; targets ${t.synchronous_seconds} s synchronous, ${t.asynchronous_seconds} s asynchronous; alert over ${t.alert_records} records or ${t.alert_seconds} s`,
    ),
  );
  for (const u of reading.unreachable)
    io.out(paint(style, 'yellow', `${u.region}'s replica unreachable: ${u.error}`));
  for (const p of reading.pairs.filter((pair) => pair.status !== 'ok' && pair.reasons.length > 0)) {
    io.out(`${p.source} -> ${p.replica}: ${p.reasons.join('; ')}`);
  }
  if (reading.tables && reading.tables.length > 0) {
    io.out('');
    io.out(
      table(
        ['TABLE', 'ROLE', 'CONSISTENCY', 'REPLICAS', 'LAG'],
        reading.tables.map((t) => [
          t.name,
          t.role,
          t.consistency,
          t.regions.join(' '),
          LAG_TEXT[t.lag] ?? t.lag,
        ]),
      ),
    );
  }
  return 0;
}

async function checkCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, { ...common, reconcile: { type: 'boolean' }, sample: { type: 'string' } });
  const sample = integerOption('sample', values.sample as string | undefined, 1, 10_000);
  const body = JSON.stringify({
    ...(sample === undefined ? {} : { sample_size: sample }),
    ...(values.reconcile ? { reconcile: true } : {}),
  });
  const answer = await apiClient(values, io).call('POST', '/v1/replication/consistency-checks', body);
  if (values.json) io.out(JSON.stringify(answer.body, null, 2));
  if (answer.status !== 201) {
    if (!values.json) printApiError(io, answer);
    return 1;
  }
  const check = answer.body as CheckRecord;
  const unresolved = check.inconsistent - check.reconciled;
  if (values.json) return unresolved > 0 ? 1 : 0;
  const style: Style = { color: io.color };
  io.out(
    `${paint(style, 'bold', check.check_id)}: ${check.sampled} keys sampled from ${check.observer}'s replica, compared across ${check.regions.join(', ')} in ${check.duration_ms} ms`,
  );
  io.out(
    `${paint(style, 'green', `${check.consistent} consistent`)}, ${paint(
      style,
      check.inconsistent > 0 ? 'red' : 'green',
      `${check.inconsistent} inconsistent`,
    )}${check.reconcile ? `, ${check.reconciled} reconciled` : ''}`,
  );
  for (const u of check.unreachable)
    io.out(paint(style, 'yellow', `${u.region}'s replica unreachable: ${u.error}`));
  if (check.inconsistencies.length > 0) {
    io.out('');
    io.out(
      table(
        ['KEY', 'DATA TYPE', 'RULE', ...check.regions.map((r) => r.toUpperCase()), 'RECONCILED'],
        check.inconsistencies.map((i) => [
          i.key,
          i.data_type,
          i.rule ?? '-',
          ...check.regions.map((r) => {
            const copy = i.copies[r];
            return copy?.present ? (copy.checksum ?? '?').slice(0, 8) : 'missing';
          }),
          i.reconciliation === undefined
            ? '-'
            : i.reconciliation.skipped
              ? `no: ${i.reconciliation.skipped}`
              : `${i.reconciliation.winner} wins -> ${i.reconciliation.writes
                  .map((w) => `${w.region}${w.applied ? '' : ' (changed, skipped)'}`)
                  .join(', ')}`,
        ]),
      ),
    );
    if (check.truncated > 0) io.out(paint(style, 'dim', `... and ${check.truncated} more`));
  }
  if (!check.reconcile && check.inconsistent > 0) {
    io.out(
      paint(
        style,
        'dim',
        "run `cortex replication check --reconcile` to repair them by each data type's rule",
      ),
    );
  }
  return unresolved > 0 ? 1 : 0;
}
