/**
 * Operator commands for health and failover: `health`, `failover start|status|abort|approve|decline`,
 * `fault`, `heal`, `watch`. Each is a thin client of the HTTP API; tables by default, `--json` raw.
 */
import {
  API_OPTIONS,
  type ApiAnswer,
  ApiUnreachableError,
  apiClient,
  type CliIo,
  parse,
  printApiError,
  UsageError,
} from './common.ts';
import { paint, type Style, statusColor, table } from './format.ts';

interface ObserverView {
  verdict: string;
  consecutive_failures: number;
  reasons: string[];
}

interface HealthRegion {
  region_id: string;
  status: string;
  role: string;
  epoch: number;
  status_reason?: string;
  health?: { state: string; action: string; reasons: string[] };
  observers?: Record<string, ObserverView>;
}

/** The color of an observed health state (lib/app/regions.ts ObservedHealth). */
export function healthColor(state: string | undefined): 'green' | 'yellow' | 'red' {
  if (state === 'healthy') return 'green';
  if (state === 'saturated' || state === undefined) return 'yellow';
  return 'red';
}

interface FailoverStep {
  action: string;
  phase: string;
  started_at: string;
  ended_at: string;
  outcome: string;
  detail: string;
}

interface FailoverView {
  failover_id: string;
  kind: string;
  failed_region: string;
  target_region?: string;
  trigger: string;
  status: string;
  reason: string;
  initiated_at: string;
  completed_at?: string;
  workloads_migrated: number;
  workloads_pending: number;
  downtime_seconds?: number;
  data_loss_window_seconds?: number;
  steps: FailoverStep[];
  error?: { name: string; message: string };
}

const common = API_OPTIONS;

/** What `POST /v1/failovers` answers (lib/app/failover/start.ts StartFailoverResponse). */
interface StartedFailover {
  failover_id: string;
  kind: 'failover' | 'failback';
  status: string;
  failed_region: string;
  target_region?: string;
  coordinator: string;
  dry_run: boolean;
  plan?: FailoverPlanView | FailbackPlanView;
}

interface FailoverPlanView {
  target_region?: string;
  mode?: 'single' | 'spread';
  considered: { region: string; reasons: string[] }[];
  workloads_to_move: { handoff_id: string; task_id: string; to: string; routing_score: number }[];
  workloads_pending: { handoff_id: string; task_id: string; reasons: string[] }[];
  workloads_in_flight: number;
  promotion_seconds: number;
  estimated_rto_seconds: number;
}

interface FailbackPlanView {
  region: string;
  from_status: string;
  to_status: string;
  role: string;
  epoch: number;
}

/** A dry run's plan: the target and why, each candidate considered, every workload's destination. */
function planReport(started: StartedFailover, style: Style): string {
  const plan = started.plan;
  if (started.kind === 'failback' || (plan && 'from_status' in plan)) {
    const back = plan as FailbackPlanView | undefined;
    return [
      `${paint(style, 'bold', 'dry run')}: failback of ${started.failed_region}, coordinated by ${started.coordinator}; nothing written`,
      ...(back
        ? [
            `  ${back.region} answers: ${back.from_status} -> ${back.to_status}, role ${back.role}, epoch ${back.epoch}`,
          ]
        : []),
      `start it: cortex failover start ${started.failed_region} --failback`,
    ].join('\n');
  }
  const p = plan as FailoverPlanView | undefined;
  const lines = [
    `${paint(style, 'bold', 'dry run')}: failover of ${started.failed_region} -> ${paint(style, 'green', started.target_region ?? '(none)')}${
      p?.mode
        ? ` (${p.mode === 'spread' ? 'work spread over every survivor with room' : 'single target'})`
        : ''
    }, coordinated by ${started.coordinator}; nothing written`,
  ];
  if (!p) return lines.join('\n');
  lines.push(
    `  estimated RTO ${p.estimated_rto_seconds} s (detection + promotion ${p.promotion_seconds} s); ${p.workloads_in_flight} handoff(s) in flight to drain`,
    '',
    table(
      ['CANDIDATE', 'CHOSEN', 'REASONS'],
      p.considered.map((c) => [
        c.region,
        c.region === started.target_region ? paint(style, 'green', 'target') : '-',
        c.reasons.join('; ') || '-',
      ]),
    ),
  );
  if (p.workloads_to_move.length > 0) {
    lines.push(
      '',
      table(
        ['HANDOFF', 'TASK', 'MOVES TO', 'SCORE'],
        p.workloads_to_move.map((m) => [m.handoff_id, m.task_id, m.to, String(m.routing_score)]),
      ),
    );
  } else lines.push('', 'no workload to move');
  if (p.workloads_pending.length > 0) {
    lines.push('', 'kept pending (no serving region can take them):');
    for (const w of p.workloads_pending)
      lines.push(`  ${w.handoff_id} (${w.task_id}): ${w.reasons.join('; ')}`);
  }
  lines.push('', `start it: cortex failover start ${started.failed_region}`);
  return lines.join('\n');
}

