/**
 * `cortex doctor`: the post-deploy check. It asks every region itself (no fallback to another region,
 * which would hide the one that is wrong) for `GET /health` (open, as Route 53 sees it) and for
 * `GET /v1/regions` (IAM-authorized on AWS: signed), and says per region what is wrong in plain
 * words: unreachable, not authorized (and which permission), not serving (fenced, catching up,
 * failed), observers that disagree on a region's status, role or epoch, clocks apart. Exit 1 when
 * anything is wrong.
 */
import type { Topology } from '../core/topology/types.ts';
import { planDeployment } from '../infra/deployment-plan.ts';
import { withGeneration } from '../infra/generation.ts';
import { loadTopologyFile } from '../topology/load.ts';
import {
  type ApiAnswer,
  ApiClient,
  ApiUnreachableError,
  DEFAULT_ENDPOINT,
  EndpointError,
  isLoopback,
  parseEndpoints,
  regionOfHost,
  SIGNING_MODES,
  type SigningMode,
} from './client.ts';
import { type CliIo, parse, requireReadable, UsageError } from './common.ts';
import { paint, type Style, table } from './format.ts';

/** Regions' clocks may differ this much (seconds) before doctor calls it skew. */
const DEFAULT_MAX_SKEW_SECONDS = 5;

/**
 * This machine against a region's `Date` header (1 s resolution): API Gateway refuses SigV4 requests
 * signed more than 5 minutes off its clock; a minute is worth saying long before that.
 */
const OPERATOR_SKEW_SECONDS = 60;

interface Target {
  /** The region this endpoint should be, when known before asking (local layout or host name). */
  readonly region?: string;
  readonly endpoint: string;
}

interface RegionView {
  readonly region_id: string;
  readonly status: string;
  readonly role: string;
  readonly epoch: number;
  readonly serving?: boolean;
  readonly health?: {
    readonly state: string;
    readonly reasons?: readonly string[];
    readonly action?: string;
  };
}

interface Checked {
  readonly target: Target;
  /** The region as it answered (header or body), else the one expected. */
  readonly region: string;
  readonly problems: string[];
  readonly notes: string[];
  health?: { status: string; serving: boolean; epoch: number; checked_at?: string; reason?: string };
  /** checked_at minus this machine's clock at the request's midpoint, in ms. */
  offsetMs?: number;
  /** The Date header minus this machine's clock, in ms. */
  dateOffsetMs?: number;
  views?: readonly RegionView[];
}

interface DoctorReport {
  readonly ok: boolean;
  readonly regions: readonly {
    readonly region: string;
    readonly endpoint: string;
    readonly health: string;
    readonly epoch?: number;
    readonly clock_offset_ms?: number;
    readonly problems: readonly string[];
    readonly notes: readonly string[];
  }[];
  /** Problems that belong to no single endpoint (disagreements, clocks, missing regions). */
  readonly problems: readonly string[];
}

/** Reads one SSM parameter in one region (`--ssm`); injected in tests. */
export type ParameterReader = (region: string, name: string) => Promise<string>;

/** GetParameter with the SDK's default credentials, loaded only for `--ssm`. */
export const readParameter: ParameterReader = async (region, name) => {
  const { SSMClient, GetParameterCommand } = await import('@aws-sdk/client-ssm');
  const client = new SSMClient({ region });
  try {
    const answer = await client.send(new GetParameterCommand({ Name: name }));
    const value = answer.Parameter?.Value;
    if (!value) throw new Error(`${name} has no value`);
    return value;
  } finally {
    client.destroy();
  }
};

/** A region doctor could not even find an endpoint for. */
interface Unresolved {
  readonly region: string;
  readonly problem: string;
}

