/**
 * The operator CLI. Every command talks to the HTTP API (lib/cli/client.ts: `--endpoint`, falling
 * back to the next endpoint and every region's) except `local` (starts the local control plane),
 * `validate` (reads a topology file) and `simulate` (runs the simulator). Each command's usage and
 * example live in lib/cli/help.ts: `--help` anywhere prints them, a usage error prints its usage line.
 */

import { TopologyError } from '../core/errors.ts';
import { placeReplication, stateRecordTables } from '../core/replication/placement.ts';
import { loadTopologyFile } from '../topology/load.ts';
import { auditCommand } from './audit.ts';
import {
  API_OPTIONS,
  ApiUnreachableError,
  apiClient,
  type CliIo,
  FileArgumentError,
  integerOption,
  parse,
  printApiError,
  readInput,
  requireReadable,
  UsageError,
} from './common.ts';
import { dataCommand } from './data.ts';
import { decisionLines, paint, type Style, statusColor, table } from './format.ts';
import { handoffsCommand } from './handoffs.ts';
import { type CommandHelp, commandHelp, commandOf, commandsUnder, overview, usageLine } from './help.ts';
import { latencyCommand } from './latency.ts';
import { mcpCommand } from './mcp.ts';
import {
  failoverCommand,
  faultCommand,
  healCommand,
  healthColor,
  healthCommand,
  watchCommand,
} from './operations.ts';
import { privacyCommand } from './privacy.ts';
import { replicationCommand } from './replication.ts';
import { rebalanceCommand, resourcesCommand } from './resources.ts';

type Command = (args: readonly string[], io: CliIo) => number | Promise<number>;

/**
 * A command whose module loads only when it runs: cost and deploy-plan synthesize the CDK app, ops
 * prices it, doctor and dr carry SDK clients, simulate the simulator, network the key store; loading
 * aws-cdk-lib on every call cost `cortex` (and `npm start`) two seconds before it did anything.
 */
function lazy(load: () => Promise<Command>): Command {
  return async (args, io) => (await load())(args, io);
}

/** By first word; a command with subcommands reads the rest itself. */
const COMMANDS_BY_WORD: Readonly<Record<string, Command>> = {
  local: localCommand,
  validate: validateCommand,
  regions: regionsCommand,
  route: routeCommand,
  handoffs: handoffsCommand,
  health: healthCommand,
  doctor: lazy(async () => (await import('./doctor.ts')).doctorCommand),
  dashboard: lazy(async () => (await import('./dashboard.ts')).dashboardCommand),
  'deploy-plan': lazy(async () => (await import('./deploy-plan.ts')).deployPlanCommand),
  failover: failoverCommand,
  fault: faultCommand,
  heal: healCommand,
  watch: (args, io) => watchCommand(args, io),
  replication: replicationCommand,
  privacy: privacyCommand,
  audit: auditCommand,
  ops: lazy(async () => (await import('./ops.ts')).opsCommand),
  region: lazy(async () => (await import('./ops.ts')).regionCommand),
  latency: latencyCommand,
  resources: resourcesCommand,
  rebalance: rebalanceCommand,
  data: dataCommand,
  simulate: lazy(async () => (await import('./simulate.ts')).simulateCommand),
  dr: lazy(async () => (await import('./dr.ts')).drCommand),
  network: lazy(async () => (await import('./network.ts')).networkCommand),
  mcp: mcpCommand,
  cost: lazy(async () => (await import('./cost.ts')).costCommand),
};

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [word, ...rest] = argv;
  if (word === undefined || word === 'help' || word === '--help' || word === '-h') {
    if (word === 'help' && rest.length > 0) return help(rest, io);
    (word === undefined ? io.err : io.out)(overview());
    return word === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(COMMANDS_BY_WORD, word) ? COMMANDS_BY_WORD[word] : undefined;
  if (!command) {
    io.err(`cortex: unknown command "${word}"; cortex --help lists them`);
    return 2;
  }
  // `--help` anywhere before a `--` asks for help, whatever else the line says.
  const options = argv.indexOf('--') === -1 ? argv : argv.slice(0, argv.indexOf('--'));
  if (options.includes('--help') || options.includes('-h')) return help(argv, io);
  try {
    return await command(rest, io);
  } catch (error) {
    return failed(error, argv, io);
  }
}

/** The help of the command `argv` names, or of every command under its first word. */
function help(argv: readonly string[], io: CliIo): number {
  const command = commandOf(argv);
  const under = commandsUnder(argv[0]);
  if (command && !(command.name === argv[0] && under.length > 1 && isSubcommand(argv[1]))) {
    io.out(commandHelp(command));
    return 0;
  }
  if (under.length === 0) {
    io.err(`cortex: unknown command "${argv[0]}"; cortex --help lists them`);
    return 2;
  }
  io.out(under.map((c) => `${usageLine(c)}\n  ${c.summary}`).join('\n'));
  io.out(
    `\ncortex ${argv[0]} <${under
      .map((c) => c.name.split(' ')[1] ?? '')
      .filter(Boolean)
      .join('|')}> --help for one`,
  );
  return 0;
}

/** A word that is not an option (`failover bogus --help`, not `audit --help`). */
function isSubcommand(word: string | undefined): boolean {
  return word !== undefined && !word.startsWith('-');
}

/** How an error thrown by a command ends: its message, the usage of that command, an exit code. */
function failed(error: unknown, argv: readonly string[], io: CliIo): number {
  if (error instanceof FileArgumentError) {
    io.err(`cortex: ${error.message}`);
    return 2;
  }
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    io.err(`cortex: ${(error as Error).message}`);
    const command = commandOf(argv);
    const lines: CommandHelp[] = command ? [command] : commandsUnder(argv[0]);
    for (const c of lines) io.err(usageLine(c));
    io.err(`(cortex ${command?.name ?? argv[0]} --help for more)`);
    return 2;
  }
  if (error instanceof ApiUnreachableError) {
    io.err(`cortex: ${error.message}`);
    return 1;
  }
  if (error instanceof TopologyError) {
    io.err('cortex: the topology is invalid');
    for (const d of error.details) io.err(`  ${d.field}: ${d.reason}`);
    return 1;
  }
  throw error;
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
  if (values.topology !== undefined) requireReadable(values.topology as string, '--topology');
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
      // Region-to-region calls take the topology's latency matrix, so the sampler measures it.
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
  if (file !== undefined) requireReadable(file);
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
  const { values } = parse(args, API_OPTIONS);
  const answer = await apiClient(values, io).call('GET', '/v1/regions');
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
  const { values, positionals } = parse(args, API_OPTIONS, 1);
  const source = positionals[0];
  if (source === undefined)
    throw new UsageError('route needs a task file, or - to read it from standard input');
  const body = readInput(source, io);
  const answer = await apiClient(values, io).call('POST', '/v1/route', body);
  if (values.json) io.out(JSON.stringify(answer.body, null, 2));
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
  for (const line of decisionLines(decision, { rtt: true })) io.out(line);
  return 0;
}
