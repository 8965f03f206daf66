/**
 * The MCP server registry's use cases: list (with each server's live state as this region's replica
 * sees it), discover a server for a capability, register and deregister, and the MCP side of a
 * regional failover and failback. The registry is seeded from the topology the first time a region
 * finds it empty.
 */
import { assessCompliance, heldFrameworks, originOf } from '../../core/compliance/rules.ts';
import type { DataClassification } from '../../core/compliance/types.ts';
import { McpServerUnavailableError, NotFoundError } from '../../core/errors.ts';
import { type Discovery, type DiscoveryContext, discoverMcpServer } from '../../core/mcp/discovery.ts';
import { type McpMove, planMcpFailback, planMcpFailover } from '../../core/mcp/failover.ts';
import {
  type McpObserverHealth,
  type McpServerHealth,
  mcpHealthReason,
  mcpServerHealth,
  mcpViewMaxAgeMs,
} from '../../core/mcp/health.ts';
import { capabilitiesOf, type McpServerRecord, seedRecords } from '../../core/mcp/registry.ts';
import { isServing } from '../../core/state/records.ts';
import type {
  EventsPort,
  Failovers,
  HealthViews,
  LatencyPort,
  McpRegistryPort,
  RegionStatuses,
} from '../../ports.ts';
import type { RegionalDeps, WithState } from '../deps.ts';
import { readEffectiveMatrix } from '../latency/matrix.ts';
import { observedHealthOfRegions } from '../regions.ts';

/** Exactly what the MCP use cases need. */
export type McpDeps = Pick<RegionalDeps, 'regionId' | 'topology' | 'state' | 'clock' | 'deployment'> & {
  readonly mcp: McpRegistryPort;
  readonly latency?: LatencyPort;
  readonly events?: EventsPort;
};

interface McpServerView extends McpServerRecord {
  /**
   * Whether it serves now: its own status, its region's, and its endpoint's health probes, as this
   * region's replica holds them.
   */
  readonly live: {
    readonly serving: boolean;
    readonly reasons: readonly string[];
    /** What the regions' probes of its endpoint say (a majority of unhealthy views takes it out). */
    readonly health: McpServerHealth['state'];
    readonly unhealthy_by: McpServerHealth['unhealthy_by'];
    readonly observed_by: McpServerHealth['observed_by'];
  };
}

interface McpListQuery {
  readonly region?: string;
  readonly capability?: string;
}

/** The registry (seeded from the topology when empty), each server with its live state. */
export async function listMcpServers(
  deps: WithState<McpDeps, RegionStatuses & HealthViews & Failovers>,
  query: McpListQuery = {},
): Promise<McpServerView[]> {
  const [servers, live, health] = await Promise.all([
    readMcpRegistry(deps),
    liveRegions(deps),
    serverHealthOf(deps),
  ]);
  return servers
    .filter(
      (s) =>
        (query.region === undefined || s.region === query.region) &&
        (query.capability === undefined || s.capabilities.includes(query.capability)),
    )
    .map((s) => {
      const probed = health(s.region, s.server);
      const reasons = [
        ...live(s.region),
        ...(s.status === 'available' ? [] : [`${s.status}${s.reason ? `: ${s.reason}` : ''}`]),
        ...probeReasons(s, probed),
      ];
      return {
        ...s,
        live: {
          serving: reasons.length === 0,
          reasons,
          health: probed.state,
          unhealthy_by: probed.unhealthy_by,
          observed_by: probed.observed_by,
        },
      };
    });
}

interface McpDiscoveryQuery {
  readonly capability: string;
  /** The agent's region (default: the region asked). */
  readonly region?: string;
  readonly data_classification?: DataClassification;
  readonly min_version?: string;
}

type McpDiscoveryAnswer = Extract<Discovery, { found: true }> & {
  readonly asked_from: string;
  /**
   * What the probes of the chosen server's endpoint say: `unknown` while nothing probes it (before
   * the first probe; on AWS without the network mesh, where no function reaches the servers).
   */
  readonly health: McpServerHealth['state'];
};