export async function doctorCommand(
  args: readonly string[],
  io: CliIo,
  options: { readonly readParameter?: ParameterReader } = {},
): Promise<number> {
  const { values } = parse(args, {
    ...DEPLOYED_API_OPTIONS,
    'max-skew': { type: 'string' },
    json: { type: 'boolean' },
  });
  const sign = checkDeployedApiOptions(values);
  const maxSkew = values['max-skew'] === undefined ? DEFAULT_MAX_SKEW_SECONDS : Number(values['max-skew']);
  if (!(Number.isFinite(maxSkew) && maxSkew > 0)) {
    throw new UsageError(`--max-skew must be a number of seconds above 0, got "${values['max-skew']}"`);
  }
  const { endpoints, origin, unresolved } = await endpointsFor(
    values,
    io,
    options.readParameter ?? readParameter,
  );
  if (endpoints.length === 0) {
    // No region published its URL: nothing to ask; say which and why.
    const report: DoctorReport = {
      ok: false,
      regions: unresolved.map((u) => ({
        region: u.region,
        endpoint: '-',
        health: '-',
        problems: [u.problem],
        notes: [],
      })),
      problems: [],
    };
    if (values.json) io.out(JSON.stringify(report, null, 2));
    else printReport(report, io);
    return 1;
  }
  const signingRegion =
    (values.region as string | undefined) ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
  const client = new ApiClient({
    endpoints,
    origin,
    signing: sign,
    ...(signingRegion ? { signingRegion } : {}),
    timeoutMs: 10_000,
  });
  const report = await diagnose(client, maxSkew, unresolved);
  if (values.json) io.out(JSON.stringify(report, null, 2));
  else printReport(report, io);
  return report.ok ? 0 : 1;
}

/** The options that find a deployed plane's regional APIs and sign for them (doctor, dashboard). */
export const DEPLOYED_API_OPTIONS = {
  endpoint: { type: 'string' },
  domain: { type: 'string' },
  ssm: { type: 'boolean' },
  generation: { type: 'string' },
  topology: { type: 'string' },
  sign: { type: 'string' },
  region: { type: 'string' },
} as const;

/** `--sign` known and at most one of `--endpoint`, `--domain`, `--ssm`; answers the signing mode. */
export function checkDeployedApiOptions(values: Readonly<Record<string, unknown>>): SigningMode {
  const sign = (values.sign ?? 'auto') as SigningMode;
  if (!SIGNING_MODES.includes(sign)) {
    throw new UsageError(`--sign must be one of ${SIGNING_MODES.join(', ')}, got "${String(values.sign)}"`);
  }
  const sources = [values.endpoint, values.domain, values.ssm].filter((v) => v !== undefined && v !== false);
  if (sources.length > 1)
    throw new UsageError('--endpoint, --domain and --ssm each name the endpoints: give one');
  return sign;
}

/**
 * The endpoints to check: `--domain` (each topology region's own name, `<region>.api.<domain>`, as
 * the regional DNS adds it), `--ssm` (the URL each regional stack publishes in its region,
 * `/<name>[-<generation>]/api-url/<region>`), else `--endpoint`, `$CORTEX_ENDPOINT`, the local gateway.
 */
export async function endpointsFor(
  values: Record<string, unknown>,
  io: CliIo,
  read: ParameterReader,
): Promise<{ endpoints: string[]; origin: string; unresolved: Unresolved[] }> {
  try {
    if (values.domain !== undefined) {
      const domain = String(values.domain).replace(/^\.+|\.+$/g, '');
      if (!/^[a-z0-9.-]+\.[a-z]{2,}$/i.test(domain))
        throw new UsageError(`--domain "${values.domain}" is not a domain name`);
      const topology = topologyOf(values);
      return {
        endpoints: topology.regions.map((r) => `https://${r.region_id}.api.${domain}`),
        origin: '--domain',
        unresolved: [],
      };
    }
    if (values.ssm === true) {
      const plan = planDeployment(
        withGeneration(topologyOf(values), values.generation as string | undefined),
      );
      const found = await Promise.all(
        plan.regionIds.map(async (region) => {
          const name = `${plan.apiUrlParameterPrefix}${region}`;
          try {
            return { region, url: await read(region, name) };
          } catch (error) {
            const why =
              (error as Error).name === 'ParameterNotFound' ? 'not found' : (error as Error).message;
            return {
              region,
              problem: `no API URL: SSM parameter ${name} in ${region}: ${why} (is CortexRegion-${region} deployed${values.generation ? '' : ', or was it deployed with -c generation'}?)`,
            };
          }
        }),
      );
      const urls = found.flatMap((f) => ('url' in f ? [f.url] : []));
      return {
        endpoints: urls.length > 0 ? parseEndpoints(urls.join(','), '--ssm') : [],
        origin: '--ssm',
        unresolved: found.flatMap((f) =>
          'problem' in f && f.problem !== undefined ? [{ region: f.region, problem: f.problem }] : [],
        ),
      };
    }
    if (values.generation !== undefined) throw new UsageError('--generation goes with --ssm');
    const flag = values.endpoint as string | undefined;
    const env = io.env.CORTEX_ENDPOINT;
    if (flag !== undefined)
      return { endpoints: parseEndpoints(flag, '--endpoint'), origin: '--endpoint', unresolved: [] };
    if (env !== undefined && env !== '')
      return { endpoints: parseEndpoints(env, 'CORTEX_ENDPOINT'), origin: 'CORTEX_ENDPOINT', unresolved: [] };
    return {
      endpoints: parseEndpoints(DEFAULT_ENDPOINT, '--endpoint'),
      origin: '--endpoint',
      unresolved: [],
    };
  } catch (error) {
    if (error instanceof EndpointError) throw new UsageError(error.message);
    throw error;
  }
}

