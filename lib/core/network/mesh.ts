/**
 * The cross-region mesh planned from the topology's `cross_region_networking`: each region's VPC
 * blocks and tunnel address, the tunnels of the full mesh (every pair of regions joined once), and
 * for every ordered pair the paths traffic can take, best first: the direct tunnel, through a third
 * region when the direct one is not active, the internet as the last resort (the spec's route
 * priorities). Pure: the same topology gives the same plan.
 */
import type { Topology } from '../topology/types.ts';
import { firstHost, type Ipv4Range, isPrivate, overlaps, parseCidr } from './cidr.ts';

interface MeshRegion {
  readonly region: string;
  /** The region's VPC blocks, as its tunnel ends declare them. */
  readonly cidrs: readonly string[];
  /** The region's tunnel endpoint (host name). */
  readonly endpoint: string;
  /** The tunnel interface's address: the first host of the region's first block, with its prefix. */
  readonly address: string;
}

export interface MeshLink {
  readonly tunnel_id: string;
  /** The pair, in topology order. */
  readonly regions: readonly [string, string];
  readonly status: 'active' | 'standby' | 'down';
  readonly bandwidth_mbps: number;
  readonly latency_ms: number;
}

interface MeshPath {
  /** `direct`, the region traffic passes through, or `internet`. */
  readonly via: string;
  readonly priority: number;
  /** Declared tunnel latency along the path (absent over the internet). */
  readonly latency_ms?: number;
}

export interface MeshRoute {
  readonly from: string;
  readonly to: string;
  /** The destination's blocks. */
  readonly cidrs: readonly string[];
  /** Best first; the first is what traffic takes now. */
  readonly paths: readonly MeshPath[];
}

interface MeshIssue {
  readonly field: string;
  readonly message: string;
}

export interface MeshPlan {
  readonly provider: string;
  readonly encryption: string;
  readonly key_rotation_days: number;
  readonly regions: readonly MeshRegion[];
  readonly links: readonly MeshLink[];
  readonly routes: readonly MeshRoute[];
  /** Empty when the mesh is sound. */
  readonly issues: readonly MeshIssue[];
}

const FIELD = 'cross_region_networking.vpn_mesh';

export function planMesh(topology: Topology): MeshPlan {
  const mesh = topology.cross_region_networking.vpn_mesh;
  const ids = topology.regions.map((r) => r.region_id);
  const issues: MeshIssue[] = [];
  const ends = collectEnds(topology, issues);
  const regions = ids.map((region): MeshRegion => {
    const cidrs = [...(ends.cidrs.get(region) ?? [])];
    const first = cidrs[0] === undefined ? undefined : parseCidr(cidrs[0]);
    if (cidrs.length === 0)
      issues.push({ field: FIELD, message: `${region} has no VPC block in any tunnel` });
    return {
      region,
      cidrs,
      endpoint: ends.endpoint.get(region) ?? '',
      address: first ? `${firstHost(first)}/${first.prefix}` : '',
    };
  });
  checkRanges(regions, issues);
  const links = meshLinks(topology, ids, issues);
  return {
    provider: mesh.provider,
    encryption: mesh.encryption,
    key_rotation_days: mesh.key_rotation_days,
    regions,
    links,
    routes: meshRoutes(topology, regions, links),
    issues,
  };
}

/** The link joining two regions, either way round. */
export function linkBetween(plan: Pick<MeshPlan, 'links'>, a: string, b: string): MeshLink | undefined {
  return plan.links.find(
    (l) => (l.regions[0] === a && l.regions[1] === b) || (l.regions[0] === b && l.regions[1] === a),
  );
}

interface Ends {
  readonly cidrs: Map<string, Set<string>>;
  readonly endpoint: Map<string, string>;
}

/** Each region's blocks and endpoint, from every tunnel end that names it; an endpoint named two ways is an issue. */
function collectEnds(topology: Topology, issues: MeshIssue[]): Ends {
  const known = new Set(topology.regions.map((r) => r.region_id));
  const cidrs = new Map<string, Set<string>>();
  const endpoint = new Map<string, string>();
  topology.cross_region_networking.vpn_mesh.tunnels.forEach((tunnel, i) => {
    for (const side of ['source', 'destination'] as const) {
      const end = tunnel[side];
      const at = `${FIELD}.tunnels[${i}].${side}`;
      if (!known.has(end.region)) {
        issues.push({
          field: `${at}.region`,
          message: `${tunnel.tunnel_id} names ${end.region}, not a region of the topology`,
        });
        continue;
      }
      const set = cidrs.get(end.region) ?? new Set<string>();
      for (const cidr of end.allowed_ips) set.add(cidr);
      cidrs.set(end.region, set);
      const seen = endpoint.get(end.region);
      if (seen === undefined) endpoint.set(end.region, end.endpoint);
      else if (seen !== end.endpoint) {
        issues.push({
          field: `${at}.endpoint`,
          message: `${end.region} is reached at ${seen} and at ${end.endpoint}; one endpoint per region`,
        });
      }
    }
  });
  return { cidrs, endpoint };
}

