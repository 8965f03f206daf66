/**
 * The local control plane (`cortex local`, `npm start`): the local runtime's regions served over
 * HTTP, on loopback only, in simulated time (`speed`). Region i (topology order) answers on
 * 127.0.1.(i+1), each with its own replica of the state; a scheduler runs every region's probe
 * round and the witness's; a DNS server answers `api.cortex.local` from Route 53-like health
 * checks; faults injected at `/v1/sim/faults` act on the region endpoints, the probes and the
 * replication links. The gateway on 127.0.0.1 serves the simulator's routes (`/v1/sim...`,
 * `/v1/events`) and hands every other request to the region `api.cortex.local` resolves to, as a
 * client of the service would reach it (that region's faults included).
 */

import type { IncomingMessage, Server } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  json,
  MethodNotAllowedError,
  parseJsonBody,
  RouteNotFoundError,
  toHttpError,
} from '../../functions/shared/http.ts';
import { LocalMcpProbe } from '../adapters/local/mcp-probe.ts';
import { LocalProbe } from '../adapters/local/probe.ts';
import type { LinkStats } from '../adapters/local/replication.ts';
import { runComplianceAudit } from '../app/compliance/audit.ts';
import { resumeFailovers } from '../app/failover/manage.ts';
import { runLatencySampler } from '../app/latency/sampler.ts';
import { runDailyReport } from '../app/ops/daily-report.ts';
import { sweepPrivacyRequests } from '../app/privacy/sweep.ts';
import { runProbeRound, runWitnessRound } from '../app/probe-round.ts';
import { replicationMonitorJobs } from '../app/replication/monitor.ts';
import { rebalanceOnSchedule } from '../app/resources/rebalance.ts';
import { REGION_HEADER } from '../app/routes.ts';
import { AWS_DEPLOYMENT_FACTS, LOCAL_DEPLOYMENT_FACTS } from '../core/compliance/facts.ts';
import type { DeploymentFacts } from '../core/compliance/types.ts';
import { ValidationError } from '../core/errors.ts';
import type { Assessment } from '../core/health/types.ts';
import { samplingOf } from '../core/latency/stats.ts';
import { DEFAULT_BEAT_INTERVAL_MS } from '../core/replication/lag.ts';
import type { Topology } from '../core/topology/types.ts';
import { type LocalRuntime, startLocalRuntime } from '../runtime/local.ts';
import { loadTopologyFile } from '../topology/load.ts';
import { checkSpeed, createSimClock, type SimClock } from './clock.ts';
import { isDashboardUrl, withDashboard } from './dashboard-route.ts';
import { DEFAULT_DNS_PORT, type DnsHealthCheck, type LocalDns, SERVICE_NAME, startLocalDns } from './dns.ts';
import { type Fault, SimNetwork } from './faults.ts';
import { type ApiHandler, createHttpBridge, type RequestInterception } from './http.ts';
import { unsignedHttpProbe } from './http-probe.ts';
import { closeServer, listen } from './listen.ts';
import { mcpEndpointAnswer, mcpHealthPath } from './mcp-endpoints.ts';
import { createRegionalApi } from './regional-api.ts';
import { replicationDrill } from './replication-drills.ts';
import { type JobStats, type RoundScheduler, startRoundScheduler } from './scheduler.ts';
import { localTablesOf, startNightlySnapshots } from './snapshots.ts';

const DEFAULT_GATEWAY_PORT = 4600;

import { DEFAULT_DATA_DIR } from './defaults.ts';

export { DEFAULT_DATA_DIR };

const GATEWAY_HOST = '127.0.0.1';

