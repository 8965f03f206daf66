/**
 * `cortex handoffs list|show|accept`: the handoffs of routed tasks as a region's replica holds them
 * (`GET /v1/handoffs`, `GET /v1/handoffs/{id}`) and a worker's accept (`POST /v1/handoffs/{id}/accept`),
 * which only the handoff's target region takes: the CLI sends it there. Tables by default, `--json`
 * prints the API's answer as it is.
 */
import type { ApiClient } from './client.ts';
import {
  type ApiAnswer,
  apiClient,
  type CliIo,
  integerOption,
  parse,
  printApiError,
  UsageError,
} from './common.ts';
import { decisionLines, paint, type Style, table } from './format.ts';

/** The statuses `GET /v1/handoffs?status=` takes (lib/core/state/records.ts HandoffStatus). */
export const HANDOFF_STATUSES = ['pending', 'accepted', 'completed', 'failed', 'redirected'] as const;

/** The API's page size bounds (lib/app/handoffs/lifecycle.ts HANDOFF_LIST_MAX). */
const LIMIT_MAX = 100;

interface Reservation {
  region: string;
  hour: string;
  workers: number;
  tokens: number;
  compute_units: number;
}

interface Interruption {
  region: string;
  accepted_at?: string;
  accepted_by?: string;
  at: string;
  reason: string;
}

interface HandoffView {
  handoff_id: string;
  task_id: string;
  source_region: string;
  target_region: string;
  routing_score: number;
  status: string;
  created_at: string;
  redirected_from?: string;
  owner_region?: string;
  claimed_in?: string;
  claim_id?: string;
  accepted_at?: string;
  accepted_by?: string;
  held_reason?: string;
  interruptions?: Interruption[];
  task: { priority?: string; requirements?: Record<string, unknown> } & Record<string, unknown>;
  decision?: {
    candidates: {
      region: string;
      score: number;
      latency_ms?: number;
      factors: { capacity: number; latency: number; compliance: number; cost: number };
    }[];
    excluded: { region: string; reasons: string[] }[];
  };
  reservation?: Reservation;
  settlement?: {
    outcome: string;
    at: string;
    tokens_used: number;
    released: { workers: number; compute_units: number; tokens: number };
    reason?: string;
  };
}

interface HandoffPage {
  handoffs: HandoffView[];
  next?: string;
}

const common = { endpoint: { type: 'string' }, json: { type: 'boolean' } } as const;

export async function handoffsCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'list':
      return listCommand(rest, io);
    case 'show': {
      const { values, positionals } = parse(rest, common, 1);
      const id = requireId(positionals[0], 'show');
      const client = apiClient(values, io);
      const answer = await client.call('GET', pathOf(id));
      if (values.json) io.out(JSON.stringify(answer.body, null, 2));
      if (answer.status !== 200) {
        if (!values.json) printApiError(io, answer);
        return 1;
      }
      if (!values.json) {
        const now = await regionNow(values, io);
        io.out(handoffReport(answer.body as HandoffView, { color: io.color }, now));
      }
      return 0;
    }
    case 'accept':
      return acceptCommand(rest, io);
    default:
      throw new UsageError(
        sub === undefined ? 'handoffs needs list, show or accept' : `unknown handoffs command "${sub}"`,
      );
  }
}

function requireId(id: string | undefined, command: string): string {
  if (id === undefined || id === '') throw new UsageError(`handoffs ${command} needs a handoff id`);
  return id;
}

function pathOf(id: string): string {
  return `/v1/handoffs/${encodeURIComponent(id)}`;
}

