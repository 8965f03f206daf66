/**
 * A region's WireGuard configuration from the mesh plan: its interface, and one peer per region it
 * has a live tunnel to (active or standby). A peer's AllowedIPs are its own blocks plus those of every
 * region whose best path passes through it, since WireGuard routes a block to exactly one peer: a
 * region behind a down tunnel is reached through the third region the plan chose. Keys are inputs
 * (generated and kept outside the core); the rendering is text, the same for the same inputs.
 */
import { linkBetween, type MeshPlan } from './mesh.ts';

const WIREGUARD_PORT = 51820;
/** Seconds between keepalives: keeps NAT and stateful firewall entries open on idle tunnels. */
const KEEPALIVE_SECONDS = 25;

interface RegionKeys {
  /** This region's private key (base64 of 32 bytes). */
  readonly private_key: string;
  /** Every region's public key (base64 of 32 bytes), by region id. */
  readonly public_keys: Readonly<Record<string, string>>;
}

interface WireGuardPeer {
  readonly region: string;
  readonly public_key: string;
  readonly allowed_ips: readonly string[];
  readonly endpoint: string;
  readonly tunnel_id: string;
}

/** The peers of `region`, in the plan's region order. */
function peersOf(
  plan: MeshPlan,
  region: string,
  publicKeys: Readonly<Record<string, string>>,
): WireGuardPeer[] {
  const blocks = new Map<string, string[]>();
  for (const route of plan.routes) {
    if (route.from !== region) continue;
    const best = route.paths[0];
    if (!best || best.via === 'internet') continue;
    const through = best.via === 'direct' ? route.to : best.via;
    blocks.set(through, [...(blocks.get(through) ?? []), ...route.cidrs]);
  }
  const peers: WireGuardPeer[] = [];
  for (const other of plan.regions) {
    if (other.region === region) continue;
    const link = linkBetween(plan, region, other.region);
    if (!link || link.status === 'down') continue;
    const key = publicKeys[other.region];
    if (key === undefined) throw new RangeError(`no public key for ${other.region}`);
    peers.push({
      region: other.region,
      public_key: key,
      allowed_ips: blocks.get(other.region) ?? other.cidrs,
      endpoint: `${other.endpoint}:${WIREGUARD_PORT}`,
      tunnel_id: link.tunnel_id,
    });
  }
  return peers;
}

/** wg-quick's INI for `region`. */
export function renderWireGuard(plan: MeshPlan, region: string, keys: RegionKeys): string {
  const self = plan.regions.find((r) => r.region === region);
  if (!self) throw new RangeError(`${region} is not a region of the mesh`);
  const lines = [
    `# ${region} in the cortex mesh (${plan.provider}, ${plan.encryption})`,
    '[Interface]',
    `Address = ${self.address}`,
    `ListenPort = ${WIREGUARD_PORT}`,
    `PrivateKey = ${keys.private_key}`,
  ];
  for (const peer of peersOf(plan, region, keys.public_keys)) {
    lines.push(
      '',
      `# ${peer.region} (${peer.tunnel_id})`,
      '[Peer]',
      `PublicKey = ${peer.public_key}`,
      `AllowedIPs = ${peer.allowed_ips.join(', ')}`,
      `Endpoint = ${peer.endpoint}`,
      `PersistentKeepalive = ${KEEPALIVE_SECONDS}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

interface IniSection {
  readonly name: string;
  readonly values: Readonly<Record<string, string>>;
}

/**
 * Reads WireGuard's INI: `[Section]` headers, `Key = Value` lines, `#` comments. A key written twice
 * in a section, a line that is neither, or a value before any section is an error naming the line.
 * Exported as the check of renderWireGuard's contract: what it writes reads back as WireGuard's INI.
 */
export function parseWireGuardIni(text: string): IniSection[] {
  const sections: { name: string; values: Record<string, string> }[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      sections.push({ name: header[1] as string, values: {} });
      return;
    }
    const pair = /^(\w+)\s*=\s*(.+)$/.exec(line);
    const current = sections.at(-1);
    if (!pair || !current)
      throw new SyntaxError(`line ${i + 1}: not a section or a key = value line: ${line}`);
    const [, key, value] = pair as unknown as [string, string, string];
    if (Object.hasOwn(current.values, key))
      throw new SyntaxError(`line ${i + 1}: ${key} written twice in [${current.name}]`);
    current.values[key] = value;
  });
  return sections;
}
