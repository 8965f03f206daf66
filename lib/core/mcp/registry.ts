/**
 * The MCP server registry: one record per server per region (type, scope, capabilities, endpoint,
 * version, compliance mode, residency, failover rule), seeded from the topology's
 * `regional_mcp_deployment` and changed by registration, deregistration and MCP failover. Pure:
 * records are plain data; where they are kept is the adapters' business.
 */
import type { McpServerConfig } from '../topology/sections.ts';
import type { Topology } from '../topology/types.ts';

type McpScope = 'regional' | 'global';
type McpFailoverRule = 'any-region' | 'cross-region' | 'none';
/** `available`: serves; `unavailable`: its region failed or it was taken down (see `reason`). */
type McpServerStatus = 'available' | 'unavailable';

export interface McpServerRecord {
  readonly region: string;
  /** The server's name in its region, e.g. `postgres`. */
  readonly server: string;
  /** What kind of server it is (`filesystem`, `github`, `postgres`, `kubernetes`, `n8n`, ...). */
  readonly type: string;
  readonly scope: McpScope;
  readonly capabilities: readonly string[];
  readonly endpoint: string;
  /** Semantic version, `major.minor.patch`. */
  readonly version: string;
  readonly compliance_mode?: string;
  /** Country code or group its data must stay in (upper case). */
  readonly data_residency?: string;
  readonly failover: McpFailoverRule;
  readonly status: McpServerStatus;
  readonly reason?: string;
  /** Regions whose servers of this type this one stands in for after their failover. */
  readonly serving_for?: readonly string[];
  /** Where this server's work went when its region failed over. */
  readonly failed_over_to?: string;
  /** `topology` (seeded) or `api` (registered). */
  readonly source: 'topology' | 'api';
  readonly updated_at: string;
}

/** What each known server type offers; its type name is always one of its capabilities. */
const TYPE_CAPABILITIES: Readonly<Record<string, readonly string[]>> = {
  filesystem: ['files', 'files.read', 'files.write'],
  github: ['git', 'repositories', 'pull-requests'],
  postgres: ['sql', 'database'],
  kubernetes: ['containers', 'deployments'],
  n8n: ['workflows', 'automation'],
};

/** The version a seeded server is registered with (the topology names none). */
const SEEDED_VERSION = '1.0.0';

export function capabilitiesOf(type: string): string[] {
  return [type, ...(TYPE_CAPABILITIES[type] ?? [])];
}

/** The topology's enabled MCP servers as registry records (status available). */
export function seedRecords(topology: Topology, now: number): McpServerRecord[] {
  const records: McpServerRecord[] = [];
  for (const region of topology.regions) {
    const deployment = topology.regional_mcp_deployment[region.region_id];
    for (const [server, config] of Object.entries(deployment?.mcp_servers ?? {})) {
      if (!config.enabled) continue;
      records.push(seedRecord(region.region_id, server, config, now));
    }
  }
  return records;
}

function seedRecord(region: string, server: string, config: McpServerConfig, now: number): McpServerRecord {
  return {
    region,
    server,
    type: server,
    scope: config.scope,
    capabilities: capabilitiesOf(server),
    endpoint: endpointOf(region, server, config),
    version: SEEDED_VERSION,
    ...(config.compliance_mode === undefined ? {} : { compliance_mode: config.compliance_mode }),
    ...(config.data_residency === undefined ? {} : { data_residency: config.data_residency.toUpperCase() }),
    // A global server is the same service everywhere: any region's copy serves. A regional one
    // moves only when the topology says so.
    failover: config.failover ?? (config.scope === 'global' ? 'any-region' : 'none'),
    status: 'available',
    source: 'topology',
    updated_at: new Date(now).toISOString(),
  };
}

/** The server's address: its endpoint, its primary endpoint, its production cluster, else a name in the region. */
function endpointOf(region: string, server: string, config: McpServerConfig): string {
  const named =
    config.endpoint ??
    config.endpoints?.primary ??
    config.clusters?.production ??
    Object.values(config.endpoints ?? {})[0];
  return named ?? `mcp-${server}-${region}.cortex.internal`;
}

/** Semantic versions compared part by part; a missing part is 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

export const VERSION_PATTERN = /^\d{1,6}\.\d{1,6}\.\d{1,6}$/;
export const SERVER_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/;
