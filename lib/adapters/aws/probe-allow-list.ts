/**
 * Where the AWS HTTP probe may go: only the topology's own region endpoints. The probe reads most
 * URLs from SSM at run time, so a bad parameter value (a typo, or a write by someone who can write
 * parameters but not invoke the function) must not turn it into a request forger inside the VPC
 * or against the instance metadata service (169.254.169.254).
 *
 * A target region's URL is allowed when it is one the deployment names for that region (the
 * synth-time URLs: `https://<region>.api.<domain>` or the stack's own API), or an API Gateway URL of
 * that very region (`https://<id>.execute-api.<region>.amazonaws.com[.cn]`, default port). Anything
 * else is refused, and an address literal that is link-local, private, loopback or otherwise not
 * public is refused even if it looked allowed, unless the deployment names it exactly.
 */
import { BlockList, isIP } from 'node:net';

interface ProbeAllowListOptions {
  /** The topology's region ids: the only targets. */
  readonly regions: readonly string[];
  /** Base URLs the deployment names (known at synth), by region. */
  readonly named?: Readonly<Record<string, string>>;
}

/** Says why `url` may not be probed as `target`'s endpoint; undefined when it may. */
export type ProbeAllowList = (target: string, url: URL) => string | undefined;

let notPublic: BlockList | undefined;

/**
 * Built on the first check, not at import: every function's bundle carries this module through the
 * Lambda root, and only the probing ones ever check an address (import time is cold-start time).
 */
function notPublicRanges(): BlockList {
  if (notPublic) return notPublic;
  const ranges = new BlockList();
  for (const [network, prefix] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['224.0.0.0', 3],
  ] as const) {
    ranges.addSubnet(network, prefix, 'ipv4');
  }
  // BlockList checks an IPv4-mapped IPv6 address (::ffff:a9fe:a9fe) against the IPv4 rules above.
  for (const [network, prefix] of [
    ['::', 127],
    ['fc00::', 7],
    ['fe80::', 10],
    ['ff00::', 8],
    ['64:ff9b::', 96],
  ] as const) {
    ranges.addSubnet(network, prefix, 'ipv6');
  }
  notPublic = ranges;
  return ranges;
}

/** An IP literal that is not a public unicast address (link-local, private, loopback, mapped ...). */
export function isNonPublicAddress(hostname: string): boolean {
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  const family = isIP(host);
  if (family === 0) return false;
  return notPublicRanges().check(host, family === 4 ? 'ipv4' : 'ipv6');
}

export function probeAllowList(options: ProbeAllowListOptions): ProbeAllowList {
  const regions = new Set(options.regions);
  const named = new Map<string, URL>();
  for (const [region, url] of Object.entries(options.named ?? {})) {
    try {
      named.set(region, new URL(url));
    } catch {
      // A named URL that does not parse names nothing; the probe reports the region unreachable.
    }
  }
  return (target, url) => {
    if (!regions.has(target)) return `${target} is not a region of the topology`;
    const own = named.get(target);
    if (own && sameOrigin(own, url)) return undefined;
    if (url.protocol !== 'https:') return `${url.origin} is not https`;
    if (url.username !== '' || url.password !== '') return 'a URL with credentials';
    if (isNonPublicAddress(url.hostname)) return `${url.hostname} is not a public address`;
    if (url.port !== '') return `${url.origin} is not on the default port`;
    if (!executeApiHost(target).test(url.hostname)) {
      return `${url.hostname} is not an API Gateway endpoint of ${target}`;
    }
    return undefined;
  };
}

function sameOrigin(a: URL, b: URL): boolean {
  return a.protocol === b.protocol && a.host === b.host;
}

const hostPatterns = new Map<string, RegExp>();

function executeApiHost(region: string): RegExp {
  let pattern = hostPatterns.get(region);
  if (!pattern) {
    const escaped = region.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    pattern = new RegExp(`^[a-z0-9]{10}\\.execute-api\\.${escaped}\\.amazonaws\\.com(\\.cn)?$`);
    hostPatterns.set(region, pattern);
  }
  return pattern;
}