export interface LocalControlPlaneOptions {
  /** Gateway port on 127.0.0.1 (default 4600); regions use the same number on 127.0.1.x. 0: ephemeral ports. */
  readonly port?: number;
  /** Default `./.data`. */
  readonly dataDir?: string;
  /** Starts with empty stores. */
  readonly fresh?: boolean;
  /** Default topology/default.json. */
  readonly topologyPath?: string;
  /** Replication lag between every pair of regions (default 200 simulated ms). */
  readonly replicationLagMs?: number;
  /**
   * Simulated time runs `speed` times faster than real time (default 1): every interval, timeout,
   * lag and wait scales; records and reports stay in simulated time.
   */
  readonly speed?: number;
  /** DNS server port on 127.0.0.1, UDP and TCP (default 8053; 0 when `port` is 0: ephemeral). */
  readonly dnsPort?: number;
  /** Runs the probe rounds on their schedule (default true; false leaves health untouched). */
  readonly probeRounds?: boolean;
  /** Runs every region's replication lag monitor each 5 s, with the probe rounds (default true). */
  readonly replicationMonitor?: boolean;
  /**
   * Which controls the compliance rules see: `aws` (default) the AWS deployment's (KMS encryption at
   * rest, HTTPS, IAM authorization: AWS_DEPLOYMENT_FACTS), so routes, compliance checks and audits
   * answer here as they do on AWS; `local` the local stores as they are (unencrypted, no
   * authentication: LOCAL_DEPLOYMENT_FACTS), to see regulated data refused.
   */
  readonly complianceFacts?: ComplianceFactsChoice;
  /** Runs every region's compliance audit daily (simulated; default true), as on AWS. */
  readonly complianceAudits?: boolean;
  /**
   * Region-to-region calls take the topology's latency matrix figure (simulated ms) on top of
   * any `slow` fault, so the latency sampler measures the matrix. Default false (`cortex local` turns
   * it on); health probes see the delay too.
   */
  readonly simulateLatency?: boolean;
  /**
   * Runs every region's latency sampler at the topology's sampling interval. Default: as
   * `simulateLatency` (without the simulated matrix the samples would only measure loopback).
   */
  readonly latencySampler?: boolean;
  /**
   * Runs every region's rebalancer every `dynamic_rebalancing.interval_seconds`
   * (simulated; only the first serving region in failover order acts). Default: with the probe rounds.
   */
  readonly rebalancer?: boolean;
  /** Operational messages (handler crashes, replication retries). Default: standard error. */
  readonly log?: (line: string) => void;
}

/** Whose controls the compliance rules judge locally: the AWS deployment's, or the local stores'. */
type ComplianceFactsChoice = 'aws' | 'local';

interface RegionEndpoint {
  readonly url: string;
  readonly address: string;
}

/** What `GET /v1/sim` answers: where everything is, and what is broken. */
interface SimLayout {
  readonly topology: string;
  readonly regions: Readonly<Record<string, RegionEndpoint & { readonly tier: string }>>;
  /** `region`: the region the gateway hands requests to now (the DNS answer). */
  readonly gateway: { readonly url: string; readonly region: string };
  readonly data_dir: string;
  readonly replication: { readonly lag_ms: number; readonly links: readonly LinkStats[] };
  /** Simulated ms per real ms. */
  readonly speed: number;
  /** ISO simulated time now. */
  readonly now: string;
  readonly dns: {
    readonly address: string;
    readonly port: number;
    readonly name: string;
    /** The region the name resolves to now. */
    readonly region: string;
    readonly health_checks: readonly DnsHealthCheck[];
    /** Every change of the answer (ISO simulated time), the first being the answer at start. */
    readonly answer_changes: readonly { readonly at: string; readonly region: string }[];
  };
  readonly faults: readonly Fault[];
  /** The controls the compliance rules judge (`cortex local --no-aws-controls`: the local stores'). */
  readonly compliance: {
    readonly facts: ComplianceFactsChoice;
    readonly source: string;
    readonly description: string;
  };
  /** The topology's witnesses; locally the gateway process runs their probe rounds. */
  readonly witnesses: readonly { readonly witness_id: string; readonly region: string }[];
  readonly scheduler: { readonly interval_seconds: number; readonly jobs: readonly JobStats[] };
}

