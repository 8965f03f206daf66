import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalControlPlane, startLocalControlPlane } from '../../lib/local/control-plane.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { cli } from '../support/cli.ts';

let dataDir: string;
let plane: LocalControlPlane;
let endpoint: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cortex-cli-e2e-'));
  plane = await startLocalControlPlane({
    port: 0,
    dataDir,
    fresh: true,
    replicationLagMs: 20,
    log: () => {},
  });
  endpoint = plane.gatewayUrl;
});
afterAll(async () => {
  await plane?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('cortex CLI against the local control plane', () => {
  it('regions prints a table of every region with its status', async () => {
    const c = cli();
    expect(await c.run('regions', '--endpoint', endpoint)).toBe(0);
    const text = c.out.join('\n');
    expect(text).toMatch(/^REGION\s+TIER\s+STATUS/);
    for (const id of ['us-east-1', 'eu-west-1', 'ap-south-1'])
      expect(text).toMatch(new RegExp(`${id}\\s+\\w+\\s+healthy`));
  });

  it('route reads a task from standard input and explains the choice', async () => {
    const task = { task_id: 'cli-1', source: { country: 'IN' }, requirements: { latency_sensitive: true } };
    const c = cli(JSON.stringify(task));
    expect(await c.run('route', '-', '--endpoint', endpoint)).toBe(0);
    const text = c.out.join('\n');
    expect(text).toMatch(/^cli-1 -> ap-south-1 \(score [\d.]+, handoff cross-region-cli-1 pending\)/);
    expect(text).toMatch(/CANDIDATE\s+SCORE\s+CAPACITY\s+LATENCY\s+COMPLIANCE\s+COST\s+RTT/);
  });

  it('route reads a task file and answers the API JSON with --json', async () => {
    const path = join(dataDir, 'task.json');
    await writeFile(path, JSON.stringify({ task_id: 'cli-2', requirements: { compliance: ['hipaa'] } }));
    const c = cli();
    expect(await c.run('route', path, '--json', '--endpoint', endpoint)).toBe(0);
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
    expect(await c.run('route', '-', '--endpoint', endpoint)).toBe(1);
    expect(c.err.join('\n')).toMatch(/HTTP 422 NO_ELIGIBLE_REGION/);
    expect(c.out.join('\n')).toMatch(/us-east-1: data residency IN not allowed here/);
  });

  it('route shows the API field errors and exits 1 on a bad task', async () => {
    const c = cli('{"task_id":"cli 4","requirements":{"max_latency_ms":"fast"}}');
    expect(await c.run('route', '-', '--endpoint', endpoint)).toBe(1);
    const text = c.err.join('\n');
    expect(text).toMatch(/HTTP 400 VALIDATION_FAILED/);
    expect(text).toMatch(/task_id: must match/);
    expect(text).toMatch(/requirements\.max_latency_ms: expected a number, got "fast"/);
  });

  it('local refuses an invalid topology, naming the field, before starting anything', async () => {
    const json = defaultTopologyJson();
    json.latency.matrix['eu-west-1']['ap-south-1'] = undefined;
    const path = join(dataDir, 'bad-topology.json');
    await writeFile(path, JSON.stringify(json));
    const c = cli();
    expect(
      await c.run('local', '--port', '0', '--topology', path, '--data-dir', join(dataDir, 'other')),
    ).toBe(1);
    expect(c.err.join('\n')).toMatch(/latency\.matrix\.eu-west-1\.ap-south-1/);
  });
});
