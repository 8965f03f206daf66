/**
 * MCP discovery: which server an agent in a region should use for a capability. A global server is
 * taken from the nearest serving region (latency matrix); a regional one from the asked region, or,
 * when that region or its server is down, from the region its failover rule and the compliance rules
 * allow: `none` never moves, `cross-region` goes where the region's failover sent its work (or the
 * nearest region that qualifies), `any-region` to the nearest that qualifies. Every server looked at
 * and not taken carries its reasons. Pure: the caller supplies statuses, latency and compliance.
 */
import { expandResidency } from '../topology/residency.ts';
import type { Topology } from '../topology/types.ts';
import { compareVersions, type McpServerRecord } from './registry.ts';

interface DiscoveryQuery {
  readonly capability: string;
  /** The region the agent runs in. */
  readonly region: string;
  readonly min_version?: string;
}

export interface DiscoveryContext {
  readonly topology: Topology;
  readonly servers: readonly McpServerRecord[];
  /** Why a region cannot serve now (empty: it serves), as the asking region's replica sees it. */
  readonly regionReasons: (region: string) => readonly string[];
  /** Why a server itself cannot serve (its endpoint's health probes); absent: no probe verdicts. */
  readonly serverReasons?: (server: McpServerRecord) => readonly string[];
  /** Round-trip ms between two regions, as routing uses it. */
  readonly latencyMs: (from: string, to: string) => number;
  /** Reasons the data of the query may not be used in `region` (empty: it may); absent: no data rule. */
  readonly dataRule?: (region: string) => readonly string[];
  /** Frameworks a region holds. */
  readonly frameworks: (region: string) => ReadonlySet<string>;
}

interface ConsideredServer {
  readonly region: string;
  readonly server: string;
  readonly reasons: readonly string[];
}

export type Discovery =
  | {
      readonly found: true;
      readonly server: McpServerRecord;
      /** Why this one: `own region`, `nearest serving region`, `failover of <region>`. */
      readonly basis: string;
      readonly latency_ms: number;
      readonly considered: readonly ConsideredServer[];
    }
  | {
      readonly found: false;
      /** 404: nothing offers the capability (at that version); 422: servers exist, none may serve. */
      readonly status: 404 | 422;
      readonly reason: string;
      readonly considered: readonly ConsideredServer[];
    };

export function discoverMcpServer(query: DiscoveryQuery, context: DiscoveryContext): Discovery {
  const offering = context.servers.filter((s) => s.capabilities.includes(query.capability));
  if (offering.length === 0) {
    return {
      found: false,
      status: 404,
      reason: `no MCP server offers the capability "${query.capability}"`,
      considered: [],
    };
  }
  const considered: ConsideredServer[] = [];
  const versioned = offering.filter((s) => {
    if (query.min_version === undefined || compareVersions(s.version, query.min_version) >= 0) return true;
    considered.push({
      region: s.region,
      server: s.server,
      reasons: [`version ${s.version} is below ${query.min_version}`],
    });
    return false;
  });
  if (versioned.length === 0) {
    return {
      found: false,
      status: 404,
      reason: `no MCP server offers "${query.capability}" at version ${query.min_version} or later`,
      considered,
    };
  }
  const global = versioned.filter((s) => s.scope === 'global');
  if (global.length > 0) return nearest(query, context, global, considered, 'nearest serving region');
  return regional(query, context, versioned, considered);
}

