/**
 * `cortex cost` refuses a bad command line before it synthesizes anything: each error names the
 * flag and why, with the command's usage, exit 2.
 */
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.ts';

async function refused(...args: string[]): Promise<string> {
  const c = cli();
  expect(await c.run('cost', ...args)).toBe(2);
  expect(c.out).toEqual([]);
  return c.err.join('\n');
}

describe('cortex cost flags', () => {
  it('takes only 10 or 30 s probes, as Route 53 does', async () => {
    const err = await refused('--probe-interval', '15');
    expect(err).toMatch(/--probe-interval must be 10 or 30 .*got "15"/);
    expect(err).toMatch(/usage: cortex cost /);
    expect(await refused('--probe-interval', '10s')).toMatch(/--probe-interval must be 10 or 30/);
  });

  it('takes a whole, non-negative number of requests a month', async () => {
    expect(await refused('--requests-per-month=-5')).toMatch(
      /--requests-per-month must be an integer from 0 to .*got "-5"/,
    );
    expect(await refused('--requests-per-month', 'lots')).toMatch(/--requests-per-month must be an integer/);
    expect(await refused('--requests-per-month', '1.5')).toMatch(/--requests-per-month must be an integer/);
  });

  it('names a topology file it cannot read', async () => {
    expect(await refused('--topology', '/nonexistent/topology.json')).toMatch(
      /cannot read --topology \/nonexistent\/topology.json: no such file/,
    );
  });

  it('takes a DNS name for --domain, and no DNS at all together with it', async () => {
    expect(await refused('--domain', 'not a domain')).toMatch(
      /--domain must be a DNS name .*got "not a domain"/,
    );
    expect(await refused('--domain', 'cortex.example.com', '--no-dns')).toMatch(
      /--no-dns cannot be combined with --dns or --domain/,
    );
    expect(await refused('--dns', '--no-dns')).toMatch(/--no-dns cannot be combined/);
  });

  it('takes none or mesh for --network, as cdk -c network= does', async () => {
    expect(await refused('--network', 'vpn')).toMatch(/--network must be none or mesh .*got "vpn"/);
    expect(await refused('--network', 'MESH')).toMatch(/--network must be none or mesh/);
  });

  it('refuses an option it does not know, and a stray argument', async () => {
    expect(await refused('--region', 'us-east-1')).toMatch(/--region/);
    expect(await refused('extra')).toMatch(/unexpected argument 'extra'/i);
  });
});
