/**
 * DR drills on the virtual clock: the shipped topology (the spec's usage snapshot, 30 s x 3, the
 * witness) under a steady workload, a scenario's faults, detection and the runbook left to run;
 * every figure judged against the spec's objectives (lib/core/dr). data_corruption needs the
 * replication drills of the local plane: test/e2e/dr-drill-local.test.ts runs it.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type DrillOptions, runDrill } from '../../lib/app/dr/drill.ts';
import type { DrillReport, DrillSuite } from '../../lib/app/dr/report.ts';
import { drillOnVirtualClock, VIRTUAL_SCENARIOS } from '../../lib/cli/dr-virtual.ts';
import { DEFAULT_TOPOLOGY_PATH, loadTopologyFile } from '../../lib/topology/load.ts';
import { cli } from '../support/cli.ts';
import { simDrillHarness } from '../support/sim-drill.ts';
import { SimPlane, shippedTopology } from '../support/sim-plane.ts';

async function drill(options: DrillOptions): Promise<DrillReport> {
  const sim = await SimPlane.start(shippedTopology());
  await sim.untilAllHealthy();
  const report = await runDrill(simDrillHarness(sim), options);
  sim.expectNoViolations();
  return report;
}

function summary(report: DrillReport) {
  return {
    detect: report.time_to_detect_seconds,
    rto: report.rto.map((t) => `${t.tier} ${t.downtime_seconds}`),
    writes: report.writes,
    misses: report.verdict.misses,
  };
}

describe('DR drills on the shipped topology meet the success criteria', () => {
  it('complete_regional_failure: the primary lost; the runbook adopts the automatic failover; no acknowledged write lost', async () => {
    const report = await drill({ scenario: 'complete_regional_failure' });
    expect(report.verdict.misses, JSON.stringify(summary(report))).toEqual([]);
    expect(report.runbook?.status).toBe('succeeded');
    expect(report.time_to_detect_seconds).toBeGreaterThan(0);
    expect(report.writes.acknowledged).toBeGreaterThan(20);
    expect(report.writes.lost).toBe(0);
    expect(report.residency.held).toBe(true);
    expect(report.survivors).not.toContain('us-east-1');
    const metrics = report.runbook?.metrics as { phases: { phase: string }[] };
    expect(metrics.phases.map((p) => p.phase)).toEqual([
      'assessment',
      'notification',
      'preparation',
      'execution',
      'validation',
      'stabilization',
      'documentation',
    ]);
  }, 120_000);

  it('network_partition: the cut-off region is fenced, the heal watched, replication reconciled, the region serves again', async () => {
    const report = await drill({ scenario: 'network_partition' });
    expect(report.verdict.misses, JSON.stringify(summary(report))).toEqual([]);
    expect(report.region).toBe('ap-south-1');
    expect(report.runbook?.status).toBe('succeeded');
    expect(report.survivors).toContain('ap-south-1');
    expect(report.writes.lost).toBe(0);
  }, 120_000);

  it('cascading_failure: the first target fails during the failover; the next failover still recovers every tier', async () => {
    const report = await drill({ scenario: 'cascading_failure' });
    expect(report.second_region).toBeDefined();
    expect(report.verdict.misses, JSON.stringify(summary(report))).toEqual([]);
    expect(report.survivors).toHaveLength(1);
  }, 120_000);

  // Invariant: whenever the target falls during the first failover (here after the drain's wait
  // began, when the takeover's rollback used to make the dead first region a quorum member again and
  // fence the last one), the last region serves every tier and nothing acknowledged is lost.
  it.each([62])(
    'cascading_failure with the target struck %i s after the failover names it: every objective met',
    async (seconds) => {
      const report = await drill({ scenario: 'cascading_failure', cascadeAfterMs: seconds * 1000 });
      expect(report.second_region).toBeDefined();
      expect(report.verdict.misses, JSON.stringify(summary(report))).toEqual([]);
      expect(report.survivors).toEqual(['ap-south-1']);
      expect(report.writes.lost).toBe(0);
      expect(report.residency.held).toBe(true);
    },
    120_000,
  );
});

describe('a drill with a broken runbook step', () => {
  it('fails and names the objective it missed', async () => {
    const report = await drill({
      scenario: 'complete_regional_failure',
      breakAction: 'failover_dns_routing',
    });
    expect(report.verdict.met).toBe(false);
    expect(report.runbook?.status).toBe('failed');
    expect(report.verdict.misses).toContainEqual(
      expect.stringMatching(/^RTO tier_3_services: never > 14400 s/),
    );
    expect(report.verdict.misses).toContainEqual(
      expect.stringContaining('failover_dns_routing broken on purpose'),
    );
  }, 120_000);
});

describe('cortex dr drill on the virtual clock (the CLI’s plane for every scenario but data_corruption)', () => {
  it('runs the regional failure in process on the shipped topology: every objective met, no live region failed over, reported as the virtual clock', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cortex-dr-cli-'));
    try {
      const { run, err } = cli();
      const out = join(dir, 'drill');
      const code = await run('dr', 'drill', 'complete_regional_failure', '--speed', '30', '--out', out);
      const suite = JSON.parse(await readFile(`${out}.json`, 'utf8')) as DrillSuite;
      const [report] = suite.reports;
      expect(report?.verdict.misses, err.join('\n')).toEqual([]);
      expect(code).toBe(0);
      expect(report?.plane).toBe('virtual clock');
      expect(report?.wall_seconds).toBeGreaterThan(0);
      expect(err).toContainEqual(expect.stringContaining('complete_regional_failure on the virtual clock'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('runs every scenario but data_corruption (the simulator holds no replication drills), and refuses it by name', async () => {
    expect(VIRTUAL_SCENARIOS).toEqual([
      'complete_regional_failure',
      'network_partition',
      'cascading_failure',
    ]);
    await expect(
      drillOnVirtualClock(loadTopologyFile(DEFAULT_TOPOLOGY_PATH), { scenario: 'data_corruption' }),
    ).rejects.toThrow(/data_corruption runs on the local plane/);
  });

  it.each([
    [
      ['dr', 'drill', 'cascading_failure', '--cascade-after', 'soon'],
      /--cascade-after must be seconds from 0 to 3600, got "soon"/,
    ],
    [
      ['dr', 'drill', 'cascading_failure', '--cascade-after', '99999'],
      /--cascade-after must be seconds from 0 to 3600/,
    ],
    [
      ['dr', 'drill', 'network_partition', '--cascade-after', '60'],
      /--cascade-after applies to cascading_failure only/,
    ],
  ])('refuses %j naming the flag, before any plane starts', async (argv, message) => {
    const { run, err } = cli();
    expect(await run(...argv)).toBe(2);
    expect(err.join('\n')).toMatch(message);
  });

  it('refuses an unknown --plane, naming the flag, before any plane starts', async () => {
    const { run, err } = cli();
    expect(await run('dr', 'drill', 'all', '--plane', 'cloud')).toBe(2);
    expect(err.join('\n')).toMatch(/--plane must be virtual or local, got "cloud"/);
  });
});
