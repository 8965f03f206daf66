/**
 * The CLI keeps working through the loss of the endpoint it talks to: it tries the next endpoint on a
 * connection error or an answer saying the region did not act (never on a 4xx: asksNextEndpoint in
 * lib/cli/client.ts, the rule cortex dashboard shares), says who answered, and `watch` keeps polling
 * through errors. Refusals print their reasons as lines; a dry
 * run's plan prints as tables.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, parseEndpoints, regionOfHost } from '../../lib/cli/client.ts';
import { cli } from '../support/cli.ts';
import {
  deadEndpoint,
  type FakeAnswer,
  type FakeEndpoint,
  fakeEndpoint,
  gatewayOfDownRegion,
  resettingEndpoint,
} from '../support/fake-api.ts';

const open: FakeEndpoint[] = [];
afterEach(async () => {
  for (const endpoint of open.splice(0)) await endpoint.close();
});

async function endpoint(
  answer: (method: string, path: string) => FakeAnswer | undefined,
  region?: string,
): Promise<FakeEndpoint> {
  const e = await fakeEndpoint(answer, region);
  open.push(e);
  return e;
}

async function resetting(): Promise<FakeEndpoint> {
  const e = await resettingEndpoint();
  open.push(e);
  return e;
}

const REGIONS = {
  observer: 'eu-west-1',
  regions: [
    ['us-east-1', 'primary', 'failed'],
    ['eu-west-1', 'secondary', 'healthy'],
  ].map(([id, tier, status]) => ({
    region_id: id,
    tier,
    status,
    role: tier,
    epoch: 2,
    traffic_weight: status === 'healthy' ? 100 : 0,
    compliance: ['soc2'],
    data_residency: ['US'],
    capacity: { available: 0.4 },
    health: { state: status === 'healthy' ? 'healthy' : 'unreachable', action: 'none', reasons: [] },
    observers: {},
  })),
};

/** Serves the two reads `regions`, `health` and `watch` make. */
function readOnly(method: string, path: string): FakeAnswer | undefined {
  if (method === 'GET' && path === '/v1/regions') return { status: 200, body: REGIONS };
  if (method === 'GET' && path === '/v1/failovers') return { status: 200, body: { failovers: [] } };
  return undefined;
}

