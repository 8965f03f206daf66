import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { cli } from '../support/cli.ts';
import { useSharedPlane } from '../support/plane.ts';

const shared = useSharedPlane('cortex-cli-e2e-');
const plane = shared.plane;
const endpoint = shared.endpoint;

describe('cortex CLI against the local control plane', () => {
  it('regions prints a table of every region with its status', async () => {
    const c = cli();
    expect(await c.run('regions', '--endpoint', endpoint())).toBe(0);
    const text = c.out.join('\n');
    expect(text).toMatch(/^REGION\s+TIER\s+STATUS/);
    for (const id of ['us-east-1', 'eu-west-1', 'ap-south-1'])
      expect(text).toMatch(new RegExp(`${id}\\s+\\w+\\s+healthy`));
  });

  it('route reads a task from standard input and explains the choice', async () => {
    const task = { task_id: 'cli-1', source: { country: 'IN' }, requirements: { latency_sensitive: true } };
    const c = cli(JSON.stringify(task));
    expect(await c.run('route', '-', '--endpoint', endpoint())).toBe(0);
    const text = c.out.join('\n');
    expect(text).toMatch(/^cli-1 -> ap-south-1 \(score [\d.]+, handoff cross-region-cli-1 pending\)/);
    expect(text).toMatch(/CANDIDATE\s+SCORE\s+CAPACITY\s+LATENCY\s+COMPLIANCE\s+COST\s+RTT/);
  });

  it('route reads a task file and answers the API JSON with --json', async () => {
    const path = join(shared.dataDir(), 'task.json');
    await writeFile(path, JSON.stringify({ task_id: 'cli-2', requirements: { compliance: ['hipaa'] } }));
    const c = cli();
    expect(await c.run('route', path, '--json', '--endpoint', endpoint())).toBe(0);
    const answer = JSON.parse(c.out.join('\n'));
    expect(answer.region).toBe('us-east-1');
    expect(answer.excluded.map((e: { region: string }) => e.region).sort()).toEqual([
      'ap-south-1',
      'eu-west-1',
    ]);
  });

  it('route prints each exclusion and exits 1 when no region qualifies', async () => {
    const c = cli(
      JSON.stringify({ task_id: 'cli-3', requirements: { compliance: ['hipaa'], data_residency: 'IN' } }),
    );
    expect(await c.run('route', '-', '--endpoint', endpoint())).toBe(1);
    const text = c.err.join('\n');
    expect(text).toMatch(/^HTTP 422 NO_ELIGIBLE_REGION: /);
    expect(text).toMatch(/\nexcluded:\n/);
    expect(text).toMatch(/\n {2}us-east-1:( |\n {4}- )data residency IN not allowed here/);
  });

  it('route shows the API field errors and exits 1 on a bad task', async () => {
    const c = cli('{"task_id":"cli 4","requirements":{"max_latency_ms":"fast"}}');
    expect(await c.run('route', '-', '--endpoint', endpoint())).toBe(1);
    const text = c.err.join('\n');
    expect(text).toMatch(/HTTP 400 VALIDATION_FAILED/);
    expect(text).toMatch(/task_id: must match/);
    expect(text).toMatch(/requirements\.max_latency_ms: expected a number, got "fast"/);
  });

  it('health shows every region and what each observer sees of it', async () => {
    const c = cli();
    expect(await c.run('health', '--endpoint', endpoint())).toBe(0);
    expect(c.out.join('\n')).toMatch(/^REGION\s+STATUS\s+HEALTH\s+ROLE\s+EPOCH/);
  });

  it('fault and heal inject and remove a fault; bad fault input exits 1 or 2 with the reason', async () => {
    const c = cli();
    expect(await c.run('fault', 'ap-south-1', 'slow', '--latency-ms', '50', '--endpoint', endpoint())).toBe(
      0,
    );
    expect(c.out.join('\n')).toMatch(/fault injected: ap-south-1 slow/);
    const sim = (await (await fetch(`${endpoint()}/v1/sim`)).json()) as {
      faults: { region: string; kind: string }[];
    };
    expect(sim.faults).toEqual([expect.objectContaining({ region: 'ap-south-1', kind: 'slow' })]);
    const unknown = cli();
    expect(await unknown.run('fault', 'mars-1', 'down', '--endpoint', endpoint())).toBe(1);
    expect(unknown.err.join('\n')).toMatch(/HTTP 404/);
    expect(await cli().run('fault', 'ap-south-1', 'explode', '--endpoint', endpoint())).toBe(2);
    const heal = cli();
    expect(await heal.run('heal', '--endpoint', endpoint())).toBe(0);
    const after = (await (await fetch(`${endpoint()}/v1/sim`)).json()) as { faults: unknown[] };
    expect(after.faults).toEqual([]);
  });

  it('failover start --dry-run explains, region by region, why none can take over (spec snapshot)', async () => {
    const c = cli();
    expect(await c.run('failover', 'start', 'us-east-1', '--dry-run', '--endpoint', endpoint())).toBe(1);
    const text = c.err.join('\n');
    expect(text).toMatch(/^HTTP 422 NO_ELIGIBLE_REGION: no region can take over from us-east-1\nexcluded:\n/);
    // Every survivor with its reasons, one readable line each, none as JSON.
    for (const region of ['eu-west-1', 'ap-south-1']) expect(text).toMatch(new RegExp(`\\n {2}${region}:`));
    expect(text).not.toMatch(/[{}]/);
    const list = cli();
    expect(await list.run('failover', 'status', '--endpoint', endpoint())).toBe(0);
    expect(list.out.join('\n')).toMatch(/no failovers recorded/);
    expect(await cli().run('failover', 'status', 'failover-us-east-1-e0', '--endpoint', endpoint())).toBe(1);
    expect(await cli().run('failover', 'launch', '--endpoint', endpoint())).toBe(2);
  });

  it('watch draws the health matrix and the newest failover', async () => {
    const c = cli();
    expect(await c.run('watch', '--count', '1', '--endpoint', endpoint())).toBe(0);
    const text = c.out.join('\n');
    expect(text).toMatch(/cortex watch/);
    expect(text).toMatch(/REGION\s+STATUS/);
  });

  it('answers regulated data as the AWS deployment does by default, and says so at /v1/sim', async () => {
    const sim = (await (await fetch(`${endpoint()}/v1/sim`)).json()) as { compliance: { facts: string } };
    expect(sim.compliance).toMatchObject({ facts: 'aws', source: 'aws' });
    const task = {
      task_id: 'cli-hipaa',
      source: { country: 'US' },
      requirements: { compliance: ['hipaa'], data_residency: 'US', data_classification: 'pii' },
    };
    const c = cli(JSON.stringify(task));
    expect(await c.run('route', '-', '--endpoint', endpoint())).toBe(0);
    expect(c.out[0]).toMatch(/^cli-hipaa -> us-east-1 /);
  });

  it('keeps answering through a region that is down: the gateway hands its API to it, the CLI asks the others', async () => {
    expect(await cli().run('fault', 'us-east-1', 'down', '--endpoint', endpoint())).toBe(0);
    try {
      const c = cli();
      expect(await c.run('regions', '--endpoint', endpoint())).toBe(0);
      expect(c.out.join('\n')).toMatch(/^REGION\s+TIER\s+STATUS/);
      expect(c.err.join('\n')).toMatch(
        new RegExp(
          `^cortex: answered by eu-west-1 \\(${plane().regions['eu-west-1']?.url}\\); ${endpoint()} connection reset, ${plane().regions['us-east-1']?.url} connection reset$`,
        ),
      );
      const w = cli();
      expect(await w.run('watch', '--count', '2', '--interval', '0.05', '--endpoint', endpoint())).toBe(0);
      const headers = w.out.filter((line) => line.startsWith('cortex watch '));
      expect(headers).toHaveLength(2);
      for (const header of headers) expect(header).toMatch(/answered by eu-west-1 at http:\/\/127\.0\.1\.2:/);
    } finally {
      expect(await cli().run('heal', '--endpoint', endpoint())).toBe(0);
    }
  });

  it('says every region is down, not "is npm start running?", when the gateway answers but no region does', async () => {
    for (const region of ['us-east-1', 'eu-west-1', 'ap-south-1'])
      expect(await cli().run('fault', region, 'down', '--endpoint', endpoint())).toBe(0);
    try {
      const c = cli();
      expect(await c.run('health', '--endpoint', endpoint())).toBe(1);
      const text = c.err.join('\n');
      expect(text).toMatch(/^cortex: no region answered: .*every region it serves is down or cut off/);
      expect(text).not.toMatch(/npm start/);
    } finally {
      expect(await cli().run('heal', '--endpoint', endpoint())).toBe(0);
    }
  });

  it('local refuses an invalid topology, naming the field, before starting anything', async () => {
    const json = defaultTopologyJson();
    json.latency.matrix['eu-west-1']['ap-south-1'] = undefined;
    const path = join(shared.dataDir(), 'bad-topology.json');
    await writeFile(path, JSON.stringify(json));
    const c = cli();
    expect(
      await c.run('local', '--port', '0', '--topology', path, '--data-dir', join(shared.dataDir(), 'other')),
    ).toBe(1);
    expect(c.err.join('\n')).toMatch(/latency\.matrix\.eu-west-1\.ap-south-1/);
  });
});