async function listCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, {
    ...common,
    region: { type: 'string' },
    status: { type: 'string' },
    after: { type: 'string' },
    limit: { type: 'string' },
    all: { type: 'boolean' },
  });
  const status = values.status as string | undefined;
  if (status !== undefined && !(HANDOFF_STATUSES as readonly string[]).includes(status)) {
    throw new UsageError(`--status must be one of ${HANDOFF_STATUSES.join(', ')}, got "${status}"`);
  }
  const limit = integerOption('limit', values.limit as string | undefined, 1, LIMIT_MAX);
  const after = values.after as string | undefined;
  if (after === '') throw new UsageError('--after needs the cursor the previous page printed');
  const region = values.region as string | undefined;
  if (region === '') throw new UsageError('--region needs a region id, e.g. us-east-1');
  const client = apiClient(values, io);
  const query = (cursor: string | undefined) => {
    const params = new URLSearchParams({
      ...(region === undefined ? {} : { region }),
      ...(status === undefined ? {} : { status }),
      ...(cursor === undefined ? {} : { after: cursor }),
      ...(limit === undefined ? {} : { limit: String(limit) }),
    });
    return `/v1/handoffs${params.size > 0 ? `?${params}` : ''}`;
  };

  const handoffs: HandoffView[] = [];
  let cursor = after;
  let answer: ApiAnswer;
  let next: string | undefined;
  for (;;) {
    answer = await client.call('GET', query(cursor));
    if (answer.status !== 200) {
      if (values.json) io.out(JSON.stringify(answer.body, null, 2));
      else printApiError(io, answer);
      return 1;
    }
    const page = answer.body as HandoffPage;
    handoffs.push(...page.handoffs);
    next = page.next;
    // A cursor that does not move would page forever: stop and say so.
    if (!values.all || next === undefined) break;
    if (next === cursor) {
      io.err(`cortex: the listing did not move past ${next}; stopping after ${handoffs.length} handoff(s)`);
      return 1;
    }
    cursor = next;
  }
  if (values.json) {
    io.out(JSON.stringify(values.all ? { handoffs } : answer.body, null, 2));
    return 0;
  }
  const style: Style = { color: io.color };
  const now = handoffs.length > 0 ? await regionNow(values, io) : undefined;
  const filters = [
    ...(region === undefined ? [] : [`to ${region}`]),
    ...(status === undefined ? [] : [status]),
  ].join(', ');
  if (handoffs.length === 0)
    io.out(`no handoffs${filters ? ` (${filters})` : ''}${after ? ' after the cursor' : ''}`);
  else {
    io.out(
      table(
        ['HANDOFF', 'TASK', 'STATUS', 'TARGET', 'FROM', 'AGE', 'REASON'],
        handoffs.map((h) => [
          h.handoff_id,
          h.task_id,
          paint(style, statusColor(h.status), h.status),
          h.target_region,
          h.source_region,
          now === undefined ? '-' : ageOf(h.created_at, now),
          clip(reasonOf(h), 60),
        ]),
      ),
    );
  }
  const seen = answer.region ? ` as seen from ${answer.region}` : '';
  const more = next === undefined || values.all ? '' : `; more: --after ${next}`;
  io.out(paint(style, 'dim', `${handoffs.length} handoff(s)${filters ? ` (${filters})` : ''}${seen}${more}`));
  return 0;
}

async function acceptCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...common, worker: { type: 'string' } }, 1);
  const id = requireId(positionals[0], 'accept');
  const worker = values.worker as string | undefined;
  if (worker === '') throw new UsageError('--worker needs a worker name, e.g. worker-7');
  const body = JSON.stringify(worker === undefined ? {} : { worker });
  const client = apiClient(values, io);
  let answer = await client.call('POST', `${pathOf(id)}/accept`, body);
  let target: string | undefined;
  if (answer.status === 409 && errorCode(answer) === 'HANDOFF_ELSEWHERE') {
    // Only the target region's replica takes the accept (one writer per handoff): ask it there.
    target = await targetOf(client, id);
    const there = target === undefined ? undefined : await client.endpointOf(target);
    if (there !== undefined && there !== answer.endpoint) {
      io.err(`cortex: ${id} runs in ${target}: asking its endpoint ${there}`);
      answer = await apiClient({ endpoint: there }, io).call('POST', `${pathOf(id)}/accept`, body);
    }
  }
  if (values.json) io.out(JSON.stringify(answer.body, null, 2));
  if (answer.status !== 200) {
    if (!values.json) {
      printApiError(io, answer);
      if (errorCode(answer) === 'HANDOFF_ELSEWHERE' && target !== undefined) {
        io.err(`its target region is ${target}: give that region's API with --endpoint`);
      }
    }
    return 1;
  }
  if (!values.json) {
    const h = answer.body as HandoffView;
    io.out(
      `${paint({ color: io.color }, 'bold', h.handoff_id)} accepted in ${h.target_region} by ${
        h.accepted_by ?? 'an unnamed worker'
      } at ${h.accepted_at ?? '-'} (task ${h.task_id})`,
    );
  }
  return 0;
}

async function targetOf(client: ApiClient, id: string): Promise<string | undefined> {
  const shown = await client.call('GET', pathOf(id));
  if (shown.status !== 200) return undefined;
  const target = (shown.body as { target_region?: unknown }).target_region;
  return typeof target === 'string' ? target : undefined;
}

function errorCode(answer: ApiAnswer): string | undefined {
  return (answer.body as { error?: { code?: string } } | null)?.error?.code;
}

/**
 * The answering region's clock (`GET /api/v1/ping`), so ages read right when the local plane runs
 * simulated time faster (`--speed`); undefined when it does not answer.
 */