export interface LocalControlPlane {
  readonly gatewayUrl: string;
  /** By region id, in topology order. */
  readonly regions: Readonly<Record<string, RegionEndpoint>>;
  /** The topology's primary region: where the DNS latency records are resolved from. */
  readonly primaryRegion: string;
  /** The stores, replication and per-region deps (fault injection and tests reach in here). */
  readonly runtime: LocalRuntime;
  readonly clock: SimClock;
  readonly network: SimNetwork;
  readonly dns: LocalDns;
  layout(): SimLayout;
  /** Stops accepting requests, lets those in flight finish, saves the replication queue, closes the stores. */
  stop(): Promise<void>;
}

export async function startLocalControlPlane(
  options: LocalControlPlaneOptions = {},
): Promise<LocalControlPlane> {
  const settings = resolveSettings(options);
  const { topology, primary, log } = settings;
  const clock = createSimClock({ speed: settings.speed });
  const network = new SimNetwork({ topology, clock });
  const regions: Record<string, RegionEndpoint> = {};
  const runtime = await startRuntime(options, settings, { clock, network, regions });
  network.attachReplication(runtime.replication);
  // A region's outage ends the failover executions it coordinates, as on Step Functions.
  network.onDown((region) => {
    runtime.workflow.abortCoordinatedBy(region).catch(() => undefined);
  });

  const parts: PlaneParts = { runtime, clock, network, log };
  const started: Started = { servers: [], gatewayUrl: '' };
  const stopAll = () => stopStarted(started, parts);
  try {
    // The dashboard (lib/local/dashboard-route.ts) at `/` of the gateway and of every region's endpoint.
    const dashboard = { endpoints: () => ({ gateway: started.gatewayUrl, regions }) };
    const apis = await serveRegions(parts, started, { regions, dashboard, port: settings.port });
    const serving = () => (started.dns ? started.dns.servingRegion() : primary);
    const layout = (): SimLayout => describeLayout(settings, parts, { regions, started, serving });
    started.gatewayUrl = await serveGateway(parts, started, {
      gatewayApi: withDashboard(createGatewayApi({ apis, serving, layout, network, runtime }), dashboard),
      serving,
      port: settings.port,
    });
    const dns = await startLocalDns({
      topology,
      endpoints: regions,
      clientRegion: primary,
      clock,
      port: settings.dnsPort,
      log,
    });
    started.dns = dns;
    await resumeInterruptedFailovers(runtime, log);
    startHealthRounds(options, parts, started);
    startRegionalJobs(options, parts, started);

    let stopping: Promise<void> | undefined;
    return {
      gatewayUrl: started.gatewayUrl,
      regions,
      primaryRegion: primary,
      runtime,
      clock,
      network,
      dns,
      layout,
      stop: () => {
        stopping ??= stopAll();
        return stopping;
      },
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}

/** The options checked and defaulted once, before anything starts. */
interface PlaneSettings {
  readonly port: number;
  readonly dnsPort: number;
  readonly speed: number;
  readonly log: (line: string) => void;
  readonly topology: Topology;
  readonly primary: string;
  readonly complianceFacts: ComplianceFactsChoice;
  readonly facts: DeploymentFacts;
}

/** The parts every step of the start wires together. */
interface PlaneParts {
  readonly runtime: LocalRuntime;
  readonly clock: SimClock;
  readonly network: SimNetwork;
  readonly log: (line: string) => void;
}

/** What has started so far: a start that fails halfway stops exactly these. */
interface Started {
  readonly servers: Server[];
  gatewayUrl: string;
  dns?: LocalDns;
  scheduler?: RoundScheduler;
  replicationMonitor?: RoundScheduler;
  privacySweeps?: RoundScheduler;
  complianceAudits?: RoundScheduler;
  dailyReports?: RoundScheduler;
  latencySamplers?: RoundScheduler;
  rebalancers?: RoundScheduler;
  expirySweeps?: RoundScheduler;
  snapshots?: { stop(): Promise<void> };
}

/** Checks every option that can be wrong before anything starts, so a bad one leaves nothing running. */
function resolveSettings(options: LocalControlPlaneOptions): PlaneSettings {
  const port = options.port ?? DEFAULT_GATEWAY_PORT;
  checkPort('port', port);
  const dnsPort = options.dnsPort ?? (port === 0 ? 0 : DEFAULT_DNS_PORT);
  checkPort('dns port', dnsPort);
  const speed = options.speed ?? 1;
  checkSpeed(speed);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const topology = loadTopologyFile(options.topologyPath);
  if (topology.regions.length > 254) throw new Error('the local control plane serves at most 254 regions');
  const primary = primaryRegionOf(topology);
  const complianceFacts = options.complianceFacts ?? 'aws';
  if (complianceFacts !== 'aws' && complianceFacts !== 'local') {
    throw new Error(`complianceFacts must be aws or local, got "${String(complianceFacts)}"`);
  }
  const facts = complianceFacts === 'local' ? LOCAL_DEPLOYMENT_FACTS : AWS_DEPLOYMENT_FACTS;
  return { port, dnsPort, speed, log, topology, primary, complianceFacts, facts };
}

/**
 * Starts the runtime with probes that reach the region endpoints (filled in once they listen);
 * the clock is closed if it fails, since nothing else has started yet.
 */
async function startRuntime(
  options: LocalControlPlaneOptions,
  settings: PlaneSettings,
  reach: { clock: SimClock; network: SimNetwork; regions: Readonly<Record<string, RegionEndpoint>> },
): Promise<LocalRuntime> {
  const { topology, speed, log, facts } = settings;
  const { clock, network, regions } = reach;
  const probe = new LocalProbe({
    endpoints: () => Object.fromEntries(Object.entries(regions).map(([id, r]) => [id, r.url])),
    network,
    clock,
    httpProbe: unsignedHttpProbe,
    ...(options.simulateLatency
      ? {
          pairLatencyMs: (from: string, to: string) => topology.latency.matrix[from]?.[to] ?? 0,
          sleep: (ms: number) => clock.sleep(ms),
        }
      : {}),
  });
  try {
    return await startLocalRuntime({
      topology,
      dataDir: options.dataDir ?? DEFAULT_DATA_DIR,
      fresh: options.fresh ?? false,
      ...(options.replicationLagMs === undefined ? {} : { replicationLagMs: options.replicationLagMs }),
      scheduler: clock,
      speed,
      probe,
      // Each region's simulated MCP servers answer on its endpoint (lib/local/mcp-endpoints.ts).
      mcpProbe: new LocalMcpProbe({
        endpoints: () => Object.fromEntries(Object.entries(regions).map(([id, r]) => [id, r.url])),
        healthPath: mcpHealthPath,
        network,
        clock,
      }),
      network,
      log,
      deploymentFacts: facts,
    });
  } catch (error) {
    clock.close();
    throw error;
  }
}

/** Stops everything started, in the order that lets each part finish what it owes the next. */
async function stopStarted(started: Started, parts: PlaneParts): Promise<void> {
  const { runtime, clock } = parts;
  await started.snapshots?.stop();
  await started.expirySweeps?.stop();
  await started.latencySamplers?.stop();
  await started.rebalancers?.stop();
  await started.scheduler?.stop();
  await started.replicationMonitor?.stop();
  await started.privacySweeps?.stop();
  await started.complianceAudits?.stop();
  await started.dailyReports?.stop();
  // Failover executions stop before the endpoints their steps may call.
  await runtime.workflow.close().catch(() => undefined);
  await started.dns?.close();
  await Promise.allSettled(started.servers.map((server) => closeServer(server)));
  try {
    await runtime.close();
  } finally {
    clock.close();
  }
}

/** Serves each region's API on 127.0.1.(i+1), in topology order; returns the APIs by region. */
async function serveRegions(
  parts: PlaneParts,
  started: Started,
  at: {
    regions: Record<string, RegionEndpoint>;
    dashboard: Parameters<typeof withDashboard>[1];
    port: number;
  },
): Promise<Map<string, ApiHandler>> {
  const { runtime, clock, network, log } = parts;
  const apis = new Map<string, ApiHandler>();
  for (const [index, region] of runtime.regions.entries()) {
    const api = withDashboard(answeredBy(createRegionalApi(region.deps), region.regionId), at.dashboard);
    apis.set(region.regionId, api);
    const address = `127.0.1.${index + 1}`;
    const server = createHttpBridge(api, {
      log,
      intercept: async (req) =>
        (await injectedFault(network, clock, region.regionId)) ??
        mcpEndpointAnswer(network, region.regionId, req),
    });
    started.servers.push(server);
    const bound = await listen(server, address, at.port, `the ${region.regionId} endpoint`);
    at.regions[region.regionId] = { url: `http://${address}:${bound}`, address };
  }
  return apis;
}

/** Serves the gateway on 127.0.0.1; returns its URL. */
async function serveGateway(
  parts: PlaneParts,
  started: Started,
  gateway: { gatewayApi: ApiHandler; serving: () => string; port: number },
): Promise<string> {
  const { clock, network, log } = parts;
  const gatewayServer = createHttpBridge(gateway.gatewayApi, {
    log,
    // The gateway's dashboard, like its /v1/sim routes, opens while the region it serves is down.
    intercept: (req) =>
      isSimPath(req) || isDashboardUrl(req.url)
        ? Promise.resolve(undefined)
        : injectedFault(network, clock, gateway.serving()),
  });
  started.servers.push(gatewayServer);
  const gatewayPort = await listen(gatewayServer, GATEWAY_HOST, gateway.port, 'the gateway');
  return `http://${GATEWAY_HOST}:${gatewayPort}`;
}

/** `GET /v1/sim`'s answer from what runs now. */
function describeLayout(
  settings: PlaneSettings,
  parts: PlaneParts,
  now: {
    regions: Readonly<Record<string, RegionEndpoint>>;
    started: Started;
    serving: () => string;
  },
): SimLayout {
  const { topology, speed, dnsPort, complianceFacts, facts } = settings;
  const { runtime, clock, network } = parts;
  const { regions, started, serving } = now;
  const { dns, scheduler } = started;
  const stats = runtime.replication.stats();
  return {
    topology: topology.name,
    regions: Object.fromEntries(
      topology.regions.map((r) => [
        r.region_id,
        { ...(regions[r.region_id] as RegionEndpoint), tier: r.tier },
      ]),
    ),
    gateway: { url: started.gatewayUrl, region: serving() },
    data_dir: runtime.dataDir,
    replication: { lag_ms: stats.lag_ms, links: stats.links },
    speed,
    now: new Date(clock.now()).toISOString(),
    dns: {
      // Before the DNS server is up (a request racing the start): where it will answer.
      address: dns?.address ?? '127.0.0.1',
      port: dns?.port ?? dnsPort,
      name: dns?.name ?? SERVICE_NAME,
      region: serving(),
      health_checks: dns?.checks() ?? [],
      answer_changes: (dns?.answerChanges() ?? []).map((c) => ({
        at: new Date(c.at).toISOString(),
        region: c.region,
      })),
    },
    faults: network.list(),
    compliance: { facts: complianceFacts, source: facts.source, description: facts.description },
    witnesses: topology.witnesses.map((w) => ({ witness_id: w.witness_id, region: w.region })),
    scheduler: {
      interval_seconds: topology.failover_policies.health_check.interval_seconds,
      jobs: scheduler?.stats() ?? [],
    },
  };
}

/**
 * A failover that was running when the last process died (kill -9 included) goes on from its
 * record: its coordinator's replica holds every step, and each step is idempotent.
 */
async function resumeInterruptedFailovers(runtime: LocalRuntime, log: (line: string) => void): Promise<void> {
  for (const region of runtime.regions) {
    const resumed = await resumeFailovers(region.deps);
    for (const id of resumed)
      log(`resumed failover ${id} (coordinated by ${region.regionId}) from its record`);
  }
}

/** Starts the probe rounds and the replication lag monitor, unless the options turn them off. */
function startHealthRounds(options: LocalControlPlaneOptions, parts: PlaneParts, started: Started): void {
  const { runtime, clock, network, log } = parts;
  if (options.probeRounds !== false) started.scheduler = startProbeRounds(runtime, clock, network, log);
  if (options.probeRounds !== false && options.replicationMonitor !== false) {
    // The lag monitor's beat interval (EventBridge Scheduler + rounds inside the minute on AWS).
    started.replicationMonitor = startRoundScheduler({
      clock,
      intervalMs: DEFAULT_BEAT_INTERVAL_MS,
      isDown: (member) => network.isDown(member),
      log,
      jobs: replicationMonitorJobs(runtime.regions),
    });
  }
}

/** Scheduled per-region jobs, in simulated time, as EventBridge Scheduler runs them on AWS. */
function startRegionalJobs(options: LocalControlPlaneOptions, parts: PlaneParts, started: Started): void {
  const { runtime, clock, network, log } = parts;
  const jobs = (job: Parameters<typeof everyRegion>[4]) => everyRegion(runtime, clock, network, log, job);
  started.privacySweeps = jobs({
    name: 'privacy sweep',
    intervalMs: 3_600_000,
    run: async (region) => {
      await sweepPrivacyRequests(region.deps);
    },
  });
  // The local stand-in for DynamoDB TTL on the selective tables with a retention, and
  // the state table's expiring records (readers already treat an expired record as
  // absent; this frees the space, hourly).
  started.expirySweeps = jobs({
    name: 'expiry sweep',
    intervalMs: 3_600_000,
    run: (region) => region.sweepExpired(),
  });
  // The local stand-in for the nightly full backup (AWS Backup): every store at 02:00 UTC.
  started.snapshots = startNightlySnapshots({
    dataDir: runtime.dataDir,
    regions: runtime.regions.map((region) => ({
      regionId: region.regionId,
      client: region.store.createClient(),
      tables: localTablesOf(runtime.placement, region.regionId),
    })),
    clock,
    isDown: (member) => network.isDown(member),
    log,
  });
  if (options.complianceAudits !== false) {
    started.complianceAudits = jobs({
      name: 'compliance audit',
      intervalMs: 86_400_000,
      run: (region) => runComplianceAudit(region.deps, { trigger: 'scheduled' }),
    });
  }
  // The daily operations report of each region, as the ops-daily job runs it on AWS.
  started.dailyReports = jobs({
    name: 'daily operations report',
    intervalMs: 86_400_000,
    run: (region) => runDailyReport(region.deps, { trigger: 'scheduled' }).then(() => undefined),
  });
  if (options.latencySampler ?? options.simulateLatency ?? false) {
    started.latencySamplers = jobs({
      name: 'latency sampler',
      intervalMs: samplingOf(runtime.topology).interval_seconds * 1000,
      run: async (region) => {
        const { latency } = region.deps;
        if (latency) await runLatencySampler({ ...region.deps, latency });
      },
    });
  }
  if (options.rebalancer ?? options.probeRounds !== false) {
    started.rebalancers = jobs({
      name: 'rebalancer',
      intervalMs: runtime.topology.global_resource_pool.dynamic_rebalancing.interval_seconds * 1000,
      run: async (region) => {
        if (region.deps.resources) await rebalanceOnSchedule(region.deps);
      },
    });
  }
}

function checkPort(name: string, port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`${name} must be an integer from 0 to 65535, got ${port}`);
  }
}

