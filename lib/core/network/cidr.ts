/**
 * IPv4 ranges as the mesh plans them: a region's VPC blocks (from the topology's tunnels), whether
 * they overlap, whether they are private, and the address a region's tunnel interface takes.
 */

export interface Ipv4Range {
  readonly cidr: string;
  /** First and last address, as unsigned 32-bit numbers. */
  readonly first: number;
  readonly last: number;
  readonly prefix: number;
}

/** RFC 1918 private ranges and RFC 6598 shared space: what a VPC may use without owning the block. */
const PRIVATE_RANGES: readonly Ipv4Range[] = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
].map((cidr) => parseCidr(cidr) as Ipv4Range);

/** `a.b.c.d/n` -> its range; undefined when it is not one (octets 0-255, prefix 0-32). */
export function parseCidr(cidr: string): Ipv4Range | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  const first = base - (base % size);
  return { cidr, first, last: first + size - 1, prefix };
}

export function overlaps(a: Ipv4Range, b: Ipv4Range): boolean {
  return a.first <= b.last && b.first <= a.last;
}

/** Inside one of PRIVATE_RANGES. */
export function isPrivate(range: Ipv4Range): boolean {
  return PRIVATE_RANGES.some((p) => p.first <= range.first && range.last <= p.last);
}

export function formatAddress(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** The range's first usable host (its network address + 1), e.g. 10.1.0.1 for 10.1.0.0/16. */
export function firstHost(range: Ipv4Range): string {
  return formatAddress(range.prefix >= 31 ? range.first : range.first + 1);
}
