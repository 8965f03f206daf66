/**
 * `cortex audit`: runs a compliance audit (`POST /v1/compliance/audits`) and prints the report;
 * `cortex audit list` and `cortex audit show <id>` read stored ones. Exit code 1 when the report
 * has violations (or the API said no), so a script or CI job can gate on it.
 */
import { type ApiAnswer, apiClient, type CliIo, parse, printApiError, UsageError } from './common.ts';
import { paint, type Style, table } from './format.ts';

interface Violation {
  type: string;
  region: string;
  record?: { kind: string; id: string };
  rule: string;
  detail: string;
}

interface AuditReport {
  audit_id: string;
  audit_date: string;
  region: string;
  trigger: string;
  scope: { regions: string[]; handoffs: number; records: number };
  deployment: { source: string; description: string };
  checks: Record<string, number>;
  total_violations: number;
  violations_by_type: Record<string, number>;
  compliance_score: number;
  status: string;
  violations?: Violation[];
  violations_omitted?: number;
}

const TYPES = ['data_residency', 'encryption', 'access_control', 'retention'];

function statusColor(status: string): 'green' | 'yellow' | 'red' {
  return status === 'compliant' ? 'green' : status === 'needs_attention' ? 'yellow' : 'red';
}

function auditReport(report: AuditReport, style: Style): string {
  const lines = [
    `${paint(style, 'bold', report.audit_id)}  ${report.trigger} audit by ${report.region} at ${report.audit_date}`,
    `  regions ${report.scope.regions.join(', ')}; ${report.scope.handoffs} handoff(s), ${report.scope.records} record(s); deployment ${report.deployment.source}`,
    `  status ${paint(style, statusColor(report.status), report.status)}, score ${report.compliance_score}, ${report.total_violations} violation(s)`,
    '',
    table(
      ['CHECK', 'CHECKED', 'VIOLATIONS'],
      TYPES.map((type) => [
        type,
        String(report.checks[type] ?? 0),
        String(report.violations_by_type[type] ?? 0),
      ]),
    ),
  ];
  const violations = report.violations ?? [];
  if (violations.length > 0) {
    lines.push('', 'violations:');
    for (const v of violations) lines.push(`  [${v.type}] ${v.region}: ${v.detail}`);
    if (report.violations_omitted) lines.push(`  ... and ${report.violations_omitted} more`);
  }
  return lines.join('\n');
}

const common = { endpoint: { type: 'string' }, json: { type: 'boolean' } } as const;

export async function auditCommand(args: readonly string[], io: CliIo): Promise<number> {
  const style: Style = { color: io.color };
  const [sub, ...rest] = args;
  if (sub === 'list') {
    const { values } = parse(rest, { ...common, region: { type: 'string' }, status: { type: 'string' } });
    const query = new URLSearchParams();
    if (values.region) query.set('region', values.region as string);
    if (values.status) query.set('status', values.status as string);
    const suffix = query.size > 0 ? `?${query}` : '';
    const answer = await apiClient(values, io).call('GET', `/v1/compliance/audits${suffix}`);
    if (values.json) io.out(JSON.stringify(answer.body, null, 2));
    if (answer.status !== 200) {
      if (!values.json) printApiError(io, answer);
      return 1;
    }
    if (values.json) return 0;
    const body = answer.body as {
      audits: AuditReport[];
      audit_success_rate: { value: number | null; target: number };
    };
    io.out(
      table(
        ['AUDIT', 'DATE', 'BY', 'REGIONS', 'STATUS', 'SCORE', 'VIOLATIONS'],
        body.audits.map((a) => [
          a.audit_id,
          a.audit_date,
          a.region,
          a.scope.regions.join(','),
          paint(style, statusColor(a.status), a.status),
          String(a.compliance_score),
          String(a.total_violations),
        ]),
      ),
    );
    const rate = body.audit_success_rate;
    io.out(paint(style, 'dim', `audit success rate ${rate.value ?? '-'}% (target ${rate.target}%)`));
    return 0;
  }
  if (sub === 'show') {
    const { values, positionals } = parse(rest, common, 1);
    const id = positionals[0];
    if (id === undefined) throw new UsageError('audit show needs an audit id');
    const answer = await apiClient(values, io).call('GET', `/v1/compliance/audits/${encodeURIComponent(id)}`);
    return printed(io, answer, values.json === true, style, 200);
  }
  const { values } = parse(args, { ...common, region: { type: 'string', multiple: true } });
  const regions = (values.region as string[] | undefined)?.flatMap((r) => r.split(',')).filter(Boolean);
  const body = regions && regions.length > 0 ? JSON.stringify({ regions }) : undefined;
  const answer = await apiClient(values, io).call('POST', '/v1/compliance/audits', body);
  return printed(io, answer, values.json === true, style, 201);
}

function printed(io: CliIo, answer: ApiAnswer, json: boolean, style: Style, ok: number): number {
  if (json) io.out(JSON.stringify(answer.body, null, 2));
  if (answer.status !== ok) {
    if (!json) printApiError(io, answer);
    return 1;
  }
  const report = answer.body as AuditReport;
  if (!json) io.out(auditReport(report, style));
  return report.total_violations > 0 ? 1 : 0;
}