function regional(
  query: DiscoveryQuery,
  context: DiscoveryContext,
  servers: readonly McpServerRecord[],
  considered: ConsideredServer[],
): Discovery {
  const own = servers.find((s) => s.region === query.region);
  if (!own) {
    return {
      found: false,
      status: 404,
      reason: `${query.region} runs no server offering "${query.capability}" (regional in ${inTopologyOrder(
        context,
        servers.map((s) => s.region),
      ).join(', ')})`,
      considered,
    };
  }
  const ownReasons = [...downReasons(own, context), ...(context.dataRule?.(own.region) ?? [])];
  if (ownReasons.length === 0) {
    return {
      found: true,
      server: own,
      basis: 'own region',
      latency_ms: context.latencyMs(query.region, own.region),
      considered,
    };
  }
  considered.push({ region: own.region, server: own.server, reasons: ownReasons });
  if (own.failover === 'none') {
    return {
      found: false,
      status: 422,
      reason: `${own.server} of ${own.region} cannot serve (${ownReasons.join('; ')}) and does not fail over (failover: none)`,
      considered,
    };
  }
  const counterparts = servers.filter((s) => s.region !== own.region && s.type === own.type);
  const allowed = counterparts.filter((s) => {
    const reasons = moveReasons(own, s, context);
    if (reasons.length > 0) considered.push({ region: s.region, server: s.server, reasons });
    return reasons.length === 0;
  });
  // Where the region's failover already sent its MCP work comes first.
  const standing = allowed.filter((s) => s.serving_for?.includes(own.region));
  const pool = own.failover === 'cross-region' && standing.length > 0 ? standing : allowed;
  const found = nearest(query, context, pool, considered, `failover of ${own.region}`);
  if (found.found) return found;
  return {
    found: false,
    status: 422,
    reason: `${own.server} of ${own.region} cannot serve (${ownReasons.join('; ')}) and no other region may take it over`,
    considered,
  };
}

/** The serving candidate nearest the asking region; the others' reasons recorded. */
function nearest(
  query: DiscoveryQuery,
  context: DiscoveryContext,
  candidates: readonly McpServerRecord[],
  considered: ConsideredServer[],
  basis: string,
): Discovery {
  const usable = candidates.filter((s) => {
    const reasons = [...downReasons(s, context), ...(context.dataRule?.(s.region) ?? [])];
    if (reasons.length > 0 && !considered.some((c) => c.region === s.region && c.server === s.server)) {
      considered.push({ region: s.region, server: s.server, reasons });
    }
    return reasons.length === 0;
  });
  const ranked = usable
    .map((s) => ({ s, ms: context.latencyMs(query.region, s.region) }))
    .sort((a, b) => a.ms - b.ms || a.s.region.localeCompare(b.s.region));
  const best = ranked[0];
  if (!best) {
    return {
      found: false,
      status: 422,
      reason: `no region may serve "${query.capability}" now`,
      considered,
    };
  }
  const why = best.s.region === query.region && basis === 'nearest serving region' ? 'own region' : basis;
  return { found: true, server: best.s, basis: why, latency_ms: best.ms, considered };
}

/** Why a server cannot serve where it is. */
function downReasons(server: McpServerRecord, context: DiscoveryContext): string[] {
  const reasons: string[] = [];
  reasons.push(...context.regionReasons(server.region));
  if (server.status !== 'available')
    reasons.push(`${server.server} is ${server.status}${server.reason ? `: ${server.reason}` : ''}`);
  reasons.push(...(context.serverReasons?.(server) ?? []));
  return reasons;
}

/** Why `to` may not take over `from`'s work: its residency and compliance mode travel with it. */
export function moveReasons(
  from: McpServerRecord,
  to: McpServerRecord,
  context: Pick<DiscoveryContext, 'topology' | 'frameworks'>,
): string[] {
  const reasons: string[] = [];
  if (from.data_residency !== undefined) {
    const allowed = expandResidency(context.topology, from.data_residency) ?? [];
    const country = context.topology.regions.find((r) => r.region_id === to.region)?.geographic_location
      .country;
    if (country === undefined || !allowed.includes(country)) {
      reasons.push(
        `${from.server} of ${from.region} keeps its data in ${from.data_residency}; ${to.region} is in ${country ?? 'an unknown country'}`,
      );
    }
  }
  if (from.compliance_mode !== undefined && !context.frameworks(to.region).has(from.compliance_mode)) {
    reasons.push(
      `${from.server} of ${from.region} runs in ${from.compliance_mode} mode; ${to.region} does not hold ${from.compliance_mode}`,
    );
  }
  return reasons;
}

function inTopologyOrder(context: Pick<DiscoveryContext, 'topology'>, regions: readonly string[]): string[] {
  const set = new Set(regions);
  return context.topology.regions.map((r) => r.region_id).filter((id) => set.has(id));
}
