/**
 * `cortex network` on the shipped topology with keys in a temporary data directory. Invariants: a
 * private key is never printed and its files are readable by their owner only; a rotation changes
 * the keys and their dates and nothing else in any configuration.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseWireGuardIni } from '../../lib/core/network/wireguard.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { cli } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'cortex-network-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'];
const mode = (path: string) => statSync(path).mode & 0o777;

describe('cortex network', () => {
  it('plans the default mesh: blocks, tunnels, the path now and the fallbacks', async () => {
    const c = cli();
    expect(await c.run('network', 'plan')).toBe(0);
    const text = c.out.join('\n');
    expect(text).toMatch(/us-east-1\s+10\.1\.0\.0\/16\s+10\.1\.0\.1\/16\s+vpn-us-east-1\.cortex\.internal/);
    expect(text).toMatch(/eu-west-1\s+ap-south-1\s+direct\s+us-east-1, internet/);
    expect(text).toMatch(/mesh sound/);
    const json = cli();
    expect(await json.run('network', 'plan', '--json')).toBe(0);
    expect(JSON.parse(json.out.join('\n'))).toMatchObject({
      provider: 'wireguard',
      key_rotation_days: 90,
      issues: [],
    });
  });

  it('renders one configuration per region with generated keys; private keys never printed, files 0600', async () => {
    const data = join(dir, 'render');
    const out = join(dir, 'render-out');
    const c = cli();
    expect(await c.run('network', 'render', '--out', out, '--data-dir', data)).toBe(0);
    expect(readdirSync(out).sort()).toEqual(REGIONS.map((r) => `${r}.conf`).sort());
    const printed = c.out.join('\n');
    expect(printed).toMatch(/generated keys for us-east-1, eu-west-1, ap-south-1/);
    for (const region of REGIONS) {
      const keyFile = join(data, 'network', 'keys', `${region}.key`);
      const conf = join(out, `${region}.conf`);
      expect(mode(keyFile)).toBe(0o600);
      expect(mode(conf)).toBe(0o600);
      const privateKey = readFileSync(keyFile, 'utf8').trim();
      expect(Buffer.from(privateKey, 'base64')).toHaveLength(32);
      expect(printed).not.toContain(privateKey);
      const [iface, ...peers] = parseWireGuardIni(readFileSync(conf, 'utf8'));
      expect(iface?.values.PrivateKey).toBe(privateKey);
      expect(peers).toHaveLength(2);
    }
    // A second render keeps the keys it has.
    const again = cli();
    expect(await again.run('network', 'render', '--out', out, '--data-dir', data, '--json')).toBe(0);
    expect(JSON.parse(again.out.join('\n')).keys_generated).toEqual([]);
  });

  it('rotates keys: the keys and their dates change, nothing else in any configuration', async () => {
    const data = join(dir, 'rotate');
    const out = join(dir, 'rotate-out');
    expect(await cli().run('network', 'render', '--out', out, '--data-dir', data)).toBe(0);
    const before = Object.fromEntries(REGIONS.map((r) => [r, readFileSync(join(out, `${r}.conf`), 'utf8')]));
    const index = join(data, 'network', 'keys', 'keys.json');
    const datesBefore = JSON.parse(readFileSync(index, 'utf8')).regions;
    // Backdate the keys so a new date is visible.
    for (const r of REGIONS) datesBefore[r].created_at = '2026-01-01T00:00:00.000Z';
    writeFileSync(index, JSON.stringify({ regions: datesBefore }));
    const stale = cli();
    expect(await stale.run('network', 'keys', '--data-dir', data, '--json')).toBe(1);
    expect(JSON.parse(stale.out.join('\n')).keys.map((k: { state: string }) => k.state)).toEqual([
      'expired',
      'expired',
      'expired',
    ]);

    const rotate = cli();
    expect(await rotate.run('network', 'rotate-keys', '--data-dir', data)).toBe(0);
    expect(await cli().run('network', 'render', '--out', out, '--data-dir', data)).toBe(0);
    const after = JSON.parse(readFileSync(index, 'utf8')).regions;
    for (const r of REGIONS) {
      expect(after[r].public_key).not.toBe(datesBefore[r].public_key);
      expect(after[r].created_at).not.toBe('2026-01-01T00:00:00.000Z');
      const text = readFileSync(join(out, `${r}.conf`), 'utf8');
      const keyLine = /^(PrivateKey|PublicKey) = /;
      const lines = (t: string) => t.split('\n').filter((l) => !keyLine.test(l));
      expect(lines(text)).toEqual(lines(before[r] as string));
      expect(text).not.toEqual(before[r]);
    }
    const fresh = cli();
    expect(await fresh.run('network', 'keys', '--data-dir', data)).toBe(0);
    expect(fresh.out.join('\n')).toMatch(/us-east-1\s+ok\s+0 d/);
  });

  it('rotates one region only when named, leaving the others', async () => {
    const data = join(dir, 'one');
    expect(await cli().run('network', 'rotate-keys', '--data-dir', data)).toBe(0);
    const index = join(data, 'network', 'keys', 'keys.json');
    const before = JSON.parse(readFileSync(index, 'utf8')).regions;
    expect(await cli().run('network', 'rotate-keys', '--region', 'eu-west-1', '--data-dir', data)).toBe(0);
    const after = JSON.parse(readFileSync(index, 'utf8')).regions;
    expect(after['us-east-1']).toEqual(before['us-east-1']);
    expect(after['ap-south-1']).toEqual(before['ap-south-1']);
    expect(after['eu-west-1'].public_key).not.toBe(before['eu-west-1'].public_key);
  });

  it('refuses bad calls naming the option, and a mesh with issues writes nothing', async () => {
    const noOut = cli();
    expect(await noOut.run('network', 'render')).toBe(2);
    expect(noOut.err.join('\n')).toMatch(/--out <dir> is required/);
    const badRegion = cli();
    expect(
      await badRegion.run('network', 'rotate-keys', '--region', 'mars-1', '--data-dir', join(dir, 'bad')),
    ).toBe(2);
    expect(badRegion.err.join('\n')).toMatch(/--region: mars-1 is not a region of the topology/);
    const unknown = cli();
    expect(await unknown.run('network', 'explode')).toBe(2);
    expect(unknown.err.join('\n')).toMatch(/unknown network command "explode"/);

    const raw = defaultTopologyJson();
    raw.cross_region_networking.vpn_mesh.tunnels[1].destination.allowed_ips = ['8.8.8.0/24'];
    const file = join(dir, 'public.json');
    writeFileSync(file, JSON.stringify(raw));
    const plan = cli();
    expect(await plan.run('network', 'plan', '--topology', file)).toBe(1);
    expect(plan.out.join('\n')).toMatch(/8\.8\.8\.0\/24 of ap-south-1 is outside the private ranges/);
    const out = join(dir, 'public-out');
    const render = cli();
    expect(
      await render.run('network', 'render', '--topology', file, '--out', out, '--data-dir', join(dir, 'pub')),
    ).toBe(1);
    expect(render.err.join('\n')).toMatch(/nothing written/);
  });
});
