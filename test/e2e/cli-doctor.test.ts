/**
 * `cortex doctor` against the local control plane: a healthy plane passes (exit 0, every region
 * checked through its own endpoint, nothing signed on loopback); a region taken down through the
 * fault API is named, in plain words, with exit 1.
 */
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.ts';
import { useSharedPlane } from '../support/plane.ts';

const shared = useSharedPlane('cortex-doctor-e2e-');
const _plane = shared.plane;
const endpoint = shared.endpoint;

describe('cortex doctor against the local control plane', () => {
  it('passes on a healthy plane, asking each region through its own endpoint()', async () => {
    const c = cli();
    expect(await c.run('doctor', '--endpoint', endpoint())).toBe(0);
    const text = c.out.join('\n');
    expect(text).toMatch(/^REGION\s+ENDPOINT\s+HEALTH\s+EPOCH\s+CLOCK\s+CHECK/);
    for (const id of ['us-east-1', 'eu-west-1', 'ap-south-1'])
      expect(text).toMatch(
        new RegExp(`${id}\\s+http://127\\.0\\.1\\.\\d+:\\d+\\s+serving\\s+0\\s+\\S+ s\\s+ok`),
      );
    expect(text).toMatch(/cortex doctor: 3 region\(s\) reachable, serving, authorized and in agreement$/);
    expect(c.err).toEqual([]);
  });

  it('answers JSON with --json', async () => {
    const c = cli();
    expect(await c.run('doctor', '--endpoint', endpoint(), '--json')).toBe(0);
    const report = JSON.parse(c.out.join('\n'));
    expect(report.ok).toBe(true);
    expect(report.regions.map((r: { region: string }) => r.region).sort()).toEqual([
      'ap-south-1',
      'eu-west-1',
      'us-east-1',
    ]);
  });

  it('names a region that is down and exits 1', async () => {
    const fault = cli();
    expect(await fault.run('fault', 'eu-west-1', 'down', '--endpoint', endpoint())).toBe(0);
    try {
      const c = cli();
      expect(await c.run('doctor', '--endpoint', endpoint())).toBe(1);
      expect(c.out.join('\n')).toMatch(/eu-west-1\s+\S+\s+unreachable\s+-\s+-\s+PROBLEM/);
      const err = c.err.join('\n');
      expect(err).toMatch(/^problems:\n {2}eu-west-1: unreachable: /);
      expect(err).toMatch(/\(GET http:\/\/127\.0\.1\.2:\d+\/health\)/);
      expect(err).not.toMatch(/us-east-1: |ap-south-1: /);
      expect(err).toMatch(/cortex doctor: 1 problem\(s\)$/);
    } finally {
      expect(await cli().run('heal', '--endpoint', endpoint())).toBe(0);
    }
  });

  it('refuses a bad --sign and contradicting endpoint() options with exit 2', async () => {
    const bad = cli();
    expect(await bad.run('doctor', '--endpoint', endpoint(), '--sign', 'sometimes')).toBe(2);
    expect(bad.err[0]).toMatch(/--sign must be one of auto, always, never/);
    const both = cli();
    expect(await both.run('doctor', '--endpoint', endpoint(), '--domain', 'cortex.example.com')).toBe(2);
  });
});
