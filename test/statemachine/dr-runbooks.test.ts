/**
 * The DR runbooks' definitions: valid ASL, every Task calls the DR function with an action it
 * answers, and a dry run executed in aws-local-stepfunctions (on the simulator's clock, with the real
 * task function) walks every phase and changes no region status and starts no failover.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { DR_ACTIONS, type DrRun } from '../../lib/app/dr/actions.ts';
import { loadRunbookDefinition } from '../../lib/app/dr/definition.ts';
import { createLocalRunbooks, LOCAL_DR_FUNCTION_ARN } from '../../lib/runtime/local-dr.ts';
import { SimPlane, shippedTopology } from '../support/sim-plane.ts';

// asl-validator ships no types; this is its documented call shape.
const validateAsl = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errors: unknown[];
};

type State = {
  Type: string;
  Parameters?: { action?: string };
  Branches?: { States: Record<string, State> }[];
};

function tasks(states: Record<string, State>): string[] {
  return Object.values(states).flatMap((s) =>
    s.Type === 'Task'
      ? [s.Parameters?.action as string]
      : s.Type === 'Parallel'
        ? (s.Branches ?? []).flatMap((b) => tasks(b.States))
        : [],
  );
}

describe.each(['regional_failure', 'network_partition'] as const)('the %s runbook', (runbook) => {
  const definition = JSON.parse(loadRunbookDefinition(runbook, LOCAL_DR_FUNCTION_ARN));

  it('is valid ASL in JSONPath', () => {
    const result = validateAsl(definition);
    expect(result.errors).toEqual([]);
    expect(definition.QueryLanguage).toBe('JSONPath');
  });

  it('calls the DR function with actions it answers', () => {
    const actions = tasks(definition.States);
    expect(actions.length).toBeGreaterThan(5);
    for (const action of actions) expect(DR_ACTIONS).toContain(action);
  });
});

describe('a dry run', () => {
  it('of the regional failure runbook walks every phase and changes nothing', async () => {
    const plane = await SimPlane.start(shippedTopology());
    await plane.untilAllHealthy();
    const before = await plane.state('eu-west-1').listRegionStatuses();
    const run = createLocalRunbooks({
      depsFor: (region) => plane.world.deps(region),
      sleep: (ms) => plane.world.kernel.sleep(ms),
    });
    const input: DrRun = {
      runbook: 'regional_failure',
      dr_id: 'dr-dry-1',
      failed_region: 'us-east-1',
      dry_run: true,
    };
    const pending = run('regional_failure', 'eu-west-1', input);
    let outcome: Awaited<typeof pending> | undefined;
    void pending.then((o) => {
      outcome = o;
    });
    await plane.until(() => expect(outcome).toBeDefined(), 60_000);
    expect(outcome?.status, outcome?.cause).toBe('succeeded');
    const steps =
      (outcome?.output as { steps: Record<string, { phase: string; outcome: string }> } | undefined)?.steps ??
      {};
    expect(steps.start_failover?.outcome).toBe('skipped');
    expect(new Set(Object.values(steps).map((s) => s.phase))).toEqual(
      new Set(['preparation', 'execution', 'validation', 'stabilization', 'documentation']),
    );
    expect(outcome?.path).toContain('AssessAndNotify');
    expect(await plane.state('eu-west-1').listRegionStatuses()).toEqual(before);
    expect(await plane.state('eu-west-1').listFailovers()).toEqual([]);
    expect(plane.events.filter((e) => e.type.startsWith('dr.'))).toEqual([]);
  }, 60_000);

  it('of the partition runbook answers every wait at once and reports one group', async () => {
    const plane = await SimPlane.start(shippedTopology());
    await plane.untilAllHealthy();
    const run = createLocalRunbooks({
      depsFor: (region) => plane.world.deps(region),
      sleep: (ms) => plane.world.kernel.sleep(ms),
    });
    const pending = run('network_partition', 'us-east-1', {
      runbook: 'network_partition',
      dr_id: 'p-dry',
      dry_run: true,
    });
    let outcome: Awaited<typeof pending> | undefined;
    void pending.then((o) => {
      outcome = o;
    });
    await plane.until(() => expect(outcome).toBeDefined(), 60_000);
    expect(outcome?.status, outcome?.cause).toBe('succeeded');
    const steps =
      (outcome?.output as { steps: Record<string, { data?: { groups?: string[][] } }> } | undefined)?.steps ??
      {};
    expect(steps.identify_partition_groups?.data?.groups).toHaveLength(1);
  }, 60_000);
});