/**
 * Every region's probe round and every witness's round, every `interval_seconds` (simulated). Each
 * region keeps its last assessment, so events fire on what changed between its own rounds.
 */
function startProbeRounds(
  runtime: LocalRuntime,
  clock: SimClock,
  network: SimNetwork,
  log: (line: string) => void,
): RoundScheduler {
  const previous = new Map<string, Assessment>();
  return startRoundScheduler({
    clock,
    intervalMs: runtime.topology.failover_policies.health_check.interval_seconds * 1000,
    isDown: (member) => network.isDown(member),
    log,
    jobs: [
      ...runtime.regions.map((region) => ({
        member: region.regionId,
        name: 'probe round',
        run: async () => {
          const last = previous.get(region.regionId);
          const report = await runProbeRound(region.deps, last === undefined ? {} : { previous: last });
          previous.set(region.regionId, report.assessment);
        },
      })),
      ...runtime.witnesses.map((witness) => ({
        member: witness.witnessId,
        name: 'witness round',
        run: () => runWitnessRound(witness),
      })),
    ],
  });
}

/**
 * One job per region on a simulated interval, skipped while the region is down: the local stand-in
 * for a function EventBridge Scheduler invokes in every region on AWS.
 */
function everyRegion(
  runtime: LocalRuntime,
  clock: SimClock,
  network: SimNetwork,
  log: (line: string) => void,
  job: {
    name: string;
    intervalMs: number;
    run: (region: LocalRuntime['regions'][number]) => Promise<unknown>;
  },
): RoundScheduler {
  return startRoundScheduler({
    clock,
    intervalMs: job.intervalMs,
    isDown: (member) => network.isDown(member),
    log,
    jobs: runtime.regions.map((region) => ({
      member: region.regionId,
      name: job.name,
      run: () => job.run(region),
    })),
  });
}

