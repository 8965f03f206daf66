/**
 * The `cross_region_networking` section: tunnels between known regions joining every pair, VPC
 * ranges that do not overlap across regions, and QoS classes that fit the link.
 */
import type { CrossRegionNetworking } from '../sections.ts';
import { type KnownRegions, type Report, reportDuplicates, round6, sum, unknownRegion } from './report.ts';

const field = 'cross_region_networking';

type Tunnel = CrossRegionNetworking['vpn_mesh']['tunnels'][number];

interface TunnelMap {
  /** Pairs of regions a tunnel joins (pairKey). */
  readonly linked: Set<string>;
  /** Region -> its VPC ranges (each once, with the first place it is written). */
  readonly cidrsOf: Map<string, Map<string, string>>;
}

export function checkNetworking(
  networking: CrossRegionNetworking,
  known: KnownRegions,
  report: Report,
): CrossRegionNetworking {
  const { linked, cidrsOf } = checkTunnels(networking.vpn_mesh.tunnels, known, report);
  checkMesh(linked, known, report);
  checkOverlaps(cidrsOf, report);
  checkQos(networking.qos.traffic_classes, report);
  return networking;
}

function checkTunnels(tunnels: readonly Tunnel[], known: KnownRegions, report: Report): TunnelMap {
  reportDuplicates(
    tunnels.map((t) => t.tunnel_id),
    (i) => `${field}.vpn_mesh.tunnels[${i}].tunnel_id`,
    'tunnel_id',
    report,
  );
  const linked = new Set<string>();
  const cidrsOf = new Map<string, Map<string, string>>();
  tunnels.forEach((tunnel, i) => {
    const at = `${field}.vpn_mesh.tunnels[${i}]`;
    for (const end of ['source', 'destination'] as const) {
      const { region, allowed_ips } = tunnel[end];
      if (!known.ids.has(region)) report(`${at}.${end}.region`, unknownRegion(region));
      const ranges = cidrsOf.get(region) ?? new Map<string, string>();
      allowed_ips.forEach((cidr, k) => {
        if (!ranges.has(cidr)) ranges.set(cidr, `${at}.${end}.allowed_ips[${k}]`);
      });
      cidrsOf.set(region, ranges);
    }
    if (tunnel.source.region === tunnel.destination.region) {
      report(`${at}.destination.region`, 'a tunnel joins two different regions');
    }
    linked.add(pairKey(tunnel.source.region, tunnel.destination.region));
  });
  return { linked, cidrsOf };
}

/** The mesh joins every pair of regions. */
function checkMesh(linked: ReadonlySet<string>, known: KnownRegions, report: Report): void {
  for (const [i, a] of known.list.entries()) {
    for (const b of known.list.slice(i + 1)) {
      if (!linked.has(pairKey(a, b))) {
        report(
          `${field}.vpn_mesh.tunnels`,
          `no tunnel between ${a} and ${b}; the mesh joins every pair of regions`,
        );
      }
    }
  }
}

/** Overlapping VPC ranges in two regions make tunnel routes ambiguous. */
function checkOverlaps(cidrsOf: TunnelMap['cidrsOf'], report: Report): void {
  const ranges = [...cidrsOf].flatMap(([region, list]) =>
    [...list].map(([cidr, at]) => ({ region, cidr, at, range: cidrRange(cidr) })),
  );
  for (const [i, a] of ranges.entries()) {
    for (const b of ranges.slice(i + 1)) {
      if (a.region !== b.region && a.range[0] <= b.range[1] && b.range[0] <= a.range[1]) {
        report(b.at, `${b.cidr} of ${b.region} overlaps ${a.cidr} of ${a.region}`);
      }
    }
  }
}

function checkQos(classes: CrossRegionNetworking['qos']['traffic_classes'], report: Report): void {
  reportDuplicates(
    classes.map((c) => c.name),
    (i) => `${field}.qos.traffic_classes[${i}].name`,
    'traffic class',
    report,
  );
  reportDuplicates(
    classes.map((c) => String(c.priority)),
    (i) => `${field}.qos.traffic_classes[${i}].priority`,
    'priority',
    report,
  );
  const guaranteed = round6(sum(classes.map((c) => c.guaranteed_bandwidth_percent)));
  if (guaranteed > 100) {
    report(`${field}.qos.traffic_classes`, `guaranteed bandwidth adds up to ${guaranteed} %, above 100 %`);
  }
}

const pairKey = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);

function cidrRange(cidr: string): [number, number] {
  const [address = '', bits = '32'] = cidr.split('/');
  const base = address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(bits));
  const start = base - (base % size);
  return [start, start + size - 1];
}
