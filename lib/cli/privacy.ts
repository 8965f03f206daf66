/**
 * `cortex privacy request|status`: data-subject requests (access, erasure, portability) through the
 * HTTP API. Tables by default, `--json` prints the API's answer (with an access request's export).
 */
import { apiClient, type CliIo, parse, printApiError, UsageError } from './common.ts';
import { paint, type Style, table } from './format.ts';

interface RecordOutcome {
  record_id: string;
  kind: string;
  action: string;
  exception?: string;
  reason?: string;
}

interface RegionProof {
  region: string;
  outcome: string;
  at: string;
  attempts: number;
  found: string[];
  records: RecordOutcome[];
  error?: string;
}

interface PrivacyRequestView {
  request_id: string;
  type: string;
  subject_id: string;
  jurisdiction: string;
  received_in: string;
  status: string;
  created_at: string;
  due_at: string;
  completed_at?: string;
  overdue_notified_at?: string;
  rejection?: string;
  exported_records?: number;
  regions: Record<string, RegionProof>;
  export?: { format: string; records: unknown[] };
}

const common = { endpoint: { type: 'string' }, json: { type: 'boolean' } } as const;

function statusPaint(style: Style, status: string): string {
  if (status === 'completed') return paint(style, 'green', status);
  if (status === 'rejected') return paint(style, 'red', status);
  return paint(style, 'yellow', status);
}

/** One request: its head, a row per region, and every record kept under an exception. */
function privacyReport(r: PrivacyRequestView, style: Style): string {
  const head = [
    `${paint(style, 'bold', r.request_id)}  ${r.type} for ${r.subject_id} (${r.jurisdiction}), received in ${r.received_in}`,
    `  status ${statusPaint(style, r.status)}, created ${r.created_at}, due ${r.due_at}${
      r.completed_at ? `, finished ${r.completed_at}` : ''
    }${r.overdue_notified_at ? paint(style, 'red', `, overdue since ${r.due_at}`) : ''}`,
  ];
  if (r.rejection) head.push(`  rejected: ${r.rejection}`);
  if (r.export) head.push(`  export: ${r.export.records.length} record(s), ${r.export.format} JSON (--json)`);
  const count = (p: RegionProof, action: string) =>
    String(p.records.filter((x) => x.action === action).length);
  const proofs = Object.values(r.regions).sort((a, b) => a.region.localeCompare(b.region));
  const regions = table(
    ['REGION', 'OUTCOME', 'FOUND', 'EXPORTED', 'ERASED', 'KEPT', 'AT', 'ATTEMPTS'],
    proofs.map((p) => [
      p.region,
      p.outcome === 'searched' ? p.outcome : paint(style, 'yellow', p.outcome),
      String(p.found.length),
      count(p, 'exported'),
      count(p, 'erased'),
      count(p, 'kept'),
      p.at,
      String(p.attempts),
    ]),
  );
  const notes = proofs.flatMap((p) => [
    ...(p.error ? [`  ${p.region}: ${p.error}`] : []),
    ...p.records
      .filter((x) => x.action === 'kept' || x.reason)
      .map(
        (x) =>
          `  ${p.region} ${x.record_id}: ${x.action}${x.exception ? ` (${x.exception})` : ''}${x.reason ? `: ${x.reason}` : ''}`,
      ),
  ]);
  return [head.join('\n'), '', regions, ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}

export async function privacyCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const style: Style = { color: io.color };
  switch (sub) {
    case 'request': {
      const { values, positionals } = parse(
        rest,
        { ...common, subject: { type: 'string' }, jurisdiction: { type: 'string' } },
        1,
      );
      const [type] = positionals;
      if (type === undefined) throw new UsageError('privacy request needs access, erasure or portability');
      if (values.subject === undefined) throw new UsageError('privacy request needs --subject <id>');
      if (values.jurisdiction === undefined) {
        throw new UsageError('privacy request needs --jurisdiction <name>, e.g. european_union');
      }
      const body = JSON.stringify({ type, subject_id: values.subject, jurisdiction: values.jurisdiction });
      const answer = await apiClient(values, io).call('POST', '/v1/privacy/requests', body);
      if (values.json) io.out(JSON.stringify(answer.body, null, 2));
      if (answer.status !== 201 && answer.status !== 202) {
        if (!values.json) printApiError(io, answer);
        return 1;
      }
      if (!values.json) {
        const request = answer.body as PrivacyRequestView;
        io.out(privacyReport(request, style));
        if (request.status !== 'completed') {
          io.out('');
          io.out(
            `some region is not done yet; the hourly sweep retries it: cortex privacy status ${request.request_id}`,
          );
        }
      }
      return 0;
    }
    case 'status': {
      const { values, positionals } = parse(
        rest,
        { ...common, status: { type: 'string' }, subject: { type: 'string' } },
        1,
      );
      const [id] = positionals;
      const endpoint = apiClient(values, io);
      if (id !== undefined) {
        const answer = await endpoint.call('GET', `/v1/privacy/requests/${encodeURIComponent(id)}`);
        if (values.json) io.out(JSON.stringify(answer.body, null, 2));
        else if (answer.status === 200) io.out(privacyReport(answer.body as PrivacyRequestView, style));
        else printApiError(io, answer);
        return answer.status === 200 ? 0 : 1;
      }
      const query = new URLSearchParams({
        ...(values.status === undefined ? {} : { status: values.status }),
        ...(values.subject === undefined ? {} : { subject_id: values.subject }),
      }).toString();
      const answer = await endpoint.call('GET', `/v1/privacy/requests${query ? `?${query}` : ''}`);
      if (values.json) io.out(JSON.stringify(answer.body, null, 2));
      if (answer.status !== 200) {
        if (!values.json) printApiError(io, answer);
        return 1;
      }
      if (values.json) return 0;
      const { requests } = answer.body as { requests: PrivacyRequestView[] };
      if (requests.length === 0) {
        io.out('no data-subject requests');
        return 0;
      }
      io.out(
        table(
          ['REQUEST', 'TYPE', 'SUBJECT', 'JURISDICTION', 'STATUS', 'CREATED', 'DUE'],
          requests.map((r) => [
            r.request_id,
            r.type,
            r.subject_id,
            r.jurisdiction,
            statusPaint(style, r.status),
            r.created_at,
            r.overdue_notified_at ? paint(style, 'red', `${r.due_at} (overdue)`) : r.due_at,
          ]),
        ),
      );
      return 0;
    }
    default:
      throw new UsageError(
        sub === undefined ? 'privacy needs request or status' : `unknown privacy command "${sub}"`,
      );
  }
}