/** What a region's endpoint does with a request under the injected faults (external callers see these). */
async function injectedFault(
  network: SimNetwork,
  clock: SimClock,
  region: string,
): Promise<RequestInterception> {
  if (network.isDown(region)) return 'reset';
  const delay = network.extraLatencyMs(region);
  if (delay > 0) await clock.sleep(delay).catch(() => undefined);
  if (network.isDown(region)) return 'reset';
  if (network.failsRequest(region)) {
    return json(500, {
      error: { code: 'INJECTED_FAULT', message: `injected fault: ${region} answers errors`, region },
    });
  }
  return undefined;
}

const SIM_PATHS = ['/v1/sim', '/v1/events'];

function simPath(path: string): boolean {
  return SIM_PATHS.some((p) => path === p || path.startsWith(`${p}/`));
}

function isSimPath(req: IncomingMessage): boolean {
  const url = req.url ?? '/';
  const mark = url.indexOf('?');
  return simPath(mark === -1 ? url : url.slice(0, mark));
}

interface GatewayParts {
  readonly apis: ReadonlyMap<string, ApiHandler>;
  /** The region `api.cortex.local` resolves to now. */
  readonly serving: () => string;
  readonly layout: () => SimLayout;
  readonly network: SimNetwork;
  readonly runtime: LocalRuntime;
}

