import { afterEach, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../lib/core/errors.ts';
import { type FailoverRecord, failoverIdFor } from '../../lib/core/failover/types.ts';
import type { StatePort, WorkflowPort } from '../../lib/ports.ts';

export interface WorkflowFixture {
  /** The coordinator region's workflow port (its composition root's). */
  workflow(region: string): WorkflowPort;
  state(region: string): StatePort;
  /** Simulated ms. */
  now(): number;
  /**
   * Cuts `region` off from every other region (a partition): it cannot answer for itself, so nothing
   * the world runs meanwhile unfences it.
   */
  cutOff(region: string): Promise<void>;
  /** Lets `ms` of simulated time pass. */
  advance(ms: number): Promise<void>;
  /** Lets simulated time pass until `check` passes, at most `withinMs` of it; its last error otherwise. */
  until<T>(check: () => Promise<T>, withinMs: number): Promise<T>;
  close(): Promise<void>;
}

/**
 * A fresh world on the default topology (fast policy, a quiet hour) whose regions all serve, with
 * `require_manual_approval` as given.
 */
export type WorkflowSetup = (options: { readonly approval: boolean }) => Promise<WorkflowFixture>;

const US = 'us-east-1';
const EU = 'eu-west-1';
/** Long enough for a whole failover at the fast policy, in simulated ms. */
const FAILOVER_MS = 15 * 60_000;
const FINAL = ['completed', 'rolled_back', 'cancelled', 'failed'];
/** A real-time implementation runs a whole failover per test, on a machine others load too. */
const TEST_TIMEOUT_MS = 120_000;

/** Creates the record of a manual-or-automatic failover of `failed` that `coordinator` runs. */
async function createRecord(
  fixture: WorkflowFixture,
  failed: string,
  coordinator: string,
  trigger: FailoverRecord['trigger'],
): Promise<string> {
  const state = fixture.state(coordinator);
  const epoch = (await state.getRegionStatus(failed))?.epoch ?? 0;
  const at = new Date(fixture.now()).toISOString();
  const failoverId = failoverIdFor('failover', failed, epoch);
  await state.createFailover({
    failover_id: failoverId,
    kind: 'failover',
    failed_region: failed,
    trigger,
    reason: `contract: ${failed} fails over`,
    status: 'running',
    coordinator,
    epoch,
    dry_run: false,
    initiated_at: at,
    workloads_migrated: 0,
    workloads_pending: 0,
    steps: [],
    previous_statuses: [],
    abort_requested: false,
    updated_at: at,
  });
  return failoverId;
}

/**
 * Writes `region` fenced in the coordinator's replica: an automatic failover of a fenced region needs
 * no majority's views to confirm it (verify_failure), so it reaches its approval step at once.
 */
async function fence(fixture: WorkflowFixture, region: string, coordinator: string): Promise<void> {
  const state = fixture.state(coordinator);
  const current = await state.getRegionStatus(region);
  await state.putRegionStatus(
    {
      region_id: region,
      status: 'fenced',
      role: current?.role ?? 'active',
      epoch: (current?.epoch ?? 0) + 1,
      reason: 'contract: cut off from the majority',
      updated_at: new Date(fixture.now()).toISOString(),
      updated_by: `health-probe@${region}`,
    },
    current?.epoch,
  );
}

/**
 * Answers the approval as the failover API does (lib/app/failover/manage.ts): the decision on the
 * record first (approved: running again), then the waiting execution through the port.
 */
async function answer(fixture: WorkflowFixture, record: FailoverRecord, approved: boolean): Promise<void> {
  const decided_at = new Date(fixture.now()).toISOString();
  await fixture.state(record.coordinator).updateFailover(
    record.failover_id,
    {
      ...(approved ? { status: 'running' as const } : {}),
      approval: { decision: approved ? 'approved' : 'declined', decided_at },
      updated_at: decided_at,
    },
    { expectedStatuses: ['awaiting_approval'] },
  );
  // As the operator's side does (lib/app/failover/manage.ts): the wait re-reads the record after it
  // stored its token and answers it from a decision written in between, so the token may be gone.
  try {
    await fixture.workflow(record.coordinator).answerApproval(record.approval_token as string, approved);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
}

const ended = (fixture: WorkflowFixture, failoverId: string) =>
  fixture.until(async () => {
    const record = await fixture.state(US).getFailover(failoverId);
    expect(FINAL).toContain(record?.status);
    return record as FailoverRecord;
  }, FAILOVER_MS);

/**
 * The WorkflowPort contract (STYLE 4): what the probe round, the failover API and the take-over
 * rely on. Starting is idempotent per failover id and returns once started; the record is the
 * progress, so a start of an ended failover starts nothing; an approval is answered only with a
 * token the workflow issued.
 */
export function workflowContract(name: string, setup: WorkflowSetup): void {
  describe(`WorkflowPort contract: ${name}`, () => {
    let fixture: WorkflowFixture | undefined;
    const start = async (approval: boolean) => {
      fixture = await setup({ approval });
      return fixture;
    };
    afterEach(async () => {
      await fixture?.close();
      fixture = undefined;
    });

    // Invariant: a start returns once the execution started, not when the failover ends (a probe
    // round never waits for a failover), and the execution runs the record to its end.
    it(
      'returns once started and runs the failover to its end',
      async () => {
        const world = await start(false);
        const id = await createRecord(world, EU, US, 'manual');
        await world.workflow(US).startFailover({ failover_id: id, coordinator: US });
        expect((await world.state(US).getFailover(id))?.status).toBe('running');
        const record = await ended(world, id);
        expect(record.status).toBe('completed');
        expect(record.steps.length).toBeGreaterThan(0);
        expect((await world.state(US).getRegionStatus(EU))?.status).toBe('failed');
      },
      TEST_TIMEOUT_MS,
    );

    // Invariant: one execution per failover id however often and however concurrently it is
    // started; a start of a failover that ended starts nothing (the record is the progress).
    it(
      'runs one execution per failover id, and none for a failover that ended',
      async () => {
        const world = await start(false);
        const id = await createRecord(world, EU, US, 'manual');
        const workflow = world.workflow(US);
        await Promise.all([1, 2, 3].map(() => workflow.startFailover({ failover_id: id, coordinator: US })));
        await workflow.startFailover({ failover_id: id, coordinator: US });
        const record = await ended(world, id);
        const verified = record.steps.filter((s) => s.action === 'verify_failure');
        expect(verified.map((s) => s.attempt)).toEqual([1]);
        const actions = record.steps.map((s) => `${s.action}#${s.attempt}`);
        expect(new Set(actions).size).toBe(actions.length);

        await workflow.startFailover({ failover_id: id, coordinator: US });
        await world.advance(60_000);
        expect(await world.state(US).getFailover(id)).toEqual(record);
      },
      TEST_TIMEOUT_MS,
    );

    // Invariant: an approval is answered only with a token the workflow issued; any other is refused
    // as not found and changes nothing.
    it(
      'refuses to answer an approval it never asked for',
      async () => {
        const world = await start(true);
        const error = await world
          .workflow(US)
          .answerApproval('no-such-token-0123456789', true)
          .catch((e) => e);
        expect(error).toBeInstanceOf(NotFoundError);
      },
      TEST_TIMEOUT_MS,
    );

    // Invariant: a failover that needs approval waits for it; approved, it runs on to its end.
    it(
      'waits for an approval and, approved, runs the failover on',
      async () => {
        const world = await start(true);
        await world.cutOff(EU);
        await fence(world, EU, US);
        const id = await createRecord(world, EU, US, 'automatic');
        await world.workflow(US).startFailover({ failover_id: id, coordinator: US });
        const waiting = await world.until(async () => {
          const record = await world.state(US).getFailover(id);
          expect(record?.status).toBe('awaiting_approval');
          expect(record?.approval_token).toEqual(expect.any(String));
          return record as FailoverRecord;
        }, FAILOVER_MS);
        expect((await world.state(US).getRegionStatus(EU))?.status).not.toBe('failed');
        await answer(world, waiting, true);
        expect((await ended(world, id)).status).toBe('completed');
        expect((await world.state(US).getRegionStatus(EU))?.status).toBe('failed');
      },
      TEST_TIMEOUT_MS,
    );

    // Invariant: declined, the failover ends without failing the region over.
    it(
      'ends a declined failover without failing the region over',
      async () => {
        const world = await start(true);
        await world.cutOff(EU);
        await fence(world, EU, US);
        const id = await createRecord(world, EU, US, 'automatic');
        await world.workflow(US).startFailover({ failover_id: id, coordinator: US });
        const waiting = await world.until(async () => {
          const record = await world.state(US).getFailover(id);
          expect(record?.approval_token).toEqual(expect.any(String));
          return record as FailoverRecord;
        }, FAILOVER_MS);
        await answer(world, waiting, false);
        const record = await ended(world, id);
        expect(record.status).not.toBe('completed');
        expect((await world.state(US).getRegionStatus(EU))?.status).not.toBe('failed');
      },
      TEST_TIMEOUT_MS,
    );
  });
}
