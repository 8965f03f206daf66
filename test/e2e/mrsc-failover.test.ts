/**
 * The MRSC table on the local control plane, the wiring: topology/us-mrsc.json puts region statuses,
 * failovers and handoffs in the strongly consistent table `cortex-critical` (dynalite behind the
 * quorum guard of lib/adapters/local/mrsc.ts). A region cut off from both others can neither read nor
 * write it: its /health answers 503 STATE_UNAVAILABLE (DNS pulls it) and it routes nothing. What the
 * majority then decides, and when, is tested on the virtual clock in test/sim/mrsc-failover.test.ts.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { StateUnavailableError } from '../../lib/core/errors.ts';
import { formatBanner, type LocalControlPlane } from '../../lib/local/control-plane.ts';
import { call, untilAllHealthy, usePlane, withFastPolicy } from '../support/plane.ts';

const SPEED = 5;
const INTERVAL_MS = 10_000;
const REAL_INTERVAL_MS = INTERVAL_MS / SPEED;

/**
 * How long a wait on the plane may take, in real time: thirty simulated intervals, for states it
 * reaches in a few. A busy machine stretches them; the deadline only names what never came.
 */
const PATIENCE_MS = 30 * REAL_INTERVAL_MS;

const logged: string[] = [];
const plane = usePlane('cortex-mrsc-failover-', SPEED);

async function start(): Promise<LocalControlPlane> {
  // The shipped example topology (topology/us-mrsc.json) with the fast policy.
  const raw = JSON.parse(await readFile(new URL('../../topology/us-mrsc.json', import.meta.url), 'utf8'));
  const cp = await plane.start(withFastPolicy(raw), { log: (line) => void logged.push(line) });
  await untilAllHealthy(cp, PATIENCE_MS);
  return cp;
}

describe('the MRSC table on the local control plane', () => {
  it(
    'a cut-off region has no strong state: /health 503 STATE_UNAVAILABLE, nothing routed',
    async () => {
      const cp = await start();
      expect(formatBanner(cp)).toMatch(/mrsc\s+cortex-critical {2}\(statuses, failovers, handoffs/);
      const state = (region: string) => cp.runtime.region(region).deps.state;
      const injected = await call(`${cp.gatewayUrl}/v1/sim/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ region: 'us-east-1', kind: 'partition' }),
      });
      expect(injected.status).toBe(201);

      // The cut-off side: no majority of cortex-critical, so /health is 503 and nothing is routed.
      const health = await call(`${cp.regions['us-east-1']?.url}/health`);
      expect(health.status).toBe(503);
      expect(health.body.error).toMatchObject({ code: 'STATE_UNAVAILABLE', region: 'us-east-1' });
      const routed = await call(`${cp.regions['us-east-1']?.url}/v1/route`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ task_id: 'task-cut-off', priority: 'high', source: { region: 'us-east-1' } }),
      });
      expect(routed.status).toBe(503);
      await expect(state('us-east-1').listRegionStatuses()).rejects.toBeInstanceOf(StateUnavailableError);

      // Its rounds say why it serves nothing.
      await vi.waitFor(
        () =>
          expect(logged.some((line) => /cortex-critical is unavailable from us-east-1/.test(line))).toBe(
            true,
          ),
        { timeout: PATIENCE_MS, interval: 50 },
      );
    },
    3 * PATIENCE_MS,
  );
});
