import { describe, expect, it } from 'vitest';
import { DiscoveringProbe } from '../../lib/adapters/aws/discovering-probe.ts';
import { isNonPublicAddress, probeAllowList } from '../../lib/adapters/aws/probe-allow-list.ts';
import type { ProbePort } from '../../lib/ports.ts';

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'];
const allow = probeAllowList({
  regions: REGIONS,
  named: { 'us-east-1': 'https://us-east-1.api.cortex.example.com', 'eu-west-1': 'http://10.1.2.3:4600' },
});
const check = (target: string, url: string) => allow(target, new URL(url));

describe('the AWS probe allow-list', () => {
  it("allows a region's own API Gateway endpoint and the URLs the deployment names", () => {
    expect(
      check('ap-south-1', 'https://a1b2c3d4e5.execute-api.ap-south-1.amazonaws.com/health'),
    ).toBeUndefined();
    expect(
      check('us-east-1', 'https://us-east-1.api.cortex.example.com/coordination/status'),
    ).toBeUndefined();
    // Named by the deployment: a private address is allowed for that region, and only there.
    expect(check('eu-west-1', 'http://10.1.2.3:4600/health')).toBeUndefined();
    expect(check('ap-south-1', 'http://10.1.2.3:4600/health')).toMatch(/not https/);
  });

  it('refuses link-local, private and loopback addresses, other regions and other hosts', () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'https://169.254.169.254/',
      'https://10.0.0.1:4600/',
      'https://[fe80::1]/',
      'https://[::1]/',
      'https://[::ffff:169.254.169.254]/',
      'https://127.0.0.1/',
      'https://192.168.1.1/',
      'https://172.20.0.1/',
    ]) {
      expect(check('ap-south-1', url), url).toBeDefined();
    }
    expect(check('ap-south-1', 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/')).toMatch(
      /not an API Gateway endpoint of ap-south-1/,
    );
    expect(check('ap-south-1', 'https://evil.example.com/')).toBeDefined();
    expect(
      check('ap-south-1', 'https://a1b2c3d4e5.execute-api.ap-south-1.amazonaws.com.evil.com/'),
    ).toBeDefined();
    expect(check('ap-south-1', 'https://a1b2c3d4e5.execute-api.ap-south-1.amazonaws.com:8443/')).toMatch(
      /port/,
    );
    expect(check('ap-south-1', 'https://user:pw@a1b2c3d4e5.execute-api.ap-south-1.amazonaws.com/')).toMatch(
      /credentials/,
    );
    expect(check('sa-east-1', 'https://a1b2c3d4e5.execute-api.sa-east-1.amazonaws.com/')).toMatch(
      /not a region of the topology/,
    );
  });

  it('tells public from non-public address literals', () => {
    expect(isNonPublicAddress('169.254.10.10')).toBe(true);
    expect(isNonPublicAddress('[fe80::abcd]')).toBe(true);
    expect(isNonPublicAddress('fd00::1')).toBe(true);
    expect(isNonPublicAddress('52.94.76.1')).toBe(false);
    expect(isNonPublicAddress('2600:1f18::1')).toBe(false);
    expect(isNonPublicAddress('example.com')).toBe(false);
  });
});

describe('the discovering probe checks every call against the allow-list', () => {
  it('never calls a URL read from SSM that is outside it, and says why', async () => {
    const called: string[] = [];
    const probe = new DiscoveringProbe({
      known: {},
      regions: REGIONS,
      lookup: async (region) =>
        region === 'eu-west-1'
          ? 'http://169.254.169.254'
          : `https://abcdefghij.execute-api.${region}.amazonaws.com`,
      probeFor: (urls): ProbePort => ({
        probe: async (observer, target, endpoint) => {
          called.push(`${urls[target]}${endpoint}`);
          return { observer, target, endpoint, ok: true, latency_ms: 1, at: 0 };
        },
      }),
      now: () => 42,
    });
    const refused = await probe.probe('us-east-1', 'eu-west-1', '/health', 1_000);
    expect(refused).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^refused: .*not https/),
      at: 42,
    });
    const allowed = await probe.probe('us-east-1', 'ap-south-1', '/health', 1_000);
    expect(allowed.ok).toBe(true);
    expect(called).toEqual(['https://abcdefghij.execute-api.ap-south-1.amazonaws.com/health']);

    // Invariant: a refused round still reports each endpoint (one failed observation per path, none requested).
    const round = await probe.probeEndpoints('us-east-1', 'eu-west-1', ['/health', '/api/v1/ping'], 1_000);
    expect(round).toEqual(
      ['/health', '/api/v1/ping'].map((endpoint) => ({
        observer: 'us-east-1',
        target: 'eu-west-1',
        endpoint,
        ok: false,
        error: expect.stringMatching(/^refused: .*not https/),
        latency_ms: 0,
        at: 42,
      })),
    );
    const bundled = await probe.probeEndpoints('us-east-1', 'ap-south-1', ['/health', '/api/v1/ping'], 1_000);
    expect(bundled.map((o) => [o.endpoint, o.ok])).toEqual([
      ['/health', true],
      ['/api/v1/ping', true],
    ]);
    expect(called).toHaveLength(3);
  });
});
