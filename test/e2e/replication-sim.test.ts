/**
 * Replication drills on the local control plane over HTTP and the CLI: lag per link, pause and
 * resume, corrupting one region's copy through the gateway, a consistency check that finds it and
 * reconciliation that repairs it, and the lag table. Probe rounds (and the scheduled monitor) are
 * off; the test runs the monitor's rounds itself.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReplicationRound } from '../../lib/app/replication/monitor.ts';
import { type LocalControlPlane, startLocalControlPlane } from '../../lib/local/control-plane.ts';
import { cli } from '../support/cli.ts';

const US = 'us-east-1';
const EU = 'eu-west-1';
const SPEED = 100;

let dataDir: string;
let plane: LocalControlPlane;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cortex-replication-sim-'));
  plane = await startLocalControlPlane({
    port: 0,
    dataDir,
    fresh: true,
    speed: SPEED,
    probeRounds: false,
    log: () => {},
  });
});
afterAll(async () => {
  await plane?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

// biome-ignore lint/suspicious/noExplicitAny: answers are JSON checked by shape with expect()
async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${plane.gatewayUrl}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : {
          headers: { 'content-type': 'application/json' },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

/** Waits `ms` simulated milliseconds. */
const simSleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms / SPEED));

describe('replication drills on the local gateway', () => {
  it('sets a link lag, pauses and resumes a link, each 400 or 404 on a bad body', async () => {
    const lag = await call('PUT', '/v1/sim/replication/lag', { from: US, to: EU, lag_ms: 1_500 });
    expect(lag).toMatchObject({
      status: 200,
      body: { link: { from: US, to: EU, lag_ms: 1_500, paused: false } },
    });
    const paused = await call('POST', '/v1/sim/replication/pause', { from: EU, to: US });
    expect(paused.body.link).toMatchObject({ from: EU, to: US, paused: true });
    const layout = await call('GET', '/v1/sim/replication');
    expect(
      layout.body.links.find((l: { from: string; to: string }) => l.from === EU && l.to === US).paused,
    ).toBe(true);
    expect((await call('POST', '/v1/sim/replication/resume', { from: EU, to: US })).body.link.paused).toBe(
      false,
    );
    await call('PUT', '/v1/sim/replication/lag', { from: US, to: EU, lag_ms: 200 });

    const bad: [string, string, unknown, number, string][] = [
      ['PUT', '/v1/sim/replication/lag', { from: US, to: EU, lag_ms: -1 }, 400, 'lag_ms'],
      ['PUT', '/v1/sim/replication/lag', { from: US, to: EU }, 400, 'lag_ms'],
      ['PUT', '/v1/sim/replication/lag', { from: US, to: US, lag_ms: 5 }, 400, 'to'],
      ['POST', '/v1/sim/replication/pause', { from: US, to: EU, both: true }, 400, 'both'],
      [
        'POST',
        '/v1/sim/replication/corrupt',
        { region: EU, key: { pk: 'REGION', sk: US }, changes: { sk: 'x' } },
        400,
        'changes.sk',
      ],
      ['POST', '/v1/sim/replication/corrupt', { region: EU, key: { pk: 'REGION', sk: US } }, 400, 'changes'],
      [
        'POST',
        '/v1/sim/replication/corrupt',
        { region: EU, table: 'other', key: { pk: 'a' }, changes: null },
        400,
        'table',
      ],
    ];
    for (const [method, path, body, status, field] of bad) {
      const answer = await call(method, path, body);
      expect(answer.status, JSON.stringify(body)).toBe(status);
      expect(answer.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    expect((await call('PUT', '/v1/sim/replication/lag', { from: 'mars-1', to: EU, lag_ms: 5 })).status).toBe(
      404,
    );
    expect((await call('GET', '/v1/sim/replication/lag')).status).toBe(405);
    // Nothing changed by the refused requests.
    const links = (await call('GET', '/v1/sim/replication')).body.links;
    expect(links.find((l: { from: string; to: string }) => l.from === US && l.to === EU).lag_ms).toBe(200);
  });

  it('a corrupted copy is found by a check and repaired by reconciliation, through the gateway and the CLI', async () => {
    const routed = await call('POST', '/v1/route', { task_id: 'task-drill', source: { region: US } });
    expect(routed.status).toBe(200);
    const handoffKey = { pk: 'HANDOFF#cross-region-task-drill', sk: 'HANDOFF' };
    // Replicated, then older than the settle window (30 s simulated).
    await simSleep(40_000);
    const corrupted = await call('POST', '/v1/sim/replication/corrupt', {
      region: EU,
      key: handoffKey,
      changes: { status: 'failed', routing_score: 0 },
    });
    expect(corrupted.status).toBe(200);
    expect(corrupted.body).toMatchObject({
      region: EU,
      before: { status: 'pending' },
      after: { status: 'failed' },
    });

    const found = await call('POST', '/v1/replication/consistency-checks', { sample_size: 500 });
    expect(found.status).toBe(201);
    const inconsistency = found.body.inconsistencies.find(
      (i: { key: string }) => i.key === 'HANDOFF#cross-region-task-drill|HANDOFF',
    );
    expect(inconsistency).toMatchObject({ data_type: 'active_tasks', rule: 'primary_wins' });
    expect(inconsistency.copies[EU].checksum).not.toBe(inconsistency.copies[US].checksum);
    const stored = await call('GET', `/v1/replication/consistency-checks/${found.body.check_id}`);
    expect(stored).toMatchObject({
      status: 200,
      body: { check_id: found.body.check_id, inconsistent: found.body.inconsistent },
    });

    const shell = cli();
    const code = await shell.run(
      'replication',
      'check',
      '--reconcile',
      '--sample',
      '500',
      '--endpoint',
      plane.gatewayUrl,
    );
    const text = shell.out.join('\n');
    expect(text).toMatch(/HANDOFF#cross-region-task-drill\|HANDOFF\s+active_tasks\s+primary_wins/);
    expect(text).toMatch(/us-east-1 wins -> eu-west-1/);
    expect(code).toBe(0);
    const handoff = await plane.runtime.region(EU).deps.state.getHandoff('cross-region-task-drill');
    expect(handoff?.status).toBe('pending');

    await simSleep(40_000);
    const clean = cli();
    expect(await clean.run('replication', 'check', '--sample', '500', '--endpoint', plane.gatewayUrl)).toBe(
      0,
    );
    expect(clean.out.join('\n')).toMatch(/0 inconsistent/);
  });

  it('prints the lag table and reports a paused link', async () => {
    const rounds = async () => {
      for (const region of plane.runtime.regions) await runReplicationRound(region.deps);
    };
    await rounds();
    await simSleep(2_000);
    await call('POST', '/v1/sim/replication/pause', { from: US, to: EU });
    for (let i = 0; i < 8; i++) {
      await rounds();
      await simSleep(5_000);
    }
    const shell = cli();
    expect(await shell.run('replication', '--endpoint', plane.gatewayUrl)).toBe(0);
    const text = shell.out.join('\n');
    expect(text).toMatch(/SOURCE\s+REPLICA\s+SEQ\s+LAG RECORDS\s+LAG\s+AGE\s+LOSS WINDOW\s+STATUS/);
    expect(text).toMatch(/us-east-1\s+eu-west-1\s+\d+\/\d+\s+\d+\s+\d+(\.\d)? s\s+.*over_async_target/);
    expect(text).toMatch(/eu-west-1\s+us-east-1\s+.*\bok\b/);
    expect(text).toMatch(/TABLE\s+ROLE\s+CONSISTENCY\s+REPLICAS\s+LAG/);
    expect(text).toMatch(/cortex-state\s+global\s+MREC\s+us-east-1 eu-west-1 ap-south-1\s+the pairs above/);
    expect(text).toMatch(
      /cortex-sel-compliance_data_replication-india\s+selective\s+single-region\s+ap-south-1\s+none: one replica/,
    );
    const json = cli();
    await json.run('replication', '--json', '--endpoint', plane.gatewayUrl);
    const reading = JSON.parse(json.out.join('\n'));
    const paused = reading.pairs.find(
      (p: { source: string; replica: string }) => p.source === US && p.replica === EU,
    );
    expect(paused.lag_seconds).toBeGreaterThan(30);
    await call('POST', '/v1/sim/replication/resume', { from: US, to: EU });
    expect(await cli().run('replication', 'extra', '--endpoint', plane.gatewayUrl)).toBe(2);
  });
});