describe('endpoint fallback', () => {
  it('tries the next endpoint when the first refuses the connection, and says who answered', async () => {
    const dead = await deadEndpoint();
    const live = await endpoint(readOnly, 'eu-west-1');
    const c = cli();
    expect(await c.run('regions', '--endpoint', `${dead},${live.url}`)).toBe(0);
    expect(c.out.join('\n')).toMatch(/eu-west-1\s+secondary\s+healthy/);
    expect(c.err).toEqual([`cortex: answered by eu-west-1 (${live.url}); ${dead} connection refused`]);
  });

  it('reads the list from CORTEX_ENDPOINT, and tries the next after a reset', async () => {
    const down = await resetting();
    const live = await endpoint(readOnly);
    const c = cli('', { CORTEX_ENDPOINT: `${down.url}, ${live.url}/` });
    expect(await c.run('health')).toBe(0);
    expect(down.calls).toEqual(['GET /v1/regions']);
    expect(c.err.join('\n')).toMatch(new RegExp(`answered by ${live.url}; ${down.url} connection reset`));
  });

  it('learns every region endpoint from the gateway when the region behind it is down', async () => {
    const usEast = await resetting();
    const euWest = await endpoint(readOnly, 'eu-west-1');
    // A local gateway whose region is down: the API resets, its own /v1/sim still answers.
    const gateway = await gatewayOfDownRegion({ 'us-east-1': usEast.url, 'eu-west-1': euWest.url });
    open.push(gateway);
    const c = cli();
    expect(await c.run('regions', '--endpoint', gateway.url)).toBe(0);
    expect(gateway.calls).toEqual(['GET /v1/regions', 'GET /v1/sim']);
    expect(usEast.calls).toEqual(['GET /v1/regions']);
    expect(c.err.join('\n')).toMatch(
      new RegExp(
        `answered by eu-west-1 \\(${euWest.url}\\); ${gateway.url} connection reset, ${usEast.url} connection reset`,
      ),
    );
  });

  it('shows an HTTP answer as it is: a 4xx or 5xx is that region speaking, not a reason to move on', async () => {
    const refusing = await endpoint(() => ({
      status: 500,
      body: { error: { code: 'INTERNAL', message: 'internal error' } },
    }));
    const other = await endpoint(readOnly);
    const c = cli();
    expect(await c.run('regions', '--endpoint', `${refusing.url},${other.url}`)).toBe(1);
    expect(c.err).toEqual(['HTTP 500 INTERNAL: internal error']);
    expect(other.calls).toEqual([]);
  });

  it("a gateway's own 5xx (no code) moves a read on, but a request unsafe to repeat stops there: the function may have run", async () => {
    const crashed = await endpoint(() => ({ status: 502, body: { message: 'Internal Server Error' } }));
    const other = await endpoint(() => ({ status: 200, body: { ok: true } }));
    const client = new ApiClient({ endpoints: [crashed.url, other.url], origin: '--endpoint' });
    expect((await client.call('GET', '/v1/latency')).endpoint).toBe(other.url);
    const rebalance = await client.call('POST', '/v1/resources/rebalance', '{}');
    expect(rebalance.status).toBe(502);
    expect(other.calls).toEqual(['GET /v1/latency']);
  });

  it('moves on after a 503 from a region that is not serving, and shows it when nobody else answers', async () => {
    const notServing = {
      status: 503,
      body: {
        error: {
          code: 'REGION_NOT_SERVING',
          message: 'region us-east-1 is failed and does not route tasks',
          region: 'us-east-1',
          status: 'failed',
        },
      },
    };
    const fenced = await endpoint(() => notServing, 'us-east-1');
    const serving = await endpoint(
      (method, path) =>
        method === 'POST' && path === '/v1/route'
          ? { status: 200, body: routeAnswer('task-9', 'eu-west-1') }
          : undefined,
      'eu-west-1',
    );
    const c = cli('{"task_id":"task-9"}');
    expect(await c.run('route', '-', '--endpoint', `${fenced.url},${serving.url}`)).toBe(0);
    expect(c.out[0]).toMatch(/^task-9 -> eu-west-1/);
    expect(c.err.join('\n')).toMatch(/answered by eu-west-1 .*HTTP 503 REGION_NOT_SERVING/);

    const alone = cli('{"task_id":"task-10"}');
    expect(await alone.run('route', '-', '--endpoint', fenced.url)).toBe(1);
    expect(alone.err).toEqual([
      'HTTP 503 REGION_NOT_SERVING: region us-east-1 is failed and does not route tasks',
    ]);
  });

  it('does not send a one-off request again after a reset: it may have been acted on', async () => {
    const down = await resetting();
    const other = await endpoint(() => ({ status: 201, body: {} }));
    const c = cli();
    expect(await c.run('audit', '--endpoint', `${down.url},${other.url}`)).toBe(1);
    expect(other.calls).toEqual([]);
    expect(c.err.join('\n')).toMatch(/may have reached the region, and sending it again could repeat it/);
    expect(c.err.join('\n')).not.toMatch(/npm start/);
  });

  it('asks "is npm start running?" only when nothing answers at all', async () => {
    const [a, b] = [await deadEndpoint(), await deadEndpoint()];
    const c = cli();
    expect(await c.run('regions', '--endpoint', `${a},${b}`)).toBe(1);
    expect(c.err.join('\n')).toBe(
      `cortex: cannot reach ${a} (connection refused), ${b} (connection refused); is \`npm start\` running, or is --endpoint right?`,
    );
  });

  it('rejects an endpoint list with an entry that is not an http URL, naming where it came from', async () => {
    const c = cli();
    expect(await c.run('regions', '--endpoint', 'http://127.0.0.1:4600,ftp://x')).toBe(2);
    expect(c.err[0]).toBe('cortex: --endpoint: "ftp://x" is not an http or https URL');
    const env = cli('', { CORTEX_ENDPOINT: 'localhost 4600' });
    expect(await env.run('regions')).toBe(2);
    expect(env.err[0]).toMatch(/^cortex: CORTEX_ENDPOINT: "localhost 4600" is not a URL/);
  });
});

