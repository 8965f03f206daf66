/**
 * The simulator's own API on the local control plane: fault injection and healing over HTTP, what
 * each fault does to a region's endpoint as an external caller sees it, the layout and the event log.
 * Probe rounds are off: these tests are about the endpoints, not about detection.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LocalControlPlane, startLocalControlPlane } from '../../lib/local/control-plane.ts';
import { resolve } from '../../lib/local/dns.ts';
import { call } from '../support/plane.ts';

let dataDir: string;
let plane: LocalControlPlane;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cortex-sim-'));
  plane = await startLocalControlPlane({
    port: 0,
    dataDir,
    fresh: true,
    speed: 10,
    probeRounds: false,
    log: () => {},
  });
});
afterEach(async () => {
  await fetch(`${plane.gatewayUrl}/v1/sim/faults`, { method: 'DELETE' });
});
afterAll(async () => {
  await plane?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

function inject(body: unknown) {
  return call(`${plane.gatewayUrl}/v1/sim/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('the simulator API', () => {
  it('describes the DNS server, speed, faults, witnesses and scheduler at GET /v1/sim', async () => {
    const { status, body } = await call(`${plane.gatewayUrl}/v1/sim`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      speed: 10,
      dns: { address: '127.0.0.1', port: plane.dns.port, name: 'api.cortex.local', region: 'us-east-1' },
      faults: [],
      witnesses: [{ witness_id: 'witness-us-west-2', region: 'us-west-2' }],
      scheduler: { interval_seconds: 30, jobs: [] },
    });
    expect(body.dns.health_checks.map((c: { region: string }) => c.region)).toEqual([
      'us-east-1',
      'eu-west-1',
      'ap-south-1',
    ]);
    const answer = await resolve({ address: body.dns.address, port: body.dns.port }, body.dns.name, 'TXT');
    expect(answer.texts).toEqual(['us-east-1']);
  });

  it('injects, lists and heals faults', async () => {
    const injected = await inject({ region: 'eu-west-1', kind: 'partition', peers: ['ap-south-1'] });
    expect(injected.status).toBe(201);
    expect(injected.body.fault).toMatchObject({
      region: 'eu-west-1',
      kind: 'partition',
      peers: ['ap-south-1'],
    });
    expect((await call(`${plane.gatewayUrl}/v1/sim/faults`)).body.faults).toHaveLength(1);
    const link = plane
      .layout()
      .replication.links.find((l) => l.from === 'ap-south-1' && l.to === 'eu-west-1');
    expect(link?.paused).toBe(true);

    const healed = await call(`${plane.gatewayUrl}/v1/sim/faults`, { method: 'DELETE' });
    expect(healed.status).toBe(200);
    expect(healed.body.healed).toHaveLength(1);
    expect(healed.body.faults).toEqual([]);
    expect(plane.layout().replication.links.every((l) => !l.paused)).toBe(true);
  });

  it('answers 400 naming the bad field and 404 for an unknown region, and injects nothing', async () => {
    const bad = await inject({ region: 'eu-west-1', kind: 'errors', rate: 2 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    expect(bad.body.error.details).toEqual([{ field: 'rate', reason: 'must be a number from 0 to 1' }]);
    expect((await inject('{"region":')).status).toBe(400);
    const unknown = await inject({ region: 'mars-1', kind: 'down' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
    expect((await call(`${plane.gatewayUrl}/v1/sim/faults`)).body.faults).toEqual([]);
    expect((await call(`${plane.gatewayUrl}/v1/sim/faults`, { method: 'PUT' })).status).toBe(405);
  });

  it('a down region resets every connection; healed, it answers again', async () => {
    expect((await inject({ region: 'ap-south-1', kind: 'down' })).status).toBe(201);
    const url = `${plane.regions['ap-south-1']?.url}/health`;
    const failure = await fetch(url).then(
      () => undefined,
      (error: unknown) => (error as { cause?: { code?: string } }).cause?.code,
    );
    expect(failure).toBe('ECONNRESET');
    await call(`${plane.gatewayUrl}/v1/sim/faults`, { method: 'DELETE' });
    expect((await call(url)).status).toBe(200);
  });

  it('an erroring region answers 500 INJECTED_FAULT at the rate; a slow one answers late', async () => {
    await inject({ region: 'eu-west-1', kind: 'errors', rate: 1 });
    const failed = await call(`${plane.regions['eu-west-1']?.url}/api/v1/ping`);
    expect(failed.status).toBe(500);
    expect(failed.body.error.code).toBe('INJECTED_FAULT');

    await inject({ region: 'eu-west-1', kind: 'errors', rate: 0 });
    await inject({ region: 'eu-west-1', kind: 'slow', latency_ms: 3_000 });
    const started = performance.now();
    expect((await call(`${plane.regions['eu-west-1']?.url}/api/v1/ping`)).status).toBe(200);
    // 3 simulated seconds at speed 10.
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('the gateway serves the sim routes even while the region it follows is down', async () => {
    await inject({ region: 'us-east-1', kind: 'down' });
    expect((await call(`${plane.gatewayUrl}/v1/sim`)).status).toBe(200);
    const refused = await fetch(`${plane.gatewayUrl}/v1/regions`).then(
      () => 'answered',
      () => 'reset',
    );
    expect(refused).toBe('reset');
  });

  it('pages the event log with ?since', async () => {
    await plane.runtime.events.publish([
      { type: 'test.one', source_region: 'us-east-1', time: new Date(0).toISOString(), detail: {} },
      { type: 'test.two', source_region: 'us-east-1', time: new Date(0).toISOString(), detail: {} },
    ]);
    const all = await call(`${plane.gatewayUrl}/v1/events`);
    expect(all.status).toBe(200);
    const last = all.body.events.at(-1);
    expect(last).toMatchObject({ type: 'test.two', index: all.body.next - 1 });
    const page = await call(`${plane.gatewayUrl}/v1/events?since=${last.index}`);
    expect(page.body.events.map((e: { type: string }) => e.type)).toEqual(['test.two']);
    expect((await call(`${plane.gatewayUrl}/v1/events?since=-1`)).status).toBe(400);
  });
});