/** Blocks are valid IPv4, private, and never overlap another region's (routes would be ambiguous). */
function checkRanges(regions: readonly MeshRegion[], issues: MeshIssue[]): void {
  const ranges: { region: string; range: Ipv4Range }[] = [];
  for (const { region, cidrs } of regions) {
    for (const cidr of cidrs) {
      const range = parseCidr(cidr);
      if (!range) {
        issues.push({ field: FIELD, message: `${cidr} of ${region} is not an IPv4 block (a.b.c.d/n)` });
        continue;
      }
      if (!isPrivate(range)) {
        issues.push({
          field: FIELD,
          message: `${cidr} of ${region} is outside the private ranges (10/8, 172.16/12, 192.168/16, 100.64/10)`,
        });
      }
      for (const other of ranges) {
        if (other.region !== region && overlaps(other.range, range)) {
          issues.push({
            field: FIELD,
            message: `${cidr} of ${region} overlaps ${other.range.cidr} of ${other.region}`,
          });
        }
      }
      ranges.push({ region, range });
    }
  }
}

/** One link per pair of regions: a missing pair, or a pair joined twice, is an issue. */
function meshLinks(topology: Topology, ids: readonly string[], issues: MeshIssue[]): MeshLink[] {
  const links: MeshLink[] = [];
  const tunnels = topology.cross_region_networking.vpn_mesh.tunnels;
  for (const [i, a] of ids.entries()) {
    for (const b of ids.slice(i + 1)) {
      const joining = tunnels.filter(
        (t) =>
          (t.source.region === a && t.destination.region === b) ||
          (t.source.region === b && t.destination.region === a),
      );
      const [tunnel, ...extra] = joining;
      if (!tunnel) {
        issues.push({
          field: `${FIELD}.tunnels`,
          message: `no tunnel between ${a} and ${b}; the mesh joins every pair of regions`,
        });
        continue;
      }
      if (extra.length > 0) {
        issues.push({
          field: `${FIELD}.tunnels`,
          message: `${[tunnel, ...extra].map((t) => t.tunnel_id).join(' and ')} all join ${a} and ${b}; one tunnel per pair`,
        });
      }
      links.push({
        tunnel_id: tunnel.tunnel_id,
        regions: [a, b],
        status: tunnel.status,
        bandwidth_mbps: tunnel.bandwidth_mbps,
        latency_ms: tunnel.latency_ms,
      });
    }
  }
  return links;
}

/** Every ordered pair's paths, best first: direct, then through each third region (lowest latency first), then the internet. */
function meshRoutes(
  topology: Topology,
  regions: readonly MeshRegion[],
  links: readonly MeshLink[],
): MeshRoute[] {
  const priorities = topology.cross_region_networking.routing.route_priorities;
  const active = (a: string, b: string) => {
    const link = linkBetween({ links }, a, b);
    return link?.status === 'active' ? link : undefined;
  };
  const routes: MeshRoute[] = [];
  for (const from of regions) {
    for (const to of regions) {
      if (from.region === to.region) continue;
      const paths: MeshPath[] = [];
      const direct = active(from.region, to.region);
      if (direct)
        paths.push({ via: 'direct', priority: priorities.direct_tunnel, latency_ms: direct.latency_ms });
      const indirect: MeshPath[] = [];
      for (const via of regions) {
        if (via.region === from.region || via.region === to.region) continue;
        const first = active(from.region, via.region);
        const second = active(via.region, to.region);
        if (first && second) {
          indirect.push({
            via: via.region,
            priority: priorities.indirect_tunnel,
            latency_ms: first.latency_ms + second.latency_ms,
          });
        }
      }
      indirect.sort((x, y) => (x.latency_ms ?? 0) - (y.latency_ms ?? 0) || x.via.localeCompare(y.via));
      paths.push(...indirect, { via: 'internet', priority: priorities.internet_failover });
      routes.push({ from: from.region, to: to.region, cidrs: to.cidrs, paths });
    }
  }
  return routes;
}

/** A pair's latency over the mesh: the declared latency along the path traffic takes now. */
interface TunnelLatency {
  readonly ms: number;
  /** `direct`, or the region the path passes through. */
  readonly via: string;
}

/**
 * The declared latency of the path traffic between two regions takes now (the route's first path),
 * or undefined when that path is the internet (no tunnel figure) or the pair is not in the plan.
 */
export function tunnelLatency(
  plan: Pick<MeshPlan, 'routes'>,
  from: string,
  to: string,
): TunnelLatency | undefined {
  const first = plan.routes.find((r) => r.from === from && r.to === to)?.paths[0];
  if (first === undefined || first.latency_ms === undefined) return undefined;
  return { ms: first.latency_ms, via: first.via };
}