/**
 * The gateway: the simulator's own routes, and every other request handed to the region the
 * service name resolves to (before a failover flips DNS, that is the primary region).
 */
function createGatewayApi(parts: GatewayParts): ApiHandler {
  return async (event: APIGatewayProxyEventV2) => {
    const path = event.rawPath;
    if (!simPath(path)) {
      const api = parts.apis.get(parts.serving());
      if (!api) throw new Error(`no API for region ${parts.serving()}`);
      return api(event);
    }
    const method = event.requestContext.http.method;
    const notAllowed = (): never => {
      throw new MethodNotAllowedError(`${method} is not allowed on ${path}`);
    };
    try {
      switch (path) {
        case '/v1/sim':
          return method === 'GET' ? json(200, parts.layout()) : notAllowed();
        case '/v1/sim/faults':
          return faultsRoute(parts.network, method, event);
        case '/v1/events':
          return method === 'GET' ? json(200, eventsPage(parts.runtime, event)) : notAllowed();
        // Lag per link, pause/resume and corrupting one region's copy (lib/local/replication-drills.ts).
        case '/v1/sim/replication':
        case '/v1/sim/replication/lag':
        case '/v1/sim/replication/pause':
        case '/v1/sim/replication/resume':
        case '/v1/sim/replication/corrupt':
          return await replicationDrill(
            {
              replication: parts.runtime.replication,
              regions: parts.runtime.regions.map((r) => r.regionId),
              tableName: parts.runtime.tableName,
            },
            event,
          );
        default:
          throw new RouteNotFoundError(`no route for ${method} ${path}`);
      }
    } catch (error) {
      return toHttpError(error);
    }
  };
}

