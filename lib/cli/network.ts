/**
 * `cortex network plan|render|keys|rotate-keys`: the cross-region mesh planned from the topology
 * (blocks, tunnels, the paths between every pair), each region's WireGuard configuration rendered
 * with keys generated on this machine, and the keys' age against the topology's rotation period.
 * Private keys stay in files with mode 0600 under the data directory and are never printed.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MeshKeyStore } from '../adapters/local/mesh-keys.ts';
import { keyAges } from '../core/network/keys.ts';
import { type MeshPlan, planMesh } from '../core/network/mesh.ts';
import { renderWireGuard } from '../core/network/wireguard.ts';
import type { Topology } from '../core/topology/types.ts';
import { DEFAULT_DATA_DIR } from '../local/defaults.ts';
import { loadTopologyFile } from '../topology/load.ts';
import { type CliIo, parse, requireReadable, UsageError } from './common.ts';
import { paint, table } from './format.ts';

const COMMON = {
  topology: { type: 'string' },
  'data-dir': { type: 'string' },
  json: { type: 'boolean' },
} as const;

export async function networkCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'plan':
      return planCommand(rest, io);
    case 'render':
      return renderCommand(rest, io);
    case 'keys':
      return keysCommand(rest, io);
    case 'rotate-keys':
      return rotateCommand(rest, io);
    default:
      throw new UsageError(
        sub === undefined
          ? 'say what: plan, render, keys or rotate-keys'
          : `unknown network command "${sub}": plan, render, keys or rotate-keys`,
      );
  }
}

function topologyOf(path: string | undefined): Topology {
  if (path !== undefined) requireReadable(path, '--topology');
  return loadTopologyFile(path);
}

function keyStore(dataDir: string | undefined): MeshKeyStore {
  return new MeshKeyStore(join(resolve(dataDir ?? DEFAULT_DATA_DIR), 'network', 'keys'));
}

/** The regions `--region` names (each must be one of the topology's), else all of them. */
function regionsOf(topology: Topology, option: string | undefined): string[] {
  const all = topology.regions.map((r) => r.region_id);
  if (option === undefined) return all;
  const named = option.split(',').map((r) => r.trim());
  for (const region of named) {
    if (!all.includes(region))
      throw new UsageError(`--region: ${region} is not a region of the topology (${all.join(', ')})`);
  }
  return named;
}

async function planCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, COMMON);
  const plan = planMesh(topologyOf(values.topology));
  if (values.json) io.out(JSON.stringify(plan, null, 2));
  else io.out(planText(plan, io));
  return plan.issues.length > 0 ? 1 : 0;
}

function planText(plan: MeshPlan, io: CliIo): string {
  const style = { color: io.color };
  const regions = table(
    ['REGION', 'BLOCKS', 'TUNNEL ADDRESS', 'ENDPOINT'],
    plan.regions.map((r) => [r.region, r.cidrs.join(', '), r.address, r.endpoint]),
  );
  const links = table(
    ['TUNNEL', 'JOINS', 'STATUS', 'MBPS', 'LATENCY'],
    plan.links.map((l) => [
      l.tunnel_id,
      l.regions.join(' <-> '),
      paint(style, l.status === 'active' ? 'green' : l.status === 'standby' ? 'yellow' : 'red', l.status),
      String(l.bandwidth_mbps),
      `${l.latency_ms} ms`,
    ]),
  );
  const routes = table(
    ['FROM', 'TO', 'NOW VIA', 'THEN'],
    plan.routes.map((r) => [
      r.from,
      r.to,
      r.paths[0]?.via ?? '',
      r.paths
        .slice(1)
        .map((p) => p.via)
        .join(', '),
    ]),
  );
  const issues =
    plan.issues.length === 0
      ? paint(style, 'green', 'mesh sound: every pair joined once, private blocks, no overlap')
      : plan.issues.map((i) => paint(style, 'red', `${i.field}: ${i.message}`)).join('\n');
  return [
    `${plan.provider} mesh (${plan.encryption}), keys rotate every ${plan.key_rotation_days} days`,
    '',
    regions,
    '',
    links,
    '',
    routes,
    '',
    issues,
  ].join('\n');
}

