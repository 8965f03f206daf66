/**
 * The operator CLI. Every command talks to the HTTP API (`--endpoint`, default the local gateway)
 * except `local` (starts the local control plane) and `validate` (reads a topology file).
 */

import { readFileSync } from 'node:fs';
import { TopologyError } from '../core/errors.ts';
import { placeReplication, stateRecordTables } from '../core/replication/placement.ts';
import { loadTopologyFile } from '../topology/load.ts';
import { auditCommand } from './audit.ts';
import {
  ApiUnreachableError,
  type CliIo,
  callApi,
  DEFAULT_ENDPOINT,
  endpointOf,
  integerOption,
  parse,
  printApiError,
  UsageError,
} from './common.ts';
import { DATA_USAGE, dataCommand } from './data.ts';
import { paint, type Style, statusColor, table } from './format.ts';
import { LATENCY_USAGE, latencyCommand } from './latency.ts';
import {
  failoverCommand,
  faultCommand,
  healCommand,
  healthColor,
  healthCommand,
  watchCommand,
} from './operations.ts';
import { PRIVACY_USAGE, privacyCommand } from './privacy.ts';
import { replicationCommand } from './replication.ts';
import { RESOURCES_USAGE, rebalanceCommand, resourcesCommand } from './resources.ts';
import { SIMULATE_USAGE, simulateCommand } from './simulate.ts';

const USAGE = `usage: cortex <command> [options]

commands:
  local                 start the local control plane (same as npm start)
      --port <n>          gateway port on 127.0.0.1 (default 4600; regions use 127.0.1.x)
      --data-dir <dir>    where state is kept (default ./.data)
      --fresh             start from empty state
      --topology <file>   topology file (default topology/default.json)
      --replication-lag-ms <n>  lag between regional stores (default 200)
      --speed <n>         simulated time runs n times faster (drills)
      --dns-port <n>      DNS server port on 127.0.0.1 (answers api.cortex.local)
      --no-aws-controls   judge the local stores as they are (unencrypted, no authentication)
                          instead of the AWS deployment's controls: pii and sensitive data are refused
      --assume-aws-controls  the default now; accepted and ignored
  validate [file]       check a topology file (default topology/default.json)
  regions               regions with live status, role, weight and capacity
  route <file|->        route a task (JSON as for POST /v1/route) and show why
  health                each region's status and what every observer sees of it
  failover start <region> [--target <region>] [--reason <text>] [--failback] [--dry-run]
  failover status [id]  failovers, or one failover with every step
  failover abort|approve|decline <id>
  fault <region> down|errors|slow|partition [--rate <0..1>] [--latency-ms <n>] [--peers a,b]
                        inject a fault (local control plane only)
  heal                  remove every injected fault
  watch [--interval <s>] [--count <n>]  live view of health and the newest failover
  replication           replication lag of every region pair: sequences, records, seconds, status;
                        then where replicated data lives (tables, consistency, replicas)
  replication check [--reconcile] [--sample <n>]
                        compare sampled keys across every replica (default 100); --reconcile
                        repairs them by each data type's rule; exit 1 while some stay inconsistent
${PRIVACY_USAGE}
${LATENCY_USAGE}
${RESOURCES_USAGE}
${DATA_USAGE}
${SIMULATE_USAGE}
  audit [--region <r>]...  run a compliance audit (every region by default) and print the report;
                        exit 1 when it finds violations
  audit list [--region <r>] [--status <s>]  stored audit reports and the audit success rate
  audit show <id>       one stored audit report

options for the API commands:
  --endpoint <url>      API base URL (default $CORTEX_ENDPOINT or ${DEFAULT_ENDPOINT})
  --json                print the API's JSON answer instead of a table
`;

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'local':
        return await localCommand(rest, io);
      case 'validate':
        return validateCommand(rest, io);
      case 'regions':
        return await regionsCommand(rest, io);
      case 'route':
        return await routeCommand(rest, io);
      case 'health':
        return await healthCommand(rest, io);
      case 'failover':
        return await failoverCommand(rest, io);
      case 'fault':
        return await faultCommand(rest, io);
      case 'heal':
        return await healCommand(rest, io);
      case 'watch':
        return await watchCommand(rest, io);
      case 'replication':
        return await replicationCommand(rest, io);
      case 'privacy':
        return await privacyCommand(rest, io);
      case 'audit':
        return await auditCommand(rest, io);
      case 'latency':
        return await latencyCommand(rest, io);
      case 'resources':
        return await resourcesCommand(rest, io);
      case 'rebalance':
        return await rebalanceCommand(rest, io);
      case 'data':
        return await dataCommand(rest, io);
      case 'simulate':
        return await simulateCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`cortex: ${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof ApiUnreachableError) {
      io.err(`cortex: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

