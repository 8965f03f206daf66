/** `cortex privacy` against one region of the local runtime served over HTTP on loopback. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { type LocalRuntime, startLocalRuntime } from '../../lib/runtime/local.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { cli } from '../support/cli.ts';
import { type ServedRegion, serveRegion } from '../support/served-region.ts';

const EU = 'eu-west-1';
let dataDir: string;
let runtime: LocalRuntime;
let served: ServedRegion;
let endpoint: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cortex-privacy-cli-'));
  runtime = await startLocalRuntime({
    topology: validateTopology(defaultTopologyJson()),
    dataDir,
    fresh: true,
    inMemory: true,
    replicationLagMs: 10,
  });
  await runtime.region(EU).deps.state.createHandoff({
    handoff_id: 'cross-region-cli-1',
    task_id: 'cli-1',
    source_region: EU,
    target_region: EU,
    routing_score: 80,
    status: 'pending',
    created_at: '2026-11-26T12:00:00Z',
    task: {
      task_id: 'cli-1',
      subject_id: 'carla',
      legal_hold: { basis: 'legal_obligation', reason: 'contract records, 6 years' },
    },
    request_hash: 'seeded',
    decision: { candidates: [], excluded: [] },
  });
  await runtime.replication.flush({ all: true });
  served = await serveRegion(runtime, EU);
  endpoint = served.endpoint;
});
afterAll(async () => {
  await served.close();
  await runtime.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('cortex privacy', () => {
  it('files an erasure and prints each region’s proof, with the record kept under its exception', async () => {
    const c = cli();
    const code = await c.run(
      'privacy',
      'request',
      'erasure',
      '--subject',
      'carla',
      '--jurisdiction',
      'european_union',
      '--endpoint',
      endpoint,
    );
    expect(c.err).toEqual([]);
    expect(code).toBe(0);
    const text = c.out.join('\n');
    expect(text).toMatch(/erasure for carla \(european_union\), received in eu-west-1/);
    expect(text).toMatch(/status completed/);
    expect(text).toMatch(/eu-west-1\s+searched\s+1\s+0\s+0\s+1/);
    expect(text).toContain(
      'eu-west-1 cross-region-cli-1: kept (legal_obligation): contract records, 6 years',
    );
    const id = /(dsr-[0-9a-f-]{36})/.exec(text)?.[1] ?? '';

    const list = cli();
    expect(await list.run('privacy', 'status', '--subject', 'carla', '--endpoint', endpoint)).toBe(0);
    expect(list.out.join('\n')).toMatch(
      new RegExp(`${id}\\s+erasure\\s+carla\\s+european_union\\s+completed`),
    );
    const one = cli();
    expect(await one.run('privacy', 'status', id, '--json', '--endpoint', endpoint)).toBe(0);
    expect(JSON.parse(one.out.join('\n')).request_id).toBe(id);
  });

  it('exits 1 with the API’s reasons, and 2 for a command line that is wrong', async () => {
    const refused = cli();
    expect(
      await refused.run(
        'privacy',
        'request',
        'access',
        '--subject',
        'carla',
        '--jurisdiction',
        'united_states',
        '--endpoint',
        endpoint,
      ),
    ).toBe(1);
    expect(refused.err.join('\n')).toMatch(
      /HTTP 422 RIGHT_NOT_GRANTED[\s\S]*type: the united_states policy \(us-east-1\) has no individual_rights.access/,
    );
    expect(await cli().run('privacy', 'request', 'erasure', '--jurisdiction', 'european_union')).toBe(2);
    expect(await cli().run('privacy', 'forget')).toBe(2);
    const missing = cli();
    expect(await missing.run('privacy', 'status', 'dsr-nope', '--endpoint', endpoint)).toBe(1);
    expect(missing.err.join('\n')).toMatch(/HTTP 400/);
  });
});