describe('endpoint lists', () => {
  it('accept several URLs, trimmed, without trailing slashes, and keep an API stage path', () => {
    expect(parseEndpoints(' http://127.0.0.1:4600/ ,https://api.example.com/prod/', '--endpoint')).toEqual([
      'http://127.0.0.1:4600',
      'https://api.example.com/prod',
    ]);
    expect(() => parseEndpoints(' , ', 'CORTEX_ENDPOINT')).toThrow(/CORTEX_ENDPOINT is empty/);
  });

  it('name the region an AWS host names', () => {
    expect(regionOfHost('https://a1b2c3.execute-api.eu-west-1.amazonaws.com')).toBe('eu-west-1');
    expect(regionOfHost('https://ap-south-1.api.cortex.example.com')).toBe('ap-south-1');
    expect(regionOfHost('http://127.0.0.1:4600')).toBeUndefined();
  });
});

describe('cortex watch', () => {
  it('keeps polling through a dead endpoint, printing the error each time', async () => {
    const dead = await deadEndpoint();
    const c = cli();
    expect(await c.run('watch', '--count', '3', '--interval', '0.01', '--endpoint', dead)).toBe(1);
    const errors = c.out.filter((line) => line.startsWith('error: '));
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(/cannot reach .* \(connection refused\)/);
    expect(c.out.filter((line) => line.startsWith('cortex watch '))).toHaveLength(3);
  });

  it('goes on through an endpoint that dies between polls, to the next one', async () => {
    let alive = true;
    const first = await endpoint((method, path) => (alive ? readOnly(method, path) : undefined), 'us-east-1');
    const second = await endpoint(readOnly, 'eu-west-1');
    const c = cli();
    const polls = c.run(
      'watch',
      '--count',
      '6',
      '--interval',
      '0.2',
      '--endpoint',
      `${first.url},${second.url}`,
    );
    // Once the first poll is answered, the first endpoint goes away altogether (waiting for that
    // answer, not for a fixed time: a busy machine may take longer than a poll interval for it).
    while (!c.out.some((line) => line.startsWith('cortex watch ')))
      await new Promise((r) => setTimeout(r, 2));
    alive = false;
    await first.close();
    open.splice(open.indexOf(first), 1);
    expect(await polls).toBe(0);
    const headers = c.out.filter((line) => line.startsWith('cortex watch '));
    expect(headers).toHaveLength(6);
    expect(headers[0]).toMatch(/answered by us-east-1/);
    expect(headers.at(-1)).toMatch(new RegExp(`answered by eu-west-1 at ${second.url}`));
    expect(c.out.filter((line) => line.startsWith('error: '))).toEqual([]);
  });

  it('refuses a count or interval that is not a positive number', async () => {
    expect(await cli().run('watch', '--count', '0')).toBe(2);
    expect(await cli().run('watch', '--count', '1.5')).toBe(2);
    const c = cli();
    expect(await c.run('watch', '--interval', 'soon')).toBe(2);
    expect(c.err[0]).toBe('cortex: --interval must be a positive number of seconds, got "soon"');
  });
});

function routeAnswer(taskId: string, region: string) {
  return {
    task_id: taskId,
    region,
    score: 80,
    candidates: [
      {
        region,
        score: 80,
        latency_ms: 20,
        factors: { capacity: 50, latency: 90, compliance: 100, cost: 60 },
      },
    ],
    excluded: [],
    handoff: { handoff_id: `cross-region-${taskId}`, status: 'pending', created_at: '2026-11-26T12:00:00Z' },
  };
}