function topologyOf(values: Record<string, unknown>): Topology {
  const file = values.topology as string | undefined;
  if (file !== undefined) requireReadable(file, '--topology');
  return loadTopologyFile(file);
}

/** Checks every region the endpoints lead to; pure reporting, no output. */
async function diagnose(
  client: ApiClient,
  maxSkewSeconds = DEFAULT_MAX_SKEW_SECONDS,
  unresolved: readonly Unresolved[] = [],
): Promise<DoctorReport> {
  // The local gateway is not a region: check each region's own endpoint it lists instead.
  const local = client.endpoints.some(isLoopback) ? await client.regionEndpoints() : [];
  const targets: Target[] =
    local.length > 0
      ? local.map((r) => ({ region: r.region, endpoint: r.url }))
      : client.endpoints.map((endpoint) => {
          const region = regionOfHost(endpoint);
          return region ? { region, endpoint } : { endpoint };
        });
  const checked = await Promise.all(targets.map((target) => check(client, target)));
  for (const u of unresolved) {
    checked.push({
      target: { region: u.region, endpoint: '-' },
      region: u.region,
      problems: [u.problem],
      notes: [],
    });
  }
  const problems = [...agreementProblems(checked), ...clockProblems(checked, maxSkewSeconds)];

  // Every region the plane lists must have been asked itself.
  const listed = new Set(checked.flatMap((c) => (c.views ?? []).map((v) => v.region_id)));
  const asked = new Set(checked.map((c) => c.region));
  for (const region of listed) {
    if (!asked.has(region))
      problems.push(
        `${region}: not checked: no endpoint given for it (add its API URL to --endpoint, or use --domain)`,
      );
  }
  const ok = problems.length === 0 && checked.every((c) => c.problems.length === 0);
  return {
    ok,
    regions: checked.map((c) => ({
      region: c.region,
      endpoint: c.target.endpoint,
      health: healthWord(c),
      ...(c.health ? { epoch: c.health.epoch } : {}),
      ...(c.offsetMs === undefined ? {} : { clock_offset_ms: Math.round(c.offsetMs) }),
      problems: c.problems,
      notes: c.notes,
    })),
    problems,
  };
}

