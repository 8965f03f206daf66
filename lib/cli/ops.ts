/**
 * `cortex ops daily` runs the daily operations report (`POST /v1/ops/reports`) and prints it;
 * `cortex ops reports [id]` reads stored ones, `cortex ops incidents` the emergency shutdowns. `cortex region shutdown <id>` and `cortex region
 * restore <id>` take a region out of service on purpose and bring it back; both need `--confirm
 * <id>` naming the region again. docs/operations.md says what each does.
 */

import {
  type ApiAnswer,
  apiClient,
  type CliIo,
  integerOption,
  parse,
  printApiError,
  requireReadable,
  UsageError,
} from './common.ts';
import { costReport } from './cost.ts';
import { paint, type Style, table } from './format.ts';

interface Check {
  status: string;
  findings: string[];
}

interface DailyReport {
  report_id: string;
  region: string;
  generated_at: string;
  trigger: string;
  status: string;
  checks: Record<string, Check>;
  open_incidents: string[];
}

interface ReportSummary {
  report_id: string;
  region: string;
  generated_at: string;
  trigger: string;
  status: string;
  checks: Record<string, string>;
  open_incidents: string[];
}

interface Incident {
  incident_id: string;
  region: string;
  status: string;
  opened_at: string;
  opened_by: string;
  drain_until: string;
  reason: string;
}

const common = { endpoint: { type: 'string' }, json: { type: 'boolean' } } as const;

function color(status: string): 'green' | 'yellow' | 'red' | 'dim' {
  return status === 'ok' ? 'green' : status === 'warning' ? 'yellow' : status === 'critical' ? 'red' : 'dim';
}

function dailyReportText(report: DailyReport, style: Style): string {
  const lines = [
    `${paint(style, 'bold', report.report_id)}  ${report.trigger} report by ${report.region} at ${report.generated_at}`,
    `  status ${paint(style, color(report.status), report.status)}${
      report.open_incidents.length > 0 ? `; open incidents: ${report.open_incidents.join(', ')}` : ''
    }`,
    '',
    table(
      ['CHECK', 'STATUS', 'FINDINGS'],
      Object.entries(report.checks).map(([name, check]) => [
        name,
        paint(style, color(check.status), check.status),
        String(check.findings.length),
      ]),
    ),
  ];
  const findings = Object.entries(report.checks).flatMap(([name, check]) =>
    check.findings.map((f) => `  [${name}] ${f}`),
  );
  if (findings.length > 0) lines.push('', 'findings:', ...findings);
  return lines.join('\n');
}

export async function opsCommand(args: readonly string[], io: CliIo): Promise<number> {
  const style: Style = { color: io.color };
  const [sub, ...rest] = args;
  if (sub === 'daily') {
    const { values } = parse(rest, { ...common, cost: { type: 'boolean' }, topology: { type: 'string' } });
    let body: string | undefined;
    if (values.cost) {
      // The cost model prices the synthesized templates: only where the CLI runs, never in a Lambda.
      if (values.topology !== undefined) requireReadable(values.topology, '--topology');
      const cost = costReport(values.topology === undefined ? {} : { topologyPath: values.topology });
      body = JSON.stringify({
        cost_estimate: {
          total_usd: cost.total_usd,
          computed_at: new Date().toISOString(),
          price_book: `${cost.price_book.name} (${cost.price_book.date})`,
        },
      });
    }
    const answer = await apiClient(values, io).call('POST', '/v1/ops/reports', body);
    return printedReport(io, answer, values.json === true, style, 201);
  }
  if (sub === 'reports') {
    const { values, positionals } = parse(rest, { ...common, limit: { type: 'string' } }, 1);
    const [id] = positionals;
    const client = apiClient(values, io);
    if (id !== undefined) {
      const answer = await client.call('GET', `/v1/ops/reports/${encodeURIComponent(id)}`);
      return printedReport(io, answer, values.json === true, style, 200);
    }
    const limit = integerOption('limit', values.limit, 1, 500);
    const answer = await client.call('GET', `/v1/ops/reports${limit === undefined ? '' : `?limit=${limit}`}`);
    if (values.json) io.out(JSON.stringify(answer.body, null, 2));
    if (answer.status !== 200) {
      if (!values.json) printApiError(io, answer);
      return 1;
    }
    if (values.json) return 0;
    const { reports } = answer.body as { reports: ReportSummary[] };
    const names = Object.keys(reports[0]?.checks ?? {});
    io.out(
      table(
        ['REPORT', 'BY', 'AT', 'STATUS', ...names.map((n) => n.toUpperCase()), 'INCIDENTS'],
        reports.map((r) => [
          r.report_id,
          r.region,
          r.generated_at,
          paint(style, color(r.status), r.status),
          ...names.map((n) => paint(style, color(r.checks[n] ?? ''), r.checks[n] ?? '-')),
          String(r.open_incidents.length),
        ]),
      ),
    );
    return 0;
  }
  if (sub === 'incidents') {
    const { values } = parse(rest, { ...common, limit: { type: 'string' } });
    const limit = integerOption('limit', values.limit, 1, 500);
    const answer = await apiClient(values, io).call(
      'GET',
      `/v1/ops/incidents${limit === undefined ? '' : `?limit=${limit}`}`,
    );
    if (values.json) io.out(JSON.stringify(answer.body, null, 2));
    if (answer.status !== 200) {
      if (!values.json) printApiError(io, answer);
      return 1;
    }
    if (values.json) return 0;
    const { incidents } = answer.body as { incidents: Incident[] };
    io.out(
      table(
        ['INCIDENT', 'REGION', 'STATUS', 'OPENED', 'BY', 'DRAIN UNTIL', 'REASON'],
        incidents.map((i) => [
          i.incident_id,
          i.region,
          paint(style, i.status === 'open' ? 'yellow' : 'green', i.status),
          i.opened_at,
          i.opened_by,
          i.drain_until,
          i.reason,
        ]),
      ),
    );
    return 0;
  }
  throw new UsageError(
    sub === undefined
      ? 'ops needs a subcommand: daily, reports or incidents'
      : `unknown ops subcommand "${sub}"`,
  );
}