async function regionNow(values: Record<string, unknown>, io: CliIo): Promise<number | undefined> {
  try {
    const ping = await apiClient(values, io, { quiet: true }).call('GET', '/api/v1/ping');
    const time = (ping.body as { time?: unknown } | null)?.time;
    const at = typeof time === 'string' ? Date.parse(time) : Number.NaN;
    return ping.status === 200 && Number.isFinite(at) ? at : undefined;
  } catch {
    return undefined;
  }
}

function statusColor(status: string): 'green' | 'yellow' | 'red' | 'bold' {
  if (status === 'completed') return 'green';
  if (status === 'failed') return 'red';
  if (status === 'accepted') return 'bold';
  return 'yellow';
}

/** `45s`, `12m`, `5h`, `3d`: how long ago `iso` was at `now`. */
export function ageOf(iso: string, now: number): string {
  const seconds = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (!Number.isFinite(seconds)) return '-';
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 120 * 60) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 48 * 3600) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

/** Why the handoff is where it is, or how it ended: held, settled with a reason, interrupted, moved. */
function reasonOf(h: HandoffView): string {
  const last = h.interruptions?.[h.interruptions.length - 1];
  const parts = [
    ...(h.held_reason ? [h.held_reason] : []),
    ...(h.settlement?.reason ? [h.settlement.reason] : []),
    ...(last && last.region === h.redirected_from
      ? [`interrupted in ${last.region}`]
      : h.redirected_from
        ? [`redirected from ${h.redirected_from}`]
        : []),
  ];
  return parts.length > 0 ? parts.join('; ') : '-';
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

function amounts(r: { workers: number; compute_units: number; tokens: number }): string {
  return `${r.workers} worker(s), ${r.compute_units} compute unit(s), ${r.tokens} token(s)`;
}

/** One handoff, readably: what it is, where it runs, its history and the decision that placed it. */
function handoffReport(h: HandoffView, style: Style, now?: number): string {
  const age = now === undefined ? '' : `, ${ageOf(h.created_at, now)} ago`;
  const lines = [
    `${paint(style, 'bold', h.handoff_id)}  ${paint(style, statusColor(h.status), h.status)} in ${h.target_region}`,
    `  task ${h.task_id}${h.task.priority ? ` (priority ${h.task.priority})` : ''}, routed from ${h.source_region} at ${h.created_at}${age}; score ${h.routing_score}`,
  ];
  if (h.owner_region || h.claimed_in) {
    lines.push(
      `  owner ${h.owner_region ?? '-'}; claimed in ${h.claimed_in ?? '-'}${h.claim_id ? ` (claim ${h.claim_id})` : ''}`,
    );
  }
  if (h.reservation) {
    const r = h.reservation;
    lines.push(`  reservation on ${r.region} for hour ${r.hour}: ${amounts(r)}`);
  }
  if (h.held_reason) lines.push(`  ${paint(style, 'yellow', 'held')}: ${h.held_reason}`);
  const requirements = h.task.requirements;
  if (requirements && Object.keys(requirements).length > 0) {
    lines.push(`  requirements ${JSON.stringify(requirements)}`);
  }

  lines.push('', 'history:');
  const history: [string, string][] = [[h.created_at, `routed from ${h.source_region}: pending`]];
  for (const i of h.interruptions ?? []) {
    if (i.accepted_at || i.accepted_by) {
      history.push([
        i.accepted_at ?? '-',
        `accepted in ${i.region} by ${i.accepted_by ?? 'an unnamed worker'}`,
      ]);
    }
    history.push([i.at, `interrupted in ${i.region} and moved: ${i.reason}`]);
  }
  const lastInterruption = h.interruptions?.[h.interruptions.length - 1];
  if (h.redirected_from && lastInterruption?.region !== h.redirected_from) {
    // A redirect's time is not recorded on the handoff (the failover's steps have it).
    history.push([
      '-',
      `redirected from ${h.redirected_from} to ${h.target_region} (score ${h.routing_score})`,
    ]);
  } else if (lastInterruption) {
    history.push(['-', `now in ${h.target_region} (score ${h.routing_score})`]);
  }
  if (h.accepted_at || h.accepted_by) {
    history.push([
      h.accepted_at ?? '-',
      `accepted in ${h.target_region} by ${h.accepted_by ?? 'an unnamed worker'}`,
    ]);
  }
  if (h.settlement) {
    const s = h.settlement;
    history.push([
      s.at,
      `${s.outcome}: ${s.tokens_used} token(s) used; released ${amounts(s.released)}${s.reason ? `; ${s.reason}` : ''}`,
    ]);
  }
  const width = Math.max(...history.map(([at]) => at.length));
  for (const [at, what] of history) lines.push(`  ${at.padEnd(width)}  ${what}`);

  if (h.decision) lines.push(...decisionLines(h.decision));
  return lines.join('\n');
}