async function check(client: ApiClient, target: Target): Promise<Checked> {
  const result: Checked = {
    target,
    region: target.region ?? target.endpoint,
    problems: [],
    notes: [],
  };
  const started = Date.now();
  let health: ApiAnswer;
  try {
    health = await client.callEndpoint(target.endpoint, 'GET', '/health');
  } catch (error) {
    if (!(error instanceof ApiUnreachableError)) throw error;
    result.problems.push(`unreachable: ${plainly(error.message)} (GET ${target.endpoint}/health)`);
    return result;
  }
  const midpoint = (started + Date.now()) / 2;
  const answeredAs = health.region ?? (health.body as { region?: unknown } | null)?.region;
  if (typeof answeredAs === 'string') {
    if (target.region && answeredAs !== target.region)
      result.problems.push(`answers as ${answeredAs}, not ${target.region}: is the endpoint list right?`);
    (result as { region: string }).region = answeredAs;
  }
  if (health.date) {
    const date = Date.parse(health.date);
    if (Number.isFinite(date)) result.dateOffsetMs = date - midpoint;
  }
  const body = health.body as Checked['health'] | null;
  if ((health.status === 200 || health.status === 503) && body && typeof body.status === 'string') {
    result.health = body;
    const at = body.checked_at ? Date.parse(body.checked_at) : Number.NaN;
    if (Number.isFinite(at)) result.offsetMs = at - midpoint;
    if (health.status === 503 || !body.serving) {
      result.problems.push(`not serving (GET /health 503): ${notServingWhy(body)}`);
    }
  } else {
    result.problems.push(`GET /health answered HTTP ${health.status}${errorText(health.body)}`);
  }

  let regions: ApiAnswer;
  try {
    regions = await client.callEndpoint(target.endpoint, 'GET', '/v1/regions');
  } catch (error) {
    if (!(error instanceof ApiUnreachableError)) throw error;
    result.problems.push(`GET /v1/regions got no answer: ${error.message}`);
    return result;
  }
  if (regions.status === 200) {
    const views = (regions.body as { regions?: unknown } | null)?.regions;
    if (Array.isArray(views)) result.views = views as RegionView[];
    else result.problems.push('GET /v1/regions answered 200 without a regions list');
    for (const view of result.views ?? []) {
      const state = view.health?.state;
      if (state === 'unhealthy' || state === 'unreachable') {
        const why = view.health?.reasons?.length ? `: ${view.health.reasons.join('; ')}` : '';
        result.notes.push(`sees ${view.region_id} ${state}${why}`);
      } else if (state === 'saturated') {
        result.notes.push(`sees ${view.region_id} saturated (load, not failure: it gets no new work)`);
      }
    }
  } else if (regions.status === 401 || regions.status === 403) {
    result.problems.push(notAuthorized(regions, result.region));
  } else {
    result.problems.push(`GET /v1/regions answered HTTP ${regions.status}${errorText(regions.body)}`);
  }
  return result;
}

/** A connection failure's code in words; the code stays, for searching. */
function plainly(failure: string): string {
  if (/^(ENOTFOUND|EAI_AGAIN)$/.test(failure)) return `its host name does not resolve (${failure})`;
  if (/^(EHOSTUNREACH|ENETUNREACH)$/.test(failure)) return `no network route to it (${failure})`;
  if (/CERT|TLS|SSL/.test(failure)) return `its TLS certificate is not valid for its name (${failure})`;
  return failure;
}

function notServingWhy(body: NonNullable<Checked['health']>): string {
  if (body.reason) return body.reason;
  if (body.status === 'fenced')
    return 'fenced: it cannot see a majority of the other regions (a partition, or its peers are down)';
  if (body.status === 'failed')
    return 'failed over: an operator fails it back (cortex failover start <region> --failback)';
  if (body.status === 'draining') return 'draining: it takes no new work';
  if (body.status === 'shutdown')
    return 'shut down by an operator (emergency shutdown): cortex region restore <region> --confirm <region> brings it back';
  return `status ${body.status}`;
}

/** What a 401/403 from API Gateway (IAM authorization) means, and the permission it wants. */
function notAuthorized(answer: ApiAnswer, region: string): string {
  const message = String(
    (answer.body as { message?: unknown; Message?: unknown } | null)?.message ??
      (answer.body as { Message?: unknown } | null)?.Message ??
      errorText(answer.body),
  );
  const host = new URL(answer.endpoint).hostname;
  const apiId = /^([a-z0-9]+)\.execute-api\./.exec(host)?.[1] ?? '<api-id>';
  const resource = `arn:aws:execute-api:${regionOfHost(answer.endpoint) ?? region}:<account>:${apiId}/*/GET/v1/regions`;
  const head = `not authorized (GET /v1/regions HTTP ${answer.status})`;
  if (answer.unsigned)
    return `${head}: the request went unsigned: ${answer.unsigned}; set AWS_PROFILE or credentials`;
  if (/missing authentication token/i.test(message))
    return `${head}: the request was not signed, or the route does not exist (cortex doctor --sign always)`;
  if (/signature expired|signature not yet current/i.test(message))
    return `${head}: clock skew: this machine's clock is over 5 minutes off AWS's (${message})`;
  if (/scoped to a valid region|credential should be scoped/i.test(message))
    return `${head}: signed for the wrong region: give --region <the API's region> (${message})`;
  if (/security token.*(invalid|expired)|expired token/i.test(message))
    return `${head}: the credentials are invalid or expired: refresh them (${message})`;
  if (/not authorized to perform/i.test(message) || answer.status === 403)
    return `${head}: the caller needs execute-api:Invoke on ${resource} (${message || 'no message'})`;
  return `${head}: ${message}`;
}