async function localCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, {
    port: { type: 'string' },
    'data-dir': { type: 'string' },
    fresh: { type: 'boolean' },
    topology: { type: 'string' },
    'replication-lag-ms': { type: 'string' },
    speed: { type: 'string' },
    'dns-port': { type: 'string' },
    'no-aws-controls': { type: 'boolean' },
    'assume-aws-controls': { type: 'boolean' },
  });
  if (values['no-aws-controls'] && values['assume-aws-controls']) {
    throw new UsageError('--no-aws-controls and --assume-aws-controls contradict each other: pick one');
  }
  if (values['assume-aws-controls']) {
    io.err(
      "cortex: --assume-aws-controls is the default now (the AWS deployment's controls); the flag can go",
    );
  }
  const port = integerOption('port', values.port as string | undefined, 0, 65535);
  const lag = integerOption(
    'replication-lag-ms',
    values['replication-lag-ms'] as string | undefined,
    0,
    600_000,
  );
  const dnsPort = integerOption('dns-port', values['dns-port'] as string | undefined, 0, 65535);
  const speed = values.speed === undefined ? undefined : Number(values.speed);
  if (speed !== undefined && !(speed > 0 && speed <= 10_000)) {
    throw new UsageError(`--speed must be a number above 0 and at most 10000, got "${values.speed}"`);
  }
  // Loaded lazily: the other commands need none of the local runtime.
  const { startLocalControlPlane, formatBanner } = await import('../local/control-plane.ts');
  let plane: Awaited<ReturnType<typeof startLocalControlPlane>>;
  try {
    plane = await startLocalControlPlane({
      ...(port === undefined ? {} : { port }),
      ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] as string }),
      fresh: values.fresh === true,
      ...(values.topology === undefined ? {} : { topologyPath: values.topology as string }),
      ...(lag === undefined ? {} : { replicationLagMs: lag }),
      ...(speed === undefined ? {} : { speed }),
      ...(dnsPort === undefined ? {} : { dnsPort }),
      complianceFacts: values['no-aws-controls'] === true ? 'local' : 'aws',
      // Issue 4: region-to-region calls take the topology's latency matrix, so the sampler measures it.
      simulateLatency: true,
      log: (line: string) => io.out(line),
    });
  } catch (error) {
    if (error instanceof TopologyError) {
      io.err(`cortex: cannot start: topology ${values.topology ?? 'topology/default.json'} is invalid`);
      for (const d of error.details) io.err(`  ${d.field}: ${d.reason}`);
    } else {
      io.err(`cortex: cannot start the local control plane: ${(error as Error).message}`);
    }
    return 1;
  }
  io.out(formatBanner(plane));
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      io.out('stopping the local control plane...');
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await plane.stop();
  io.out('stopped.');
  return 0;
}

function validateCommand(args: readonly string[], io: CliIo): number {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } }, 1);
  const file = positionals[0];
  try {
    const topology = loadTopologyFile(file);
    // The same placement `cdk synth` and `npm start` make: a replica outside a jurisdiction is invalid.
    const placement = placeReplication(topology);
    if (placement.errors.length > 0) throw new TopologyError(placement.errors);
    const summary = {
      valid: true,
      file: file ?? 'topology/default.json',
      name: topology.name,
      regions: topology.regions.map((r) => r.region_id),
      witnesses: topology.witnesses.map((w) => w.witness_id),
      deployment_pattern: topology.deployment.pattern,
      tables: placement.tables.map((t) => ({
        name: t.name,
        role: t.role,
        consistency: t.consistency,
        regions: t.regions,
      })),
      state_records: stateRecordTables(topology),
      notes: placement.warnings,
    };
    if (values.json) io.out(JSON.stringify(summary, null, 2));
    else {
      io.out(
        `${summary.file}: valid (${summary.regions.length} regions: ${summary.regions.join(', ')}; ${
          summary.deployment_pattern
        })`,
      );
      for (const t of summary.tables)
        io.out(`  table ${t.name}: ${t.role}, ${t.consistency}, ${t.regions.join(' ')}`);
      for (const note of summary.notes) io.out(`  note: ${note.field}: ${note.reason}`);
    }
    return 0;
  } catch (error) {
    if (!(error instanceof TopologyError)) throw error;
    if (values.json) io.out(JSON.stringify({ valid: false, file, errors: error.details }, null, 2));
    else {
      io.err(`${file ?? 'topology/default.json'}: invalid (${error.details.length} problem(s))`);
      for (const d of error.details) io.err(`  ${d.field}: ${d.reason}`);
    }
    return 1;
  }
}