export async function regionCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'shutdown' && sub !== 'restore') {
    throw new UsageError(
      sub === undefined
        ? 'region needs a subcommand: shutdown or restore'
        : `unknown region subcommand "${sub}"`,
    );
  }
  const { values, positionals } = parse(
    rest,
    {
      ...common,
      reason: { type: 'string' },
      confirm: { type: 'string' },
      ...(sub === 'shutdown' ? { 'drain-timeout': { type: 'string' } } : {}),
    },
    1,
  );
  const [region] = positionals;
  if (region === undefined) throw new UsageError(`region ${sub} needs a region id`);
  if (values.confirm === undefined) {
    throw new UsageError(`region ${sub} needs --confirm ${region} (the region id again)`);
  }
  const path = `/v1/regions/${encodeURIComponent(region)}/emergency-shutdown`;
  const client = apiClient(values, io);
  let answer: ApiAnswer;
  if (sub === 'shutdown') {
    if (typeof values.reason !== 'string' || values.reason.trim() === '') {
      throw new UsageError('region shutdown needs --reason <text>');
    }
    const drain = integerOption('drain-timeout', values['drain-timeout'] as string | undefined, 0, 3600);
    answer = await client.call(
      'POST',
      path,
      JSON.stringify({
        reason: values.reason,
        confirm: values.confirm,
        ...(drain === undefined ? {} : { drain_timeout_seconds: drain }),
      }),
    );
  } else {
    answer = await client.call(
      'DELETE',
      path,
      JSON.stringify({ confirm: values.confirm, ...(values.reason ? { reason: values.reason } : {}) }),
    );
  }
  if (values.json) io.out(JSON.stringify(answer.body, null, 2));
  if (answer.status !== (sub === 'shutdown' ? 202 : 200)) {
    if (!values.json) printApiError(io, answer);
    return 1;
  }
  if (values.json) return 0;
  const body = answer.body as {
    region: string;
    status: { status: string; epoch: number; drain_until?: string };
    incident?: { incident_id: string; work_at_shutdown?: { pending: number; accepted: number } };
    notify_error?: string;
  };
  if (sub === 'shutdown') {
    const work = body.incident?.work_at_shutdown;
    io.out(
      `${body.region} is shut down (epoch ${body.status.epoch}); ${body.incident?.incident_id ?? ''} opened`,
    );
    io.out(
      `  new tasks go elsewhere now; ${work?.pending ?? 0} pending task(s) move at once, ${work?.accepted ?? 0} accepted may finish until ${body.status.drain_until}`,
    );
  } else {
    io.out(
      `${body.region} serves again (epoch ${body.status.epoch})${body.incident ? `; ${body.incident.incident_id} resolved` : ''}`,
    );
  }
  if (body.notify_error) io.err(`cortex: the notification was not sent: ${body.notify_error}`);
  return 0;
}

function printedReport(io: CliIo, answer: ApiAnswer, json: boolean, style: Style, ok: number): number {
  if (json) io.out(JSON.stringify(answer.body, null, 2));
  if (answer.status !== ok) {
    if (!json) printApiError(io, answer);
    return 1;
  }
  const report = answer.body as DailyReport;
  if (!json) io.out(dailyReportText(report, style));
  return report.status === 'critical' ? 1 : 0;
}
