import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { cli } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'cortex-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('cortex validate', () => {
  it('accepts the shipped topology', async () => {
    const c = cli();
    expect(await c.run('validate')).toBe(0);
    expect(c.out.join('\n')).toMatch(/valid \(3 regions: us-east-1, eu-west-1, ap-south-1; active-active\)/);
    expect(c.out.join('\n')).toMatch(/table cortex-state: global, MREC, us-east-1 eu-west-1 ap-south-1/);
    expect(c.out.join('\n')).toMatch(
      /note: replication_strategies\.synchronous: .* live in the global table cortex-state/,
    );
  });

  it('shows the MRSC table of the shipped three-US-region topology and where the state records go', async () => {
    const c = cli();
    expect(await c.run('validate', '--json', 'topology/us-mrsc.json')).toBe(0);
    const answer = JSON.parse(c.out.join('\n'));
    expect(answer.regions).toEqual(['us-east-1', 'us-east-2', 'us-west-2']);
    expect(answer.tables).toContainEqual({
      name: 'cortex-critical',
      role: 'critical',
      consistency: 'MRSC',
      regions: ['us-east-1', 'us-east-2', 'us-west-2'],
    });
    expect(answer.state_records).toMatchObject({
      region_status: 'cortex-critical',
      heartbeat: 'cortex-state',
    });
  });

  it('exits 1 when the replication placement would put a replica outside its jurisdiction', async () => {
    const json = defaultTopologyJson();
    json.replication_strategies.selective.policies[1].target_regions = ['all'];
    const c = cli();
    expect(await c.run('validate', file('residency.json', json))).toBe(1);
    expect(c.err.join('\n')).toMatch(
      /replication_strategies\.selective\.policies\[1\]\.target_regions: .*eu-west-1 \(european_union\) sets data_localization/,
    );
  });

  it('exits 1 and names every bad field', async () => {
    const json = defaultTopologyJson();
    json.regions[1].tier = 'platinum';
    json.regions.push({ ...json.regions[0] });
    const c = cli();
    expect(await c.run('validate', file('bad.json', json))).toBe(1);
    const text = c.err.join('\n');
    expect(text).toMatch(/invalid/);
    expect(text).toMatch(/regions\[1\]\.tier: unknown tier "platinum"/);
  });

  it('reports a file that is not JSON (invalid: 1), or missing (the command line is wrong: 2), without a stack trace', async () => {
    const c = cli();
    expect(await c.run('validate', file('broken.json', '{ "regions": ['))).toBe(1);
    expect(c.err.join('\n')).toMatch(/\(file\)/);
    const missing = cli();
    expect(await missing.run('validate', join(dir, 'nope.json'))).toBe(2);
    expect(missing.err).toEqual([`cortex: cannot read ${join(dir, 'nope.json')}: no such file`]);
  });

  it('prints machine-readable problems with --json', async () => {
    const json = defaultTopologyJson();
    json.routing.weights.default.cost = 50;
    const c = cli();
    expect(await c.run('validate', '--json', file('weights.json', json))).toBe(1);
    const answer = JSON.parse(c.out.join('\n'));
    expect(answer.valid).toBe(false);
    expect(answer.errors.map((e: { field: string }) => e.field)).toContain('routing.weights.default');
  });
});

describe('cortex command line', () => {
  it("exits 2 for an unknown command, or an unknown flag with that command's usage line only", async () => {
    const c = cli();
    expect(await c.run('teleport')).toBe(2);
    expect(c.err).toEqual(['cortex: unknown command "teleport"; cortex --help lists them']);
    const flag = cli();
    expect(await flag.run('regions', '--colour')).toBe(2);
    expect(flag.err).toEqual([
      "cortex: Unknown option '--colour'",
      'usage: cortex regions [--endpoint <url,...>] [--json]',
      '(cortex regions --help for more)',
    ]);
  });

  it('exits 2 when route has no task file or it cannot be read', async () => {
    expect(await cli().run('route')).toBe(2);
    const c = cli();
    expect(await c.run('route', join(dir, 'missing-task.json'))).toBe(2);
    expect(c.err).toEqual([`cortex: cannot read ${join(dir, 'missing-task.json')}: no such file`]);
  });

  it('says plainly when the API cannot be reached', async () => {
    const c = cli();
    expect(await c.run('regions', '--endpoint', 'http://127.0.0.1:9')).toBe(1);
    expect(c.err.join('\n')).toMatch(
      /cannot reach http:\/\/127\.0\.0\.1:9 \(bad port\); is `npm start` running/,
    );
  });

  it('rejects a bad --port for local before starting anything', async () => {
    const c = cli();
    expect(await c.run('local', '--port', 'eighty')).toBe(2);
    expect(c.err.join('\n')).toMatch(/--port must be an integer/);
  });

  it('local refuses --no-aws-controls with --assume-aws-controls, and a topology file that is not there', async () => {
    const both = cli();
    expect(await both.run('local', '--no-aws-controls', '--assume-aws-controls')).toBe(2);
    expect(both.err[0]).toMatch(/--no-aws-controls and --assume-aws-controls contradict each other/);
    const missing = cli();
    expect(await missing.run('local', '--topology', join(dir, 'nowhere.json'))).toBe(2);
    expect(missing.err).toEqual([
      `cortex: cannot read --topology ${join(dir, 'nowhere.json')}: no such file`,
    ]);
  });
});