function verdictColor(verdict: string): 'green' | 'yellow' | 'red' {
  if (verdict === 'healthy') return 'green';
  if (verdict === 'suspect' || verdict === 'component_failure' || verdict === 'stale') return 'yellow';
  return 'red';
}

/** Prints the answer (or its error) and says whether it was a success. */
function answered(io: CliIo, answer: ApiAnswer, json: boolean, ok: readonly number[] = [200]): boolean {
  if (json) io.out(JSON.stringify(answer.body, null, 2));
  else if (!ok.includes(answer.status)) printApiError(io, answer);
  return ok.includes(answer.status);
}

function healthTable(regions: readonly HealthRegion[], style: Style): string {
  const observers = [...new Set(regions.flatMap((r) => Object.keys(r.observers ?? {})))].sort();
  return table(
    ['REGION', 'STATUS', 'HEALTH', 'ROLE', 'EPOCH', ...observers.map((o) => `SEEN BY ${o}`)],
    regions.map((r) => [
      r.region_id,
      paint(style, statusColor(r.status), r.status),
      paint(style, healthColor(r.health?.state), r.health?.state ?? '-'),
      r.role,
      String(r.epoch),
      ...observers.map((o) => {
        const view = r.observers?.[o];
        if (!view) return '-';
        const failures = view.consecutive_failures > 0 ? ` (${view.consecutive_failures}x)` : '';
        return paint(style, verdictColor(view.verdict), `${view.verdict}${failures}`);
      }),
    ]),
  );
}

export async function healthCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, common);
  const answer = await apiClient(values, io).call('GET', '/v1/regions');
  if (!answered(io, answer, values.json === true)) return 1;
  if (values.json) return 0;
  const { regions, observer } = answer.body as { regions: HealthRegion[]; observer: string };
  io.out(healthTable(regions, { color: io.color }));
  for (const r of regions) {
    if (r.health && r.health.state !== 'healthy')
      io.out(`  ${r.region_id} ${r.health.state}: ${r.health.action}`);
    for (const [by, view] of Object.entries(r.observers ?? {})) {
      if (view.verdict !== 'healthy' && view.reasons.length > 0) {
        io.out(`  ${r.region_id} seen by ${by}: ${view.reasons.join('; ')}`);
      }
    }
  }
  io.out(paint({ color: io.color }, 'dim', `as seen from ${observer}`));
  return 0;
}

function failoverReport(f: FailoverView, style: Style): string {
  const head = [
    `${paint(style, 'bold', f.failover_id)}  ${f.kind} of ${f.failed_region} -> ${f.target_region ?? '(target not chosen)'}`,
    `  status ${paint(style, f.status === 'completed' ? 'green' : f.status === 'running' ? 'yellow' : 'red', f.status)}, ${f.trigger}, started ${f.initiated_at}${f.completed_at ? `, ended ${f.completed_at}` : ''}`,
    `  reason: ${f.reason}`,
    `  workloads migrated ${f.workloads_migrated}, kept pending ${f.workloads_pending}` +
      (f.downtime_seconds === undefined ? '' : `, downtime ${f.downtime_seconds} s`) +
      (f.data_loss_window_seconds === undefined ? '' : `, data-loss window ${f.data_loss_window_seconds} s`),
  ];
  if (f.error) head.push(`  ${paint(style, 'red', f.error.name)}: ${f.error.message}`);
  const steps = table(
    ['PHASE', 'ACTION', 'OUTCOME', 'STARTED', 'ENDED', 'DETAIL'],
    f.steps.map((s) => [
      s.phase,
      s.action,
      paint(
        style,
        s.outcome === 'succeeded' ? 'green' : s.outcome === 'failed' ? 'red' : 'yellow',
        s.outcome,
      ),
      s.started_at.slice(11, 19),
      s.ended_at.slice(11, 19),
      s.detail,
    ]),
  );
  return `${head.join('\n')}\n\n${steps}`;
}