/** The server an agent in `region` should use for `capability`; 404 or 422 with every reason otherwise. */
export async function discoverMcp(
  deps: WithState<McpDeps, RegionStatuses & HealthViews & Failovers>,
  query: McpDiscoveryQuery,
): Promise<McpDiscoveryAnswer> {
  const region = query.region ?? deps.regionId;
  const [servers, regionReasons, health, matrix] = await Promise.all([
    readMcpRegistry(deps),
    liveRegions(deps),
    serverHealthOf(deps),
    latencyMatrix(deps),
  ]);
  const context: DiscoveryContext = {
    topology: deps.topology,
    servers,
    regionReasons,
    serverReasons: (s) => probeReasons(s, health(s.region, s.server)),
    latencyMs: (from, to) => matrix[from]?.[to] ?? Number.POSITIVE_INFINITY,
    frameworks: (r) => heldFrameworks(deps.topology, r),
    ...(query.data_classification === undefined
      ? {}
      : { dataRule: dataRule(deps, region, query.data_classification) }),
  };
  const answer = discoverMcpServer(
    {
      capability: query.capability,
      region,
      ...(query.min_version === undefined ? {} : { min_version: query.min_version }),
    },
    context,
  );
  if (answer.found) {
    return {
      ...answer,
      asked_from: region,
      health: health(answer.server.region, answer.server.server).state,
    };
  }
  const excluded = answer.considered.map((c) => ({
    region: c.region,
    reasons: c.reasons.map((r) => (r.startsWith(`${c.server} `) ? r : `${c.server}: ${r}`)),
  }));
  if (answer.status === 404) throw new McpNotFound(query.capability, answer.reason);
  throw new McpServerUnavailableError(query.capability, answer.reason, excluded);
}

/** A 404 that says what was looked for. */
class McpNotFound extends NotFoundError {
  constructor(capability: string, reason: string) {
    super('MCP capability', capability);
    this.message = reason;
  }
}

interface McpRegistration {
  readonly type?: string;
  readonly scope: 'regional' | 'global';
  readonly capabilities?: readonly string[];
  readonly endpoint: string;
  readonly version: string;
  readonly compliance_mode?: string;
  readonly data_residency?: string;
  readonly failover?: 'any-region' | 'cross-region' | 'none';
}

/** Registers (or re-registers) `server` in `region`; answers the record written. */
export async function registerMcpServer(
  deps: Omit<McpDeps, 'state'>,
  region: string,
  server: string,
  registration: McpRegistration,
): Promise<McpServerRecord> {
  requireRegion(deps, region);
  await readMcpRegistry(deps);
  const type = registration.type ?? server;
  const record: McpServerRecord = {
    region,
    server,
    type,
    scope: registration.scope,
    capabilities: [...new Set([...capabilitiesOf(type), ...(registration.capabilities ?? [])])],
    endpoint: registration.endpoint,
    version: registration.version,
    ...(registration.compliance_mode === undefined ? {} : { compliance_mode: registration.compliance_mode }),
    ...(registration.data_residency === undefined
      ? {}
      : { data_residency: registration.data_residency.toUpperCase() }),
    failover: registration.failover ?? (registration.scope === 'global' ? 'any-region' : 'none'),
    status: 'available',
    source: 'api',
    updated_at: new Date(deps.clock.now()).toISOString(),
  };
  await deps.mcp.putMcpServer(record);
  await publish(deps, 'mcp.server_registered', { region, server, type, version: record.version });
  return record;
}

/** Deregisters `server` in `region`; 404 when it is not registered. */
export async function deregisterMcpServer(
  deps: Omit<McpDeps, 'state'>,
  region: string,
  server: string,
): Promise<void> {
  requireRegion(deps, region);
  await readMcpRegistry(deps);
  const removed = await deps.mcp.deleteMcpServer(region, server, new Date(deps.clock.now()).toISOString());
  if (!removed) throw new NotFoundError('MCP server', `${region}/${server}`);
  await publish(deps, 'mcp.server_deregistered', { region, server });
}

/** A regional failover's MCP step: `failed`'s servers unavailable, counterparts in `targets` take over where allowed. */
export async function failOverMcpServers(
  deps: Omit<McpDeps, 'state'>,
  failed: string,
  targets: readonly string[],
  failoverId?: string,
): Promise<readonly McpMove[]> {
  const servers = await readMcpRegistry(deps);
  const plan = planMcpFailover(
    failed,
    targets,
    servers,
    { topology: deps.topology, frameworks: (r) => heldFrameworks(deps.topology, r) },
    deps.clock.now(),
  );
  for (const record of plan.writes) await deps.mcp.putMcpServer(record);
  await publish(deps, 'mcp.failover', {
    failed_region: failed,
    targets,
    moves: plan.moves,
    ...(failoverId ? { failover_id: failoverId } : {}),
  });
  return plan.moves;
}

/** A failback's MCP step: `region`'s servers available again, nobody standing in for them. */
export async function failBackMcpServers(deps: Omit<McpDeps, 'state'>, region: string): Promise<number> {
  const writes = planMcpFailback(region, await readMcpRegistry(deps), deps.clock.now());
  for (const record of writes) await deps.mcp.putMcpServer(record);
  if (writes.length > 0)
    await publish(deps, 'mcp.failback', { region, servers: writes.map((w) => `${w.region}/${w.server}`) });
  return writes.length;
}