interface RegionRow {
  region_id: string;
  tier: string;
  status: string;
  role: string;
  epoch: number;
  traffic_weight: number;
  compliance: string[];
  data_residency: string[];
  capacity: { available: number };
  health?: { state: string; action: string };
}

async function regionsCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, { endpoint: { type: 'string' }, json: { type: 'boolean' } });
  const answer = await callApi(endpointOf(values, io), 'GET', '/v1/regions');
  if (answer.status !== 200) {
    printApiError(io, answer);
    return 1;
  }
  if (values.json) {
    io.out(JSON.stringify(answer.body, null, 2));
    return 0;
  }
  const style: Style = { color: io.color };
  const { regions, observer } = answer.body as { regions: RegionRow[]; observer: string };
  io.out(
    table(
      [
        'REGION',
        'TIER',
        'STATUS',
        'HEALTH',
        'ROLE',
        'EPOCH',
        'WEIGHT',
        'AVAILABLE',
        'COMPLIANCE',
        'RESIDENCY',
      ],
      regions.map((r) => [
        r.region_id,
        r.tier,
        paint(style, statusColor(r.status), r.status),
        paint(style, healthColor(r.health?.state), r.health?.state ?? '-'),
        r.role,
        String(r.epoch),
        `${r.traffic_weight}%`,
        `${Math.round(r.capacity.available * 100)}%`,
        r.compliance.join(','),
        r.data_residency.join(','),
      ]),
    ),
  );
  for (const r of regions) {
    if (r.health && r.health.state !== 'healthy')
      io.out(`  ${r.region_id}: ${r.health.state}: ${r.health.action}`);
  }
  io.out(paint(style, 'dim', `as seen from ${observer}`));
  return 0;
}

interface RouteAnswer {
  task_id: string;
  region: string;
  score: number;
  candidates: {
    region: string;
    score: number;
    latency_ms: number;
    factors: { capacity: number; latency: number; compliance: number; cost: number };
  }[];
  excluded: { region: string; reasons: string[] }[];
  handoff: { handoff_id: string; status: string; created_at: string };
}

async function routeCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { endpoint: { type: 'string' }, json: { type: 'boolean' } }, 1);
  const source = positionals[0];
  if (source === undefined)
    throw new UsageError('route needs a task file, or - to read it from standard input');
  let body: string;
  try {
    body = source === '-' ? io.readStdin() : readFileSync(source, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${source}: ${(error as Error).message}`);
  }
  const answer = await callApi(endpointOf(values, io), 'POST', '/v1/route', body);
  if (values.json) io.out(JSON.stringify(answer.body, null, 2));
  if (answer.status === 422 && !values.json) {
    printApiError(io, answer);
    printExcluded(io, (answer.body as { excluded?: RouteAnswer['excluded'] }).excluded ?? []);
    return 1;
  }
  if (answer.status !== 200) {
    if (!values.json) printApiError(io, answer);
    return 1;
  }
  if (values.json) return 0;
  const decision = answer.body as RouteAnswer;
  const style: Style = { color: io.color };
  io.out(
    `${paint(style, 'bold', decision.task_id)} -> ${paint(style, 'green', decision.region)} (score ${decision.score}, handoff ${
      decision.handoff.handoff_id
    } ${decision.handoff.status})`,
  );
  io.out('');
  io.out(
    table(
      ['CANDIDATE', 'SCORE', 'CAPACITY', 'LATENCY', 'COMPLIANCE', 'COST', 'RTT'],
      decision.candidates.map((c) => [
        c.region,
        String(c.score),
        String(c.factors.capacity),
        String(c.factors.latency),
        String(c.factors.compliance),
        String(c.factors.cost),
        `${c.latency_ms} ms`,
      ]),
    ),
  );
  printExcluded(io, decision.excluded);
  return 0;
}

function printExcluded(io: CliIo, excluded: RouteAnswer['excluded']): void {
  if (excluded.length === 0) return;
  io.out('');
  io.out('excluded:');
  for (const e of excluded) io.out(`  ${e.region}: ${e.reasons.join('; ')}`);
}