async function renderCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, { ...COMMON, out: { type: 'string' }, region: { type: 'string' } });
  if (values.out === undefined) throw new UsageError('--out <dir> is required: where the configurations go');
  const topology = topologyOf(values.topology);
  const plan = planMesh(topology);
  if (plan.issues.length > 0) {
    for (const issue of plan.issues) io.err(`${issue.field}: ${issue.message}`);
    io.err('network render: the mesh has issues (cortex network plan); nothing written');
    return 1;
  }
  const regions = regionsOf(topology, values.region);
  const store = keyStore(values['data-dir']);
  const made = await store.ensure(
    topology.regions.map((r) => r.region_id),
    Date.now(),
  );
  const records = await store.records();
  const publicKeys = Object.fromEntries(Object.entries(records).map(([r, k]) => [r, k.public_key]));
  const out = resolve(values.out);
  await mkdir(out, { recursive: true });
  const written: { region: string; path: string; public_key: string }[] = [];
  for (const region of regions) {
    const text = renderWireGuard(plan, region, {
      private_key: await store.privateKey(region),
      public_keys: publicKeys,
    });
    const path = join(out, `${region}.conf`);
    // The configuration holds the private key: readable by its owner only, like the key file.
    await writeFile(path, text, { mode: 0o600 });
    await chmod(path, 0o600);
    written.push({ region, path, public_key: publicKeys[region] ?? '' });
  }
  if (values.json) io.out(JSON.stringify({ keys_generated: made, key_dir: store.dir, written }, null, 2));
  else {
    if (made.length > 0)
      io.out(`generated keys for ${made.join(', ')} in ${store.dir} (private keys mode 0600)`);
    io.out(
      table(
        ['REGION', 'CONFIGURATION (mode 0600)', 'PUBLIC KEY'],
        written.map((w) => [w.region, w.path, w.public_key]),
      ),
    );
  }
  return 0;
}

async function keysCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, COMMON);
  const topology = topologyOf(values.topology);
  const ages = keyAges(
    topology.regions.map((r) => r.region_id),
    await keyStore(values['data-dir']).records(),
    topology.cross_region_networking.vpn_mesh.key_rotation_days,
    Date.now(),
  );
  if (values.json)
    io.out(
      JSON.stringify(
        { key_rotation_days: topology.cross_region_networking.vpn_mesh.key_rotation_days, keys: ages },
        null,
        2,
      ),
    );
  else {
    const style = { color: io.color };
    io.out(
      table(
        ['REGION', 'STATE', 'AGE', 'ROTATE BY', 'PUBLIC KEY'],
        ages.map((a) => [
          a.region,
          paint(style, a.state === 'ok' ? 'green' : a.state === 'due' ? 'yellow' : 'red', a.state),
          a.state === 'missing' ? '-' : `${a.age_days} d`,
          a.rotate_by || '-',
          a.public_key || '(none yet: cortex network render makes them)',
        ]),
      ),
    );
  }
  return ages.some((a) => a.state === 'expired') ? 1 : 0;
}

async function rotateCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, { ...COMMON, region: { type: 'string' } });
  const topology = topologyOf(values.topology);
  const regions = regionsOf(topology, values.region);
  const store = keyStore(values['data-dir']);
  await store.rotate(regions, Date.now());
  const records = await store.records();
  const rotated = regions.map((region) => ({ region, ...records[region] }));
  if (values.json) io.out(JSON.stringify({ key_dir: store.dir, rotated }, null, 2));
  else {
    io.out(
      table(
        ['REGION', 'NEW PUBLIC KEY', 'CREATED'],
        rotated.map((r) => [r.region, r.public_key ?? '', r.created_at ?? '']),
      ),
    );
    io.out(
      'render the configurations again (cortex network render) and install them on both ends of each tunnel',
    );
  }
  return 0;
}
