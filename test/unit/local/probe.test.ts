import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalProbe } from '../../../lib/adapters/local/probe.ts';
import { createSimClock } from '../../../lib/local/clock.ts';
import { unsignedHttpProbe } from '../../../lib/local/http-probe.ts';
import { closeServer, listen } from '../../../lib/local/listen.ts';

let server: Server;
let url: string;
let delayMs = 0;
/** Requests the endpoint received. */
let requests = 0;
/** While set, the endpoint answers only once it resolves (after `delayMs`). */
let held: Promise<void> | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    const release = held ?? Promise.resolve();
    setTimeout(async () => {
      await release;
      if (req.url === '/coordination/status') {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({ status: 'degraded', available_capacity: 0.4, heartbeat: { seq: 7, at: 1234 } }),
        );
      } else if (req.url === '/health') {
        res.statusCode = 503;
        res.end('{}');
      } else {
        res.end('{}');
      }
    }, delayMs);
  });
  url = `http://127.0.1.9:${await listen(server, '127.0.1.9', 0, 'a region')}`;
});
afterAll(() => closeServer(server));

function probe(speed: number, network = { partitioned: () => false, isDown: () => false }) {
  const clock = createSimClock({ speed });
  return new LocalProbe({
    endpoints: () => ({ 'eu-west-1': url }),
    network,
    clock,
    httpProbe: unsignedHttpProbe,
  });
}

describe('the local probe', () => {
  it('reads the target status document into the observation', async () => {
    const observation = await probe(7).probe('us-east-1', 'eu-west-1', '/coordination/status', 10_000);
    expect(observation).toMatchObject({
      observer: 'us-east-1',
      target: 'eu-west-1',
      ok: true,
      status: 200,
      reported_status: 'degraded',
      available_capacity: 0.4,
      reported_heartbeat: { seq: 7, at: 1234 },
    });
  });

  it('reports a non-2xx answer as a failed call', async () => {
    expect(await probe(3).probe('us-east-1', 'eu-west-1', '/health', 10_000)).toMatchObject({
      ok: false,
      status: 503,
      error: 'http 503',
    });
  });

  it('answers unreachable at once, with the timeout as latency, across a partition', async () => {
    const partitioned = { partitioned: () => true, isDown: () => false };
    const before = requests;
    // At speed 1 a 10-minute timeout waited out would outlast the test's own: no wall-clock bound needed.
    const observation = await probe(1, partitioned).probe('us-east-1', 'eu-west-1', '/health', 600_000);
    expect(requests).toBe(before);
    expect(observation).toMatchObject({ ok: false, error: 'unreachable', latency_ms: 600_000 });
  });

  // The machine's own time (the round trip, the target's work, late timers) is real time on AWS too:
  // multiplied by the speed, a 300 ms stall on a loaded machine read as a 30 s answer and failed a
  // live region over for p99.
  it('counts the real time of a call as it is, not multiplied by the speed', async () => {
    delayMs = 300;
    try {
      const observation = await probe(100).probe('us-east-1', 'eu-west-1', '/api/v1/ping', 10_000);
      expect(observation).toMatchObject({ ok: true, status: 200 });
      expect(observation.latency_ms).toBeGreaterThanOrEqual(290);
      expect(observation.latency_ms).toBeLessThan(10_000);
    } finally {
      delayMs = 0;
    }
  });

  it("reads a slow fault's injected delay at its simulated value", async () => {
    // At speed 100 the endpoint waits 20 real ms for a 2 s simulated delay.
    delayMs = 20;
    const slow = { partitioned: () => false, isDown: () => false, extraLatencyMs: () => 2_000 };
    try {
      const observation = await probe(100, slow).probe('us-east-1', 'eu-west-1', '/api/v1/ping', 10_000);
      expect(observation).toMatchObject({ ok: true, status: 200 });
      expect(observation.latency_ms).toBeGreaterThanOrEqual(2_000);
      expect(observation.latency_ms).toBeLessThan(10_000);
    } finally {
      delayMs = 0;
    }
  });

  it('times out, after the timeout scaled to real time, when the injected delay reaches the timeout', async () => {
    // 12 s injected against a 10 s timeout at speed 100: the probe gives up after 100 real ms. The
    // endpoint holds its answer until the probe has returned, so a probe that waited for it never
    // returns (and the test times out), however busy the machine.
    let release = () => {};
    held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = { partitioned: () => false, isDown: () => false, extraLatencyMs: () => 12_000 };
    try {
      const observation = await probe(100, slow).probe('us-east-1', 'eu-west-1', '/api/v1/ping', 10_000);
      expect(observation).toMatchObject({ ok: false, error: 'timeout', latency_ms: 10_000 });
    } finally {
      held = undefined;
      release();
    }
  });
});