/** The registry as this replica holds it, seeded from the topology the first time it is empty. */
export async function readMcpRegistry(deps: Omit<McpDeps, 'state'>): Promise<McpServerRecord[]> {
  const servers = await deps.mcp.listMcpServers();
  if (servers.length > 0) return servers;
  // Empty: never seeded in this replica (or everything deregistered: tombstones keep those out).
  const seeded = await deps.mcp.seedMcpServers(seedRecords(deps.topology, deps.clock.now()));
  return seeded > 0 ? deps.mcp.listMcpServers() : servers;
}

/**
 * Whether each region serves MCP now: its status serves and a majority of its observers reach it and
 * find it healthy (a dead region's servers are down with it before any failover is decided).
 */
async function liveRegions(
  deps: WithState<McpDeps, RegionStatuses & HealthViews & Failovers>,
): Promise<(region: string) => readonly string[]> {
  const { statuses, observed } = await observedHealthOfRegions(deps);
  return (region) => {
    const reasons: string[] = [];
    const status = statuses.get(region);
    if (status === undefined || !isServing(status.status)) reasons.push(`${region} is not serving`);
    const seen = observed.get(region)?.state;
    if (seen === 'unreachable' || seen === 'unhealthy')
      reasons.push(`${region} is ${seen} to a majority of its observers`);
    return reasons;
  };
}

/** Each server's health as the observers' records in this replica say, by `region/server`. */
async function serverHealthOf(
  deps: Pick<McpDeps, 'topology' | 'clock' | 'mcp'>,
): Promise<(region: string, server: string) => McpServerHealth> {
  let reports: McpObserverHealth[] = [];
  try {
    reports = await deps.mcp.listMcpHealth();
  } catch {
    // Unreadable probe records leave every server to its region's health and registry status.
  }
  const observers = deps.topology.regions.map((r) => r.region_id);
  const now = deps.clock.now();
  const maxAge = mcpViewMaxAgeMs(deps.topology);
  return (region, server) => mcpServerHealth(reports, region, server, observers, now, maxAge);
}

/** Why `server` cannot serve by its endpoint's probes: a majority of the regions hold it unhealthy. */
function probeReasons(server: McpServerRecord, health: McpServerHealth): string[] {
  return health.state === 'unhealthy' ? [mcpHealthReason(server.server, server.region, health)] : [];
}

async function latencyMatrix(deps: Omit<McpDeps, 'state'>): Promise<Record<string, Record<string, number>>> {
  const effective = await readEffectiveMatrix(deps);
  return Object.fromEntries(
    Object.entries(effective).map(([from, row]) => [
      from,
      Object.fromEntries(Object.entries(row).map(([to, cell]) => [to, cell.ms])),
    ]),
  );
}

/** The compliance rules for data of `classification` from `region`'s country, as the router applies them. */
function dataRule(
  deps: Omit<McpDeps, 'state'>,
  region: string,
  classification: DataClassification,
): (r: string) => readonly string[] {
  const country = deps.topology.regions.find((r) => r.region_id === region)?.geographic_location.country;
  const origin = country === undefined ? undefined : originOf(deps.topology, country);
  if (!origin) return () => [];
  const assessment = assessCompliance(
    deps.topology,
    { data_classification: classification, origin },
    deps.deployment,
  );
  return (r) => {
    const verdict = assessment.get(r);
    return verdict === undefined || verdict.compliant ? [] : verdict.reasons.map((reason) => reason.reason);
  };
}

function requireRegion(deps: Omit<McpDeps, 'state'>, region: string): void {
  if (!deps.topology.regions.some((r) => r.region_id === region)) throw new NotFoundError('region', region);
}

async function publish(
  deps: Omit<McpDeps, 'state'>,
  type: string,
  detail: Readonly<Record<string, unknown>>,
): Promise<void> {
  try {
    await deps.events?.publish([
      { type, source_region: deps.regionId, time: new Date(deps.clock.now()).toISOString(), detail },
    ]);
  } catch {
    // Best effort (EventsPort contract): a registry change never waits on its event.
  }
}

// The rules a request to the MCP API is validated by (handlers depend on lib/app alone).
export { DATA_CLASSIFICATIONS } from '../../core/compliance/types.ts';
export { SERVER_NAME_PATTERN, VERSION_PATTERN } from '../../core/mcp/registry.ts';
export { COMPLIANCE_FRAMEWORKS } from '../../core/topology/frameworks.ts';