/** Marks each answer with the region whose handlers gave it (the CLI says who answered). */
function answeredBy(api: ApiHandler, region: string): ApiHandler {
  return async (event) => {
    const result = await api(event);
    return { ...result, headers: { ...result.headers, [REGION_HEADER]: region } };
  };
}

/** `GET` lists, `POST` injects one fault (201), `DELETE` heals all (or `?region=`'s). */
function faultsRoute(network: SimNetwork, method: string, event: APIGatewayProxyEventV2) {
  switch (method) {
    case 'GET':
      return json(200, { faults: network.list() });
    case 'POST': {
      const fault = network.inject(parseJsonBody(event));
      return json(201, { fault, faults: network.list() });
    }
    case 'DELETE': {
      const region = event.queryStringParameters?.region;
      return json(200, { healed: network.heal(region), faults: network.list() });
    }
    default:
      throw new MethodNotAllowedError(`${method} is not allowed on /v1/sim/faults`);
  }
}

/**
 * `GET /v1/events[?since=<index>]`: the local event log from index `since` (default 0), newest last,
 * each event with its `index`; `next` is the index to ask from next time.
 */
function eventsPage(runtime: LocalRuntime, event: APIGatewayProxyEventV2) {
  const raw = event.queryStringParameters?.since;
  const since = raw === undefined ? 0 : Number(raw);
  if (!Number.isSafeInteger(since) || since < 0) {
    throw new ValidationError('invalid query', [
      { field: 'since', reason: 'must be an event index: an integer >= 0' },
    ]);
  }
  const log = runtime.events;
  const events = log.list(since).map(({ index, event }) => ({ index, ...event }));
  return { events, next: log.nextIndex };
}