/** Observers that see a region differently: epoch, role or status. */
function agreementProblems(checked: readonly Checked[]): string[] {
  const problems: string[] = [];
  const byRegion = new Map<string, { observer: string; view: RegionView }[]>();
  for (const c of checked) {
    for (const view of c.views ?? []) {
      const list = byRegion.get(view.region_id) ?? [];
      list.push({ observer: c.region, view });
      byRegion.set(view.region_id, list);
    }
  }
  for (const [region, seen] of byRegion) {
    for (const field of ['epoch', 'role', 'status'] as const) {
      const values = new Set(seen.map((s) => String(s.view[field])));
      if (values.size <= 1) continue;
      const detail = seen.map((s) => `${s.observer} sees ${s.view[field]}`).join(', ');
      const why =
        field === 'epoch'
          ? 'a replica is behind (replication lag) or a failover is in flight'
          : field === 'role'
            ? 'the regions disagree on which region is primary'
            : 'a status change has not reached every replica';
      problems.push(`regions disagree on ${region}'s ${field}: ${detail} (${why})`);
    }
  }
  return problems;
}

function clockProblems(checked: readonly Checked[], maxSkewSeconds: number): string[] {
  const problems: string[] = [];
  const offsets = checked.filter((c) => c.offsetMs !== undefined) as (Checked & { offsetMs: number })[];
  if (offsets.length > 1) {
    const min = Math.min(...offsets.map((c) => c.offsetMs));
    const max = Math.max(...offsets.map((c) => c.offsetMs));
    if (max - min > maxSkewSeconds * 1000) {
      const list = offsets.map((c) => `${c.region} ${signed(c.offsetMs)}`).join(', ');
      problems.push(
        `clock skew: the regions' clocks are ${((max - min) / 1000).toFixed(1)} s apart (more than ${maxSkewSeconds} s; heartbeats and epochs compare them): ${list} against this machine`,
      );
    }
  }
  for (const c of checked) {
    if (c.dateOffsetMs !== undefined && Math.abs(c.dateOffsetMs) > OPERATOR_SKEW_SECONDS * 1000) {
      problems.push(
        `clock skew: this machine's clock is ${signed(-c.dateOffsetMs)} against ${c.region}'s (signed requests fail beyond 5 minutes): sync it (NTP)`,
      );
    }
  }
  return problems;
}

function signed(ms: number): string {
  return `${ms >= 0 ? '+' : '-'}${(Math.abs(ms) / 1000).toFixed(1)} s`;
}

function healthWord(c: Checked): string {
  if (!c.health) return c.problems.some((p) => p.startsWith('unreachable')) ? 'unreachable' : '-';
  if (c.health.serving) return 'serving';
  // A status that serves but a replica behind: the reason's head ("catching up") says more.
  return c.health.reason ? (c.health.reason.split(':')[0] ?? c.health.status) : c.health.status;
}

function errorText(body: unknown): string {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (error && typeof error.code === 'string') return ` ${error.code}: ${String(error.message ?? '')}`;
  if (typeof body === 'string') return body === '' ? '' : `: ${body.slice(0, 200)}`;
  const message = (body as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? `: ${message}` : '';
}

function printReport(report: DoctorReport, io: CliIo): void {
  const style: Style = { color: io.color };
  io.out(
    table(
      ['REGION', 'ENDPOINT', 'HEALTH', 'EPOCH', 'CLOCK', 'CHECK'],
      report.regions.map((r) => [
        r.region,
        r.endpoint,
        r.health,
        r.epoch === undefined ? '-' : String(r.epoch),
        r.clock_offset_ms === undefined ? '-' : signed(r.clock_offset_ms),
        r.problems.length === 0 ? paint(style, 'green', 'ok') : paint(style, 'red', 'PROBLEM'),
      ]),
    ),
  );
  const lines = [
    ...report.regions.flatMap((r) => r.problems.map((p) => `${r.region}: ${p}`)),
    ...report.problems,
  ];
  const notes = report.regions.flatMap((r) => r.notes.map((n) => `${r.region}: ${n}`));
  for (const note of notes) io.out(paint(style, 'dim', `note: ${note}`));
  if (lines.length === 0) {
    io.out(
      `cortex doctor: ${report.regions.length} region(s) reachable, serving, authorized and in agreement`,
    );
    return;
  }
  io.err('problems:');
  for (const line of lines) io.err(`  ${line}`);
  io.err(`cortex doctor: ${lines.length} problem(s)`);
}