export async function failoverCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const style: Style = { color: io.color };
  switch (sub) {
    case 'start': {
      const { values, positionals } = parse(
        rest,
        {
          ...common,
          target: { type: 'string' },
          reason: { type: 'string' },
          failback: { type: 'boolean' },
          'dry-run': { type: 'boolean' },
        },
        1,
      );
      const region = positionals[0];
      if (!region) throw new UsageError('failover start needs the region to fail over');
      const body = {
        failed_region: region,
        reason: values.reason ?? `operator request from the cortex CLI`,
        ...(values.target ? { target_region: values.target } : {}),
        ...(values.failback ? { action: 'failback' } : {}),
        ...(values['dry-run'] ? { dry_run: true } : {}),
      };
      const answer = await apiClient(values, io).call('POST', '/v1/failovers', JSON.stringify(body));
      if (!answered(io, answer, values.json === true, [200, 202])) return 1;
      if (values.json) return 0;
      const started = answer.body as StartedFailover;
      if (started.dry_run) io.out(planReport(started, style));
      else
        io.out(
          `started ${started.failover_id} (${started.status}); follow it with: cortex failover status ${started.failover_id}`,
        );
      return 0;
    }
    case 'status': {
      const { values, positionals } = parse(rest, common, 1);
      const id = positionals[0];
      const path = id ? `/v1/failovers/${encodeURIComponent(id)}` : '/v1/failovers';
      const answer = await apiClient(values, io).call('GET', path);
      if (!answered(io, answer, values.json === true)) return 1;
      if (values.json) return 0;
      if (id) {
        io.out(failoverReport(answer.body as FailoverView, style));
      } else {
        const { failovers } = answer.body as { failovers: FailoverView[] };
        if (failovers.length === 0) io.out('no failovers recorded');
        else {
          io.out(
            table(
              ['FAILOVER', 'KIND', 'FAILED', 'TARGET', 'TRIGGER', 'STATUS', 'STARTED'],
              failovers.map((f) => [
                f.failover_id,
                f.kind,
                f.failed_region,
                f.target_region ?? '-',
                f.trigger,
                f.status,
                f.initiated_at,
              ]),
            ),
          );
        }
      }
      return 0;
    }
    case 'abort':
    case 'approve':
    case 'decline': {
      const { values, positionals } = parse(rest, common, 1);
      const id = positionals[0];
      if (!id) throw new UsageError(`failover ${sub} needs a failover id`);
      const answer = await apiClient(values, io).call(
        'POST',
        `/v1/failovers/${encodeURIComponent(id)}/${sub}`,
        '{}',
      );
      if (!answered(io, answer, values.json === true, [200, 202])) return 1;
      if (!values.json)
        io.out(`${sub}: ${id} -> ${(answer.body as { status?: string }).status ?? 'accepted'}`);
      return 0;
    }
    default:
      throw new UsageError(
        sub === undefined
          ? 'failover needs start, status, abort, approve or decline'
          : `unknown failover command "${sub}"`,
      );
  }
}

const FAULT_KINDS = ['down', 'errors', 'slow', 'partition', 'mcp_down'];