/** The first region of tier `primary`, else the first region. */
function primaryRegionOf(topology: Topology): string {
  const region = topology.regions.find((r) => r.tier === 'primary') ?? topology.regions[0];
  if (!region) throw new Error(`topology ${topology.name} has no regions`);
  return region.region_id;
}

/** What `cortex local` prints: where everything is and what to try first. */
export function formatBanner(plane: LocalControlPlane): string {
  const layout = plane.layout();
  const names = ['gateway', 'controls', ...Object.keys(plane.regions)];
  const width = Math.max(...names.map((n) => n.length)) + 2;
  const row = (name: string, text: string) => `  ${name.padEnd(width)}${text}`;
  const endpoint =
    plane.gatewayUrl === `http://${GATEWAY_HOST}:${DEFAULT_GATEWAY_PORT}`
      ? ''
      : ` --endpoint ${plane.gatewayUrl}`;
  const body = JSON.stringify({ task_id: 'task-1', source: { region: plane.primaryRegion } });
  const speed = layout.speed === 1 ? '' : `, speed x${layout.speed}`;
  return [
    `Cortex local control plane: topology ${layout.topology}, ${Object.keys(plane.regions).length} regions${speed}`,
    row(
      'gateway',
      `${plane.gatewayUrl}  (serves the region ${layout.dns.name} resolves to; layout at /v1/sim)`,
    ),
    ...Object.entries(plane.regions).map(([id, region]) => row(id, region.url)),
    row('dns', `${layout.dns.address}:${layout.dns.port}  (${layout.dns.name} -> ${layout.dns.region})`),
    row('data', `${layout.data_dir}  (replication lag ${layout.replication.lag_ms} ms)`),
    row(
      'controls',
      layout.compliance.facts === 'aws'
        ? "the AWS deployment's (KMS encryption at rest, HTTPS, IAM authorization), as on AWS; --no-aws-controls judges the local stores as they are"
        : 'the local stores as they are (no encryption, no authentication): pii and sensitive data are refused',
    ),
    ...plane.runtime.placement.tables
      .filter((t) => t.role === 'critical')
      .map((t) =>
        row(
          'mrsc',
          `${t.name}  (statuses, failovers, handoffs: strongly consistent, needs a majority of regions)`,
        ),
      ),
    '',
    'Try:',
    `  curl -s -X POST ${plane.gatewayUrl}/v1/route -H 'content-type: application/json' -d '${body}'`,
    `  npx cortex regions${endpoint}`,
    `  dig @${layout.dns.address} -p ${layout.dns.port} ${layout.dns.name} +short`,
    '',
    'Ctrl-C stops it; state is kept in the data dir (--fresh starts clean).',
  ].join('\n');
}
