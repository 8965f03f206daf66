/**
 * `cortex mcp servers [--region <r>] [--capability <c>]` (GET /v1/mcp/servers) and `cortex mcp
 * discover <capability> [--region <r>] [--data-classification <c>] [--min-version <v>]`
 * (GET /v1/mcp/discover): the MCP registry with each server's live state, and the server an agent
 * should use, with every server passed over and why. Thin clients of the HTTP API; `--json` prints
 * the answer as is.
 */
import { API_OPTIONS, apiClient, type CliIo, parse, printApiError, UsageError } from './common.ts';
import { paint, type Style, table } from './format.ts';

interface ServerView {
  region: string;
  server: string;
  type: string;
  scope: string;
  capabilities: string[];
  endpoint: string;
  version: string;
  failover: string;
  status: string;
  reason?: string;
  serving_for?: string[];
  failed_over_to?: string;
  data_residency?: string;
  compliance_mode?: string;
  live: {
    serving: boolean;
    reasons: string[];
    health?: 'healthy' | 'unhealthy' | 'unknown';
    unhealthy_by?: { observer: string; error?: string }[];
    observed_by?: string[];
  };
}

interface Discovered {
  server: ServerView;
  basis: string;
  latency_ms: number;
  asked_from: string;
  considered: { region: string; server: string; reasons: string[] }[];
}

export async function mcpCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'servers') return serversCommand(rest, io);
  if (sub === 'discover') return discoverCommand(rest, io);
  throw new UsageError(
    sub === undefined ? 'say what: servers or discover' : `unknown mcp command "${sub}": servers or discover`,
  );
}

async function serversCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, {
    ...API_OPTIONS,
    region: { type: 'string' },
    capability: { type: 'string' },
  });
  const query = new URLSearchParams();
  if (values.region !== undefined) query.set('region', values.region);
  if (values.capability !== undefined) query.set('capability', values.capability);
  const answer = await apiClient(values, io).call(
    'GET',
    `/v1/mcp/servers${query.size > 0 ? `?${query}` : ''}`,
  );
  if (values.json) io.out(JSON.stringify(answer.body, null, 2));
  if (answer.status !== 200) {
    if (!values.json) printApiError(io, answer);
    return 1;
  }
  if (values.json) return 0;
  const style: Style = { color: io.color };
  const { servers } = answer.body as { servers: ServerView[] };
  io.out(
    table(
      ['REGION', 'SERVER', 'SCOPE', 'VERSION', 'FAILOVER', 'LIVE', 'PROBES', 'CAPABILITIES', 'NOTE'],
      servers.map((s) => [
        s.region,
        s.server,
        s.scope,
        s.version,
        s.failover,
        s.live.serving ? paint(style, 'green', 'serving') : paint(style, 'red', 'down'),
        probesOf(s),
        s.capabilities.join(','),
        noteOf(s),
      ]),
    ),
  );
  return 0;
}

/** What the regions' probes of its endpoint say: `-` before any, else the verdict and how many fail it. */
function probesOf(s: ServerView): string {
  const { health, unhealthy_by = [], observed_by = [] } = s.live;
  if (health === undefined || health === 'unknown') return '-';
  return `${health} (${unhealthy_by.length}/${observed_by.length} failing)`;
}

function noteOf(s: ServerView): string {
  const notes = [
    ...s.live.reasons,
    ...(s.serving_for?.length ? [`stands in for ${s.serving_for.join(', ')}`] : []),
    ...(s.failed_over_to ? [`moved to ${s.failed_over_to}`] : []),
    ...(s.data_residency ? [`data stays in ${s.data_residency}`] : []),
    ...(s.compliance_mode ? [`${s.compliance_mode} mode`] : []),
  ];
  return [...new Set(notes)].join('; ');
}

async function discoverCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      ...API_OPTIONS,
      region: { type: 'string' },
      'data-classification': { type: 'string' },
      'min-version': { type: 'string' },
    },
    1,
  );
  const capability = positionals[0];
  if (capability === undefined) throw new UsageError('say which capability to find a server for, e.g. sql');
  const query = new URLSearchParams({ capability });
  if (values.region !== undefined) query.set('region', values.region);
  if (values['data-classification'] !== undefined)
    query.set('data_classification', values['data-classification']);
  if (values['min-version'] !== undefined) query.set('min_version', values['min-version']);
  const answer = await apiClient(values, io).call('GET', `/v1/mcp/discover?${query}`);
  if (values.json) io.out(JSON.stringify(answer.body, null, 2));
  if (answer.status !== 200) {
    if (!values.json) printApiError(io, answer);
    return 1;
  }
  if (values.json) return 0;
  const found = answer.body as Discovered;
  const style: Style = { color: io.color };
  io.out(
    `${paint(style, 'green', `${found.server.server} in ${found.server.region}`)} at ${found.server.endpoint} (version ${found.server.version}) for ${capability} from ${found.asked_from}: ${found.basis}, ${found.latency_ms} ms`,
  );
  for (const c of found.considered)
    io.out(`  passed over ${c.server} in ${c.region}: ${c.reasons.join('; ')}`);
  return 0;
}