export async function faultCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      ...common,
      rate: { type: 'string' },
      'latency-ms': { type: 'string' },
      peers: { type: 'string' },
      servers: { type: 'string' },
    },
    2,
  );
  const [region, kind] = positionals;
  if (!region || !kind)
    throw new UsageError('fault needs a region and a kind (down, errors, slow, partition, mcp_down)');
  if (!FAULT_KINDS.includes(kind))
    throw new UsageError(`unknown fault kind "${kind}"; use ${FAULT_KINDS.join(', ')}`);
  const number = (name: string, raw: unknown) => {
    const value = Number(raw);
    if (raw === undefined) return undefined;
    if (!Number.isFinite(value)) throw new UsageError(`--${name} must be a number, got "${String(raw)}"`);
    return value;
  };
  const rate = number('rate', values.rate);
  const latency = number('latency-ms', values['latency-ms']);
  const body = {
    region,
    kind,
    ...(rate === undefined ? {} : { rate }),
    ...(latency === undefined ? {} : { latency_ms: latency }),
    ...(values.peers
      ? {
          peers: String(values.peers)
            .split(',')
            .filter((p) => p !== ''),
        }
      : {}),
    ...(values.servers
      ? {
          servers: String(values.servers)
            .split(',')
            .filter((s) => s !== ''),
        }
      : {}),
  };
  const answer = await apiClient(values, io).call('POST', '/v1/sim/faults', JSON.stringify(body));
  if (!answered(io, answer, values.json === true, [200, 201])) return 1;
  if (!values.json)
    io.out(
      `fault injected: ${region} ${kind}${body.peers ? ` (peers ${body.peers.join(', ')})` : ''}${
        body.servers ? ` (servers ${body.servers.join(', ')})` : ''
      }`,
    );
  return 0;
}

export async function healCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, common);
  const answer = await apiClient(values, io).call('DELETE', '/v1/sim/faults');
  if (!answered(io, answer, values.json === true)) return 1;
  if (!values.json) io.out('all faults healed');
  return 0;
}

/**
 * A live view: health matrix and the newest failover's steps, redrawn every interval. It keeps
 * polling through errors (an endpoint that stops answering mid-failover is the point of watching):
 * each failed poll prints its error line, and the client tries the next endpoint on its own.
 */
export async function watchCommand(
  args: readonly string[],
  io: CliIo,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<number> {
  const { values } = parse(args, {
    endpoint: { type: 'string' },
    interval: { type: 'string' },
    count: { type: 'string' },
  });
  const intervalMs = Number(values.interval ?? '2') * 1000;
  const count = values.count === undefined ? Number.POSITIVE_INFINITY : Number(values.count);
  if (!(intervalMs > 0))
    throw new UsageError(`--interval must be a positive number of seconds, got "${values.interval}"`);
  if (!((count >= 1 && Number.isInteger(count)) || count === Number.POSITIVE_INFINITY))
    throw new UsageError(`--count must be a whole number of at least 1, got "${values.count}"`);
  const client = apiClient(values, io, { quiet: true });
  const style: Style = { color: io.color };
  let stop = false;
  let answeredPolls = 0;
  const onSignal = () => {
    stop = true;
  };
  process.once('SIGINT', onSignal);
  try {
    for (let i = 0; i < count && !stop; i++) {
      const poll = await Promise.allSettled([
        client.call('GET', '/v1/regions'),
        client.call('GET', '/v1/failovers'),
      ]);
      if (io.color) io.out('\u001b[2J\u001b[H');
      const [regions, failovers] = poll.map((p) => (p.status === 'fulfilled' ? p.value : undefined));
      const who = regions ?? failovers;
      const by = who ? `answered by ${who.region ?? 'an unnamed region'} at ${who.endpoint}` : 'no answer';
      io.out(paint(style, 'bold', `cortex watch  ${new Date().toISOString()}  ${by}`));
      for (const p of poll) {
        if (p.status === 'rejected') {
          if (!(p.reason instanceof ApiUnreachableError)) throw p.reason;
          io.out(paint(style, 'red', `error: ${p.reason.message}`));
          break;
        }
      }
      if (regions) {
        answeredPolls++;
        if (regions.status === 200)
          io.out(healthTable((regions.body as { regions: HealthRegion[] }).regions, style));
        else printApiErrorTo(io, regions);
      }
      if (failovers?.status === 200) {
        const newest = (failovers.body as { failovers: FailoverView[] }).failovers[0];
        io.out('');
        io.out(newest ? failoverReport(newest, style) : 'no failovers recorded');
      }
      if (i + 1 < count && !stop) await sleep(intervalMs);
    }
  } finally {
    process.off('SIGINT', onSignal);
  }
  return answeredPolls > 0 ? 0 : 1;
}

/** An API refusal inside the live view: on standard output, between the frames it belongs to. */
function printApiErrorTo(io: CliIo, answer: ApiAnswer): void {
  printApiError({ ...io, err: (line) => io.out(paint({ color: io.color }, 'red', line)) }, answer);
}