describe('refusals and plans', () => {
  it('prints every excluded region with each of its reasons on its own line', async () => {
    const api = await endpoint((method, path) =>
      method === 'POST' && path === '/v1/failovers'
        ? {
            status: 422,
            body: {
              error: { code: 'NO_ELIGIBLE_REGION', message: 'no region can take over from us-east-1' },
              excluded: [
                {
                  region: 'eu-west-1',
                  reasons: ['available capacity 26.7% is below 50%', 'lacks compliance framework hipaa'],
                },
                { region: 'ap-south-1', reasons: ['region is failed'] },
              ],
            },
          }
        : undefined,
    );
    const c = cli();
    expect(await c.run('failover', 'start', 'us-east-1', '--dry-run', '--endpoint', api.url)).toBe(1);
    expect(c.err).toEqual([
      'HTTP 422 NO_ELIGIBLE_REGION: no region can take over from us-east-1',
      'excluded:',
      '  eu-west-1:',
      '    - available capacity 26.7% is below 50%',
      '    - lacks compliance framework hipaa',
      '  ap-south-1: region is failed',
    ]);
    expect(c.out).toEqual([]);
    const raw = cli();
    expect(
      await raw.run('failover', 'start', 'us-east-1', '--dry-run', '--json', '--endpoint', api.url),
    ).toBe(1);
    expect(JSON.parse(raw.out.join('\n')).excluded).toHaveLength(2);
  });

  it('prints a dry run as tables: each candidate and why, where each workload goes, what stays pending', async () => {
    const plan = {
      failover_id: 'failover-us-east-1-e0',
      kind: 'failover',
      failed_region: 'us-east-1',
      coordinator: 'eu-west-1',
      trigger: 'manual',
      initiated_at: '2026-11-26T12:00:00.000Z',
      status: 'planned',
      target_region: 'eu-west-1',
      dry_run: true,
      plan: {
        failed_region: 'us-east-1',
        target_region: 'eu-west-1',
        mode: 'spread',
        considered: [
          {
            region: 'eu-west-1',
            reasons: ['available capacity 26.7% is below 50% of its scarcest resource'],
          },
          { region: 'ap-south-1', reasons: ['has room: takes a share of the work'] },
        ],
        workloads_to_move: [
          { handoff_id: 'cross-region-t1', task_id: 't1', to: 'ap-south-1', routing_score: 71.5 },
        ],
        workloads_pending: [{ handoff_id: 'cross-region-t2', task_id: 't2', reasons: ['data residency US'] }],
        workloads_in_flight: 1,
        promotion_seconds: 0,
        estimated_rto_seconds: 90,
      },
    };
    const api = await endpoint((method, path) =>
      method === 'POST' && path === '/v1/failovers' ? { status: 200, body: plan } : undefined,
    );
    const c = cli();
    expect(await c.run('failover', 'start', 'us-east-1', '--dry-run', '--endpoint', api.url)).toBe(0);
    const text = c.out.join('\n');
    expect(text).toMatch(
      /^dry run: failover of us-east-1 -> eu-west-1 \(work spread over every survivor with room\), coordinated by eu-west-1; nothing written/,
    );
    expect(text).toMatch(/estimated RTO 90 s .* 1 handoff\(s\) in flight/);
    expect(text).toMatch(/\nCANDIDATE +CHOSEN +REASONS\n/);
    expect(text).toMatch(/\neu-west-1 +target +available capacity 26\.7%/);
    expect(text).toMatch(/\nap-south-1 +- +has room/);
    expect(text).toMatch(/\nHANDOFF +TASK +MOVES TO +SCORE\n-+.*\ncross-region-t1 +t1 +ap-south-1 +71\.5/);
    expect(text).toMatch(/\n {2}cross-region-t2 \(t2\): data residency US/);
    expect(text).not.toMatch(/[{}"]/);
  });
});
