/**
 * statemachines/failover.asl.json executed by the ASL interpreter (LocalWorkflow) with the real
 * failover function (functions/failover through middy) against a DynamoDB-compatible store
 * (dynalite). One table plays every region's replica, so replication lag is not under test here;
 * faults are injected by wrapping the state port and by a fake probe.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { createFailoverHandler } from '../../functions/failover/handler.ts';
import { DynamoMcpAdapter } from '../../lib/adapters/aws/dynamodb-mcp.ts';
import { DynamoStateAdapter } from '../../lib/adapters/aws/dynamodb-state.ts';
import { LocalEventLog } from '../../lib/adapters/local/events.ts';
import type { ExecutionOutcome, LocalWorkflow } from '../../lib/adapters/local/workflow.ts';
import type { ControlDeps } from '../../lib/app/deps.ts';
import { runFailoverAction } from '../../lib/app/failover/actions.ts';
import {
  applySubstitutions,
  FAILOVER_DEFINITION_PATH,
  failoverSubstitutions,
  loadFailoverDefinition,
} from '../../lib/app/failover/definition.ts';
import { abortFailover, answerApproval, getFailover } from '../../lib/app/failover/manage.ts';
import { type StartFailoverRequest, startFailover } from '../../lib/app/failover/start.ts';
import { startAutomaticFailover } from '../../lib/app/probe-round.ts';
import { ConflictError, NoEligibleRegionError, NoTargetRegionError } from '../../lib/core/errors.ts';
import type { FailoverRecord, FailoverTrigger } from '../../lib/core/failover/types.ts';
import type { ProbeObservation, TargetHealth } from '../../lib/core/health/types.ts';
import type { Handoff, HandoffStatus, RegionStatusRecord } from '../../lib/core/state/records.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import type { ProbePort, StatePort } from '../../lib/ports.ts';
import { createLocalWorkflow } from '../../lib/runtime/local-workflow.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';
import { lambdaContext } from '../support/events.ts';

// asl-validator ships no types; this is its documented call shape.
const validateAsl = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errorsText: (separator?: string) => string;
};

/** Simulated ms per real ms: a 10 s drain poll takes 100 ms, the 150 s drain max wait 1.5 s. */
const SPEED = 100;
const FAILED = 'us-east-1';

type RawTopology = ReturnType<typeof defaultTopologyJson>;

/** The default topology with usage low enough that every region has 80 % of its capacity free. */
function testTopology(edit: (json: RawTopology) => void = () => {}): Topology {
  const json = defaultTopologyJson();
  for (const pool of Object.values<{
    workers: number;
    tokens_per_hour: number;
    compute_units: number;
    current_usage: unknown;
  }>(json.global_resource_pool.regional_allocation)) {
    pool.current_usage = {
      workers: Math.floor(pool.workers * 0.2),
      tokens_used: Math.floor(pool.tokens_per_hour * 0.2),
      compute_units: Math.floor(pool.compute_units * 0.2),
    };
  }
  edit(json);
  return validateTopology(json);
}

/**
 * Approval required, and answered by the test: the decision waits an hour, since at SPEED the
 * policy's 60 s are 600 real ms, which a busy machine can spend before the answer. The timeout is
 * tested on its own ("cancels when nobody answers ...").
 */
function awaitingAnswer(json: RawTopology): void {
  json.failover_policies.automatic_failover.require_manual_approval = true;
  json.failover_policies.automatic_failover.decision_timeout_seconds = 3600;
}

/** Wraps a state port so a test can intercept any method: `(args, call) => ...`. */
type Intercept = (args: unknown[], call: () => Promise<unknown>) => Promise<unknown>;
type Faults = Partial<Record<keyof StatePort, Intercept>>;

function faulty(state: StatePort, faults: Faults): StatePort {
  return new Proxy(state, {
    get(target, property, receiver) {
      const original = Reflect.get(target, property, receiver);
      if (typeof original !== 'function') return original;
      return (...args: unknown[]) => {
        const call = () => original.apply(target, args) as Promise<unknown>;
        const intercept = faults[property as keyof StatePort];
        return intercept ? intercept(args, call) : call();
      };
    },
  });
}

class FakeProbe implements ProbePort {
  /** `${target} ${endpoint}` that fail. */
  readonly failing = new Set<string>();
  capacity: Record<string, number> = {};
  readonly #now: () => number;
  constructor(now: () => number) {
    this.#now = now;
  }
  async probe(observer: string, target: string, endpoint: string): Promise<ProbeObservation> {
    const ok = !this.failing.has(`${target} ${endpoint}`);
    return {
      observer,
      target,
      endpoint,
      ok,
      latency_ms: 12,
      at: this.#now(),
      ...(ok ? { status: 200 } : { error: 'refused' }),
      ...(this.capacity[target] === undefined ? {} : { available_capacity: this.capacity[target] }),
    };
  }
}

interface Harness {
  readonly topology: Topology;
  readonly table: TestTable;
  readonly state: StatePort;
  readonly faults: Faults;
  readonly events: LocalEventLog;
  readonly probe: FakeProbe;
  readonly workflow: LocalWorkflow;
  readonly now: () => number;
  deps(region: string): ControlDeps;
  replicaFaults: Faults;
}

const open: Harness[] = [];

async function harness(topology = testTopology()): Promise<Harness> {
  const table = await startTestTable();
  const raw = new DynamoStateAdapter({ client: table.doc, tableName: table.tableName });
  const faults: Faults = {};
  const state = faulty(raw, faults);
  const realStart = performance.now();
  const simStart = Date.parse('2026-11-26T12:00:00Z');
  const now = () => Math.round(simStart + (performance.now() - realStart) * SPEED);
  const events = new LocalEventLog();
  const mcp = new DynamoMcpAdapter({ client: table.doc, tableName: table.tableName });
  const probe = new FakeProbe(now);
  const cache = new Map<string, ControlDeps>();
  const h: Harness = {
    topology,
    table,
    state,
    faults,
    events,
    probe,
    now,
    replicaFaults: {},
    deps: (region) => {
      let deps = cache.get(region);
      if (!deps) {
        deps = {
          regionId: region,
          topology,
          state,
          clock: { now },
          probe,
          events,
          workflow,
          // Every replica is the one table; the target's replica can carry its own faults.
          replica: (id) => (id === region ? state : faulty(state, h.replicaFaults)),
          mcp,
        };
        cache.set(region, deps);
      }
      return deps;
    },
    workflow: undefined as unknown as LocalWorkflow,
  };
  const workflow = createLocalWorkflow({
    topology,
    depsFor: (region) => h.deps(region),
    // The real Lambda handler (middy chain and event parsing) stands in for the function.
    invokerFor: (deps) => {
      const handler = createFailoverHandler(deps);
      return (event) => handler(event, lambdaContext);
    },
    speed: SPEED,
  });
  (h as { workflow: LocalWorkflow }).workflow = workflow;
  open.push(h);
  return h;
}

afterEach(async () => {
  for (const h of open.splice(0)) {
    await h.workflow.close();
    await h.table.close();
  }
});

async function seedHandoff(
  h: Harness,
  taskId: string,
  options: { target?: string; status?: HandoffStatus; requirements?: Record<string, unknown> } = {},
): Promise<Handoff> {
  const handoff: Handoff = {
    handoff_id: `cross-region-${taskId}`,
    task_id: taskId,
    source_region: FAILED,
    target_region: options.target ?? FAILED,
    routing_score: 70,
    status: options.status ?? 'pending',
    created_at: new Date(h.now()).toISOString(),
    task: { task_id: taskId, requirements: options.requirements ?? {} },
    request_hash: 'seeded',
    decision: { candidates: [], excluded: [] },
  };
  await h.state.createHandoff(handoff);
  return handoff;
}

function view(h: Harness, observer: string, target: string, verdict: TargetHealth['verdict']): TargetHealth {
  return {
    observer,
    target,
    consecutive_failures: verdict === 'unhealthy' ? 3 : 0,
    consecutive_successes: verdict === 'healthy' ? 2 : 0,
    endpoints: {},
    window: [],
    error_rate: verdict === 'unhealthy' ? 1 : 0,
    p99_ms: 80,
    verdict,
    reasons: verdict === 'unhealthy' ? ['3 failed rounds of /health'] : [],
    rounds: 5,
    updated_at: h.now(),
  };
}

/** Every other observer (and the witness) calls us-east-1 unhealthy; the rest see each other. */
async function seedMajorityAgainst(h: Harness): Promise<void> {
  for (const observer of ['eu-west-1', 'ap-south-1', 'witness-us-west-2']) {
    await h.state.putTargetHealth(view(h, observer, FAILED, 'unhealthy'));
  }
  await h.state.putTargetHealth(view(h, 'witness-us-west-2', 'eu-west-1', 'healthy'));
  await h.state.putTargetHealth(view(h, 'eu-west-1', 'ap-south-1', 'healthy'));
}

const request = (overrides: Partial<StartFailoverRequest> = {}): StartFailoverRequest => ({
  failed_region: FAILED,
  reason: 'us-east-1 is down',
  ...overrides,
});

async function start(
  h: Harness,
  overrides: Partial<StartFailoverRequest> = {},
  trigger: FailoverTrigger = 'manual',
  from = 'eu-west-1',
) {
  return startFailover(h.deps(from), request(overrides), trigger);
}

async function statusOf(h: Harness, region: string): Promise<RegionStatusRecord | undefined> {
  return h.state.getRegionStatus(region);
}

async function record(h: Harness, id: string): Promise<FailoverRecord> {
  const found = await h.state.getFailover(id);
  if (!found) throw new Error(`no record ${id}`);
  return found;
}

/**
 * How long a test waits for a record or an execution, in real time. An execution ends within a
 * second or two here; a busy machine can make that many times longer, and a deadline is there only
 * so that a stuck Wait or approval fails its test with what it waited for. Tests get twice as long.
 */
const WAIT_MS = 60_000;
const TEST_TIMEOUT = { timeout: 2 * WAIT_MS };

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Every execution ends within a deadline: a stuck Wait or approval fails the test, not the suite. */
async function settled(h: Harness, id: string, timeoutMs = WAIT_MS): Promise<ExecutionOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`execution ${id} did not settle in ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([h.workflow.settled(id), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const types = (h: Harness) => h.events.list().map((e) => e.event.type);
const stepsOf = (r: FailoverRecord) => r.steps.map((s) => `${s.action}:${s.outcome}`);

const FORWARD_PATH = [
  'Configure',
  'VerifyFailure',
  'AssessImpact',
  'NotifyOperators',
  'ApprovalRequired',
  'IdentifyTargetRegion',
  'TargetFound',
  'VerifyTargetCapacity',
  'PrepareDataSync',
  'DrainConnections',
  'Drained',
  'SyncCriticalState',
  'Synced',
  'UpdateDnsRouting',
  'RedirectTraffic',
  'VerifyHealth',
  'Promoted',
  'ValidateFunctionality',
  'MonitorMetrics',
  'Complete',
  'Completed',
];

describe('failover workflow', TEST_TIMEOUT, () => {
  it('gives a promoted warm standby its promotion time before validating (active-passive)', async () => {
    const h = await harness(
      testTopology((json) => {
        json.deployment.pattern = 'active-passive';
        json.deployment.regions['us-east-1'] = {
          ...json.deployment.regions['us-east-1'],
          role: 'active',
          traffic_weight: 100,
        };
        json.deployment.regions['eu-west-1'] = {
          ...json.deployment.regions['eu-west-1'],
          role: 'passive-warm',
          traffic_weight: 0,
          standby_mode: 'warm',
        };
        json.deployment.regions['ap-south-1'] = {
          ...json.deployment.regions['ap-south-1'],
          role: 'passive-cold',
          traffic_weight: 0,
          standby_mode: 'cold',
        };
        json.deployment.replication = {
          type: 'unidirectional',
          source: 'us-east-1',
          targets: ['eu-west-1', 'ap-south-1'],
          lag_tolerance_seconds: 60,
        };
        json.deployment.failover = { automatic: true, promotion_time_seconds: { warm: 120, cold: 600 } };
      }),
    );
    await seedMajorityAgainst(h);
    const started = await start(h);
    const outcome = await settled(h, started.failover_id);
    expect(outcome).toMatchObject({ status: 'succeeded' });
    expect(outcome.path).toContain('PromotionWait');
    const done = await record(h, started.failover_id);
    expect(done.target_region).toBe('eu-west-1');
    const flipped = done.steps.find((st) => st.action === 'update_dns_routing');
    const verified = done.steps.find((st) => st.action === 'verify_health' && st.outcome === 'succeeded');
    expect(done.steps.some((st) => st.action === 'verify_health' && st.outcome === 'waiting')).toBe(true);
    expect(verified?.detail).toMatch(/promoted after 120 s/);
    // Simulated seconds from the status flip to validation: at least the warm promotion time.
    expect(Date.parse(verified?.ended_at ?? '') - Date.parse(flipped?.ended_at ?? '')).toBeGreaterThanOrEqual(
      120_000,
    );
  });

  it('fails a region over cleanly: drained, failed, target promoted, work moved, canary routed', async () => {
    const h = await harness();
    await seedMajorityAgainst(h);
    await h.state.putHeartbeat({ region: FAILED, seq: 42, at: h.now() });
    await seedHandoff(h, 'free-1');
    await seedHandoff(h, 'us-only-1', { requirements: { data_residency: 'US' } });

    const started = await start(h, {}, 'automatic');
    expect(started).toMatchObject({
      failover_id: 'failover-us-east-1-e0',
      status: 'running',
      coordinator: 'eu-west-1',
      trigger: 'automatic',
    });
    const outcome = await settled(h, started.failover_id);
    expect(outcome).toMatchObject({ status: 'succeeded' });
    expect(outcome.path).toEqual(FORWARD_PATH);

    const done = await record(h, started.failover_id);
    expect(done).toMatchObject({
      status: 'completed',
      failed_region: FAILED,
      target_region: 'eu-west-1',
      trigger: 'automatic',
      workloads_migrated: 1,
      workloads_pending: 1,
      data_loss_window_seconds: 0,
    });
    expect(done.completed_at).toBeDefined();
    expect(done.downtime_seconds).toBeGreaterThanOrEqual(0);
    expect(stepsOf(done)).toEqual([
      'verify_failure:succeeded',
      'assess_impact:succeeded',
      'notify_operators:succeeded',
      'identify_target_region:succeeded',
      'verify_target_capacity:succeeded',
      'prepare_data_sync:succeeded',
      'drain_connections:succeeded',
      'sync_critical_state:succeeded',
      'update_dns_routing:succeeded',
      'redirect_traffic:succeeded',
      'verify_health:succeeded',
      'validate_functionality:succeeded',
      'monitor_metrics:succeeded',
      'complete:succeeded',
    ]);
    for (const s of done.steps)
      expect(Date.parse(s.ended_at)).toBeGreaterThanOrEqual(Date.parse(s.started_at));
    expect(done.steps[0]?.detail).toMatch(/3 of 3 observers call us-east-1 unhealthy/);

    // Data plane only: statuses moved with increasing epochs (draining, then failed).
    expect(await statusOf(h, FAILED)).toMatchObject({
      status: 'failed',
      epoch: 2,
      updated_by: started.failover_id,
    });
    expect(await statusOf(h, 'eu-west-1')).toMatchObject({ status: 'healthy', role: 'primary', epoch: 1 });
    expect(await statusOf(h, 'ap-south-1')).toBeUndefined();

    // The unrestricted task moved through the routing core; the US-resident one had nowhere to go.
    const moved = await h.state.getHandoff('cross-region-free-1');
    expect(moved).toMatchObject({ status: 'pending', redirected_from: FAILED });
    expect(moved?.target_region).not.toBe(FAILED);
    expect(await h.state.getHandoff('cross-region-us-only-1')).toMatchObject({ target_region: FAILED });
    expect(await h.state.getHandoff(`cross-region-canary-${started.failover_id}`)).toBeDefined();

    expect(types(h)).toEqual(
      expect.arrayContaining([
        'failover.started',
        'failover.operators_notified',
        'failover.target_selected',
        'region.draining',
        'region.failed',
        'region.promoted',
        'failover.workloads_redirected',
        'failover.workloads_pending',
        'failover.completed',
      ]),
    );
    expect(types(h).filter((t) => t === 'failover.step')).toHaveLength(14);
  });

  it('answers 409 while a failover of the region runs, and starts one execution per failover id', async () => {
    const h = await harness();
    await seedHandoff(h, 'busy-1', { status: 'accepted' });
    const started = await start(h);
    const again = await start(h, {}, 'manual', 'ap-south-1').catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ConflictError);
    expect(again).toMatchObject({ code: 'FAILOVER_IN_PROGRESS' });
    await h.workflow.startFailover({ failover_id: started.failover_id, coordinator: 'eu-west-1' });
    expect(h.workflow.running()).toEqual([started.failover_id]);
    await abortFailover(h.deps('eu-west-1'), started.failover_id);
    await settled(h, started.failover_id);
  });

  it('answers a dry run with the plan and writes nothing', async () => {
    const h = await harness();
    await seedHandoff(h, 'free-1');
    await seedHandoff(h, 'us-only-1', { requirements: { data_residency: 'US' } });
    const plan = await start(h, { dry_run: true });
    expect(plan).toMatchObject({ status: 'planned', dry_run: true, target_region: 'eu-west-1' });
    expect(plan.plan).toMatchObject({
      workloads_to_move: [expect.objectContaining({ task_id: 'free-1' })],
      workloads_pending: [expect.objectContaining({ task_id: 'us-only-1' })],
    });
    expect(await h.state.listFailovers()).toEqual([]);
    expect(await h.state.listRegionStatuses()).toEqual([]);
    expect(h.workflow.running()).toEqual([]);
  });

  it('takes the next region when the first in failover order has less than 50 % capacity free', async () => {
    const h = await harness(
      testTopology((json) => {
        json.global_resource_pool.regional_allocation['eu-west-1'].current_usage.compute_units = 200;
      }),
    );
    const started = await start(h, {}, 'manual', 'ap-south-1');
    expect((await settled(h, started.failover_id)).status).toBe('succeeded');
    const done = await record(h, started.failover_id);
    expect(done).toMatchObject({ status: 'completed', target_region: 'ap-south-1' });
    expect(done.steps.find((s) => s.action === 'identify_target_region')?.detail).toMatch(
      /eu-west-1: available capacity 33.3% is below 50%/,
    );
    expect(await statusOf(h, 'ap-south-1')).toMatchObject({ role: 'primary' });
  });

  it('answers 422 (NoTargetRegion) when no region qualifies, and writes nothing', async () => {
    const h = await harness(
      testTopology((json) => {
        for (const id of ['eu-west-1', 'ap-south-1']) {
          json.global_resource_pool.regional_allocation[id].current_usage.workers =
            json.global_resource_pool.regional_allocation[id].workers;
        }
      }),
    );
    const error = await start(h).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoTargetRegionError);
    // The HTTP edge maps it like NoEligibleRegionError: 422 with each region's reasons.
    expect(error).toBeInstanceOf(NoEligibleRegionError);
    expect((error as NoTargetRegionError).excluded.map((e) => e.region)).toEqual(['eu-west-1', 'ap-south-1']);
    expect(await h.state.listFailovers()).toEqual([]);
  });

  // Invariant (the spec's own usage snapshot, where no survivor has 50 % free): a dead region's work
  // is still served. The failover completes in `spread` mode; it never rolls back for capacity.
  it('on the spec usage (no survivor at 50 %), completes spreading the work over the survivors with room', async () => {
    const h = await harness(validateTopology(defaultTopologyJson()));
    await seedMajorityAgainst(h);
    for (let i = 0; i < 6; i++) {
      await seedHandoff(h, `busy-${i}`, {
        requirements: { workers: 1, compute_units: 10, ...(i % 2 ? { data_residency: 'US' } : {}) },
      });
    }
    const started = await start(h, {}, 'automatic');
    expect((await settled(h, started.failover_id)).status).toBe('succeeded');
    const done = await record(h, started.failover_id);
    expect(done).toMatchObject({ status: 'completed', mode: 'spread', target_region: 'eu-west-1' });
    expect(await statusOf(h, FAILED)).toMatchObject({ status: 'failed' });
    // Unrestricted work moved; US-resident work has no US survivor: kept pending with the reason.
    const handoffs = await h.state.listHandoffsByTarget(FAILED);
    expect(
      handoffs
        .filter((x) => x.status === 'pending')
        .map((x) => x.task_id)
        .sort(),
    ).toEqual(['busy-1', 'busy-3', 'busy-5']);
    expect(done.workloads_migrated).toBe(3);
    expect(done.workloads_pending).toBe(3);
  });

  // Invariant: with no survivor able to take anything, the failover waits for an operator once
  // (one incident event), instead of rolling back and starting again every epoch.
  it('with no room anywhere, waits for an operator once with the plan; approve plans again, decline cancels', async () => {
    const h = await harness(
      testTopology((json) => {
        for (const id of ['eu-west-1', 'ap-south-1']) {
          const pool = json.global_resource_pool.regional_allocation[id];
          pool.current_usage.workers = pool.workers;
        }
      }),
    );
    await seedMajorityAgainst(h);
    const failed = {
      region: FAILED,
      votes_unhealthy: 3,
      voters: 3,
      reasons: ['unreachable'],
      unreachable: true,
      signals: ['unreachable' as const],
      coordinator: 'eu-west-1',
    };
    const started = await startAutomaticFailover(h.deps('eu-west-1'), failed, 'us-east-1 is down');
    const waiting = await until(async () => {
      const r = await record(h, started.failover_id);
      return r.status === 'awaiting_approval' ? r : undefined;
    }, 'the operator wait');
    expect(waiting.operator_wait).toMatchObject({ reason: 'no survivor can take anything from us-east-1' });
    expect(waiting.operator_wait?.considered.map((c) => c.region)).toEqual(['eu-west-1', 'ap-south-1']);
    expect(types(h).filter((t) => t === 'failover.operator_required')).toHaveLength(1);
    expect(types(h)).not.toContain('failover.rolled_back');

    // Approved without anything freed: it plans again and asks again (a new question, a new answer).
    await answerApproval(h.deps('eu-west-1'), started.failover_id, true, { by: 'oncall' });
    await until(async () => {
      const r = await record(h, started.failover_id);
      return r.status === 'awaiting_approval' &&
        r.steps.filter((x) => x.action === 'await_operator').length >= 3
        ? r
        : undefined;
    }, 'the second operator wait');
    await answerApproval(h.deps('eu-west-1'), started.failover_id, false, { by: 'oncall' });
    const outcome = await settled(h, started.failover_id);
    expect(outcome.path.filter((x) => x === 'AwaitOperator')).toHaveLength(2);
    expect(outcome.path.slice(-3)).toEqual(['Rollback', 'RollbackOutcome', 'Cancelled']);
    expect(await record(h, started.failover_id)).toMatchObject({ status: 'cancelled' });
    expect(await statusOf(h, FAILED)).toMatchObject({ status: 'healthy' });
  });

  it('rolls back when the status flip keeps failing (retried, then restored with a higher epoch)', async () => {
    const h = await harness();
    h.faults.putRegionStatus = async (args, call) => {
      const [next] = args as [RegionStatusRecord];
      if (next.status === 'failed') throw new Error('ProvisionedThroughputExceededException');
      return call();
    };
    const started = await start(h);
    const outcome = await settled(h, started.failover_id);
    expect(outcome).toMatchObject({ status: 'failed', error: 'FailoverRolledBack' });
    expect(outcome.path.slice(-4)).toEqual(['UpdateDnsRouting', 'Rollback', 'RollbackOutcome', 'RolledBack']);

    const done = await record(h, started.failover_id);
    expect(done).toMatchObject({ status: 'rolled_back', error: { name: 'TransientError' } });
    expect(done.steps.filter((s) => s.action === 'update_dns_routing').map((s) => s.outcome)).toEqual([
      'failed',
      'failed',
      'failed',
      'failed',
    ]);
    // draining at epoch 1, restored to healthy at epoch 2; the target was never promoted.
    expect(await statusOf(h, FAILED)).toMatchObject({
      status: 'healthy',
      role: 'active',
      epoch: 2,
      updated_by: `${started.failover_id}/rollback`,
    });
    expect(await statusOf(h, 'eu-west-1')).toBeUndefined();
    expect(types(h)).toEqual(expect.arrayContaining(['region.restored', 'failover.rolled_back']));
  });

  it('rolls back when validation fails: the canary cannot be routed on the target', async () => {
    const h = await harness();
    await seedHandoff(h, 'free-1');
    h.replicaFaults.createHandoff = async (args, call) => {
      const [handoff] = args as [Handoff];
      if (handoff.task_id.startsWith('canary-')) throw new Error('the target cannot write');
      return call();
    };
    // Coordinated from ap-south-1, so the target's replica (eu-west-1) is another replica.
    const started = await start(h, {}, 'manual', 'ap-south-1');
    const outcome = await settled(h, started.failover_id);
    expect(outcome).toMatchObject({ status: 'failed', error: 'FailoverRolledBack' });
    expect(outcome.path).toContain('ValidateFunctionality');
    expect(outcome.path).not.toContain('MonitorMetrics');

    const done = await record(h, started.failover_id);
    expect(done).toMatchObject({ status: 'rolled_back', error: { name: 'ValidationFailure' } });
    expect(done.error?.message).toMatch(/the canary task failed: the target cannot write/);
    // Both changes undone with higher epochs: failed region serving again, target back to its role.
    expect(await statusOf(h, FAILED)).toMatchObject({ status: 'healthy', role: 'active', epoch: 3 });
    expect(await statusOf(h, 'eu-west-1')).toMatchObject({ status: 'healthy', role: 'active', epoch: 2 });
    // Work already redirected stays where it was sent (its new region serves).
    expect((await h.state.getHandoff('cross-region-free-1'))?.target_region).not.toBe(FAILED);
  });

  it('rolls back when the target does not answer /health after its promotion (TargetRegionFailure)', async () => {
    const h = await harness();
    h.probe.failing.add('eu-west-1 /health');
    const started = await start(h);
    await settled(h, started.failover_id);
    const done = await record(h, started.failover_id);
    expect(done).toMatchObject({ status: 'rolled_back', error: { name: 'TargetRegionFailure' } });
    expect(await statusOf(h, FAILED)).toMatchObject({ status: 'healthy', epoch: 3 });
    expect(await statusOf(h, 'eu-west-1')).toMatchObject({ role: 'active', epoch: 2 });
  });

  it("rolls back when the target's replica cannot be read (DataSyncFailure)", async () => {
    const h = await harness();
    await h.state.putHeartbeat({ region: FAILED, seq: 7, at: h.now() });
    h.replicaFaults.listHeartbeats = async () => {
      throw new Error('AccessDeniedException: replica unreachable');
    };
    const started = await start(h, {}, 'manual', 'ap-south-1');
    await settled(h, started.failover_id);
    const done = await record(h, started.failover_id);
    expect(done).toMatchObject({ status: 'rolled_back', error: { name: 'DataSyncFailure' } });
    expect(await statusOf(h, FAILED)).toMatchObject({ status: 'healthy' });
  });

  it("takes over, with an unknown data-loss window, when the target never received the failed region's writes", async () => {
    const h = await harness();
    await h.state.putHeartbeat({ region: FAILED, seq: 7, at: h.now() });
    h.replicaFaults.listHeartbeats = async () => [];
    const started = await start(h, {}, 'manual', 'ap-south-1');
    await settled(h, started.failover_id);
    const done = await record(h, started.failover_id);
    expect(done.status).toBe('completed');
    expect(done.data_loss_window_seconds).toBeUndefined();
    expect(
      done.steps.find((st) => st.action === 'sync_critical_state' && st.outcome === 'succeeded')?.detail,
    ).toMatch(/data-loss window unknown/);
    expect(types(h)).toContain('failover.data_loss_window');
  });

  it('cancels when the operator declines the approval the policy requires', async () => {
    const h = await harness(testTopology(awaitingAnswer));
    await seedMajorityAgainst(h);
    const started = await start(h, {}, 'automatic');
    const waiting = await until(async () => {
      const r = await record(h, started.failover_id);
      return r.status === 'awaiting_approval' ? r : undefined;
    }, 'the approval step');
    expect(waiting.approval_token).toBeDefined();
    expect((await getFailover(h.deps('eu-west-1'), started.failover_id)) as object).not.toHaveProperty(
      'approval_token',
    );

    await answerApproval(h.deps('ap-south-1'), started.failover_id, false, { by: 'oncall@example.com' });
    const outcome = await settled(h, started.failover_id);
    expect(outcome).toMatchObject({ status: 'succeeded' });
    expect(outcome.path.slice(-4)).toEqual(['AwaitApproval', 'Rollback', 'RollbackOutcome', 'Cancelled']);

    const done = await record(h, started.failover_id);
    expect(done).toMatchObject({
      status: 'cancelled',
      approval: { decision: 'declined', by: 'oncall@example.com' },
      error: { name: 'ApprovalDeclined' },
    });
    expect(done.target_region).toBeUndefined();
    // Nothing changed but the epoch, so the next failover of the region gets a new id.
    expect(await statusOf(h, FAILED)).toMatchObject({ status: 'healthy', epoch: 1 });
    expect(types(h)).toEqual(
      expect.arrayContaining(['failover.awaiting_approval', 'failover.declined', 'failover.cancelled']),
    );
  });

  it('goes on after the operator approves', async () => {
    const h = await harness(testTopology(awaitingAnswer));
    await seedMajorityAgainst(h);
    const started = await start(h, {}, 'automatic');
    await until(async () => {
      const r = await record(h, started.failover_id);
      return r.status === 'awaiting_approval' ? r : undefined;
    }, 'the approval step');
    const again = await answerApproval(h.deps('eu-west-1'), started.failover_id, true).then(() =>
      answerApproval(h.deps('eu-west-1'), started.failover_id, true).catch((e: unknown) => e),
    );
    expect(again).toMatchObject({ code: 'FAILOVER_NOT_AWAITING_APPROVAL' });
    const outcome = await settled(h, started.failover_id);
    expect(outcome.path).toContain('AwaitApproval');
    expect(outcome.path.at(-1)).toBe('Completed');
    expect((await record(h, started.failover_id)).status).toBe('completed');
  });

  it('cancels when nobody answers the approval within the decision timeout', async () => {
    const h = await harness(
      testTopology((json) => {
        json.failover_policies.automatic_failover.require_manual_approval = true;
        // Task timeouts run in real time locally: one second.
        json.failover_policies.automatic_failover.decision_timeout_seconds = 1;
      }),
    );
    await seedMajorityAgainst(h);
    const started = await start(h, {}, 'automatic');
    const outcome = await settled(h, started.failover_id);
    expect(outcome.path.slice(-4)).toEqual(['AwaitApproval', 'Rollback', 'RollbackOutcome', 'Cancelled']);
    expect(await record(h, started.failover_id)).toMatchObject({
      status: 'cancelled',
      error: { name: 'States.Timeout' },
    });
    const late = await answerApproval(h.deps('eu-west-1'), started.failover_id, true).catch(
      (e: unknown) => e,
    );
    expect(late).toMatchObject({ code: 'FAILOVER_NOT_AWAITING_APPROVAL' });
  });

  /** A failover started and waiting in its drain for an in-flight (accepted) handoff. */
  async function drainingFailover() {
    const h = await harness();
    await seedHandoff(h, 'long-running-1', { status: 'accepted' });
    const started = await start(h);
    await until(async () => {
      const r = await record(h, started.failover_id);
      return r.steps.some((s) => s.action === 'drain_connections' && s.outcome === 'waiting') ? r : undefined;
    }, 'the drain to wait for the in-flight handoff');
    return { h, started };
  }

  it('rolls back when the operator aborts while the region drains', async () => {
    const { h, started } = await drainingFailover();
    expect(await statusOf(h, FAILED)).toMatchObject({ status: 'draining', epoch: 1 });

    await abortFailover(h.deps('eu-west-1'), started.failover_id, { by: 'oncall@example.com' });
    const outcome = await settled(h, started.failover_id);
    expect(outcome).toMatchObject({ status: 'failed', error: 'FailoverRolledBack' });
    expect(outcome.path).not.toContain('UpdateDnsRouting');

    const done = await record(h, started.failover_id);
    expect(done).toMatchObject({
      status: 'rolled_back',
      abort_requested: true,
      error: { name: 'OperatorAbort' },
    });
    expect(await statusOf(h, FAILED)).toMatchObject({ status: 'healthy', epoch: 2 });
    expect(await statusOf(h, 'eu-west-1')).toBeUndefined();
    const abortAgain = await abortFailover(h.deps('eu-west-1'), started.failover_id).catch((e: unknown) => e);
    expect(abortAgain).toMatchObject({ code: 'FAILOVER_NOT_RUNNING' });
  });

  // The failed region fenced itself at the epoch the drain wrote (each on its side of a cut) and,
  // reaching a peer that holds the drain, copied it one epoch above in its own slot (found by the
  // simulator, seed 428204). The copy is the failover's decision, not another writer's change: left
  // alone, the region would stay draining for good (nothing fails a draining region back).
  it("rolls back over the failed region's own copy of the drain, adopted one epoch above", async () => {
    const { h, started } = await drainingFailover();
    const drained = await statusOf(h, FAILED);
    expect(drained).toMatchObject({ status: 'draining', epoch: 1 });
    const ownSlot = new DynamoStateAdapter({
      client: h.table.doc,
      tableName: h.table.tableName,
      writer: FAILED,
    });
    await ownSlot.putRegionStatus(
      {
        ...(drained as RegionStatusRecord),
        epoch: 2,
        reason: `adopted from eu-west-1's replica: ${FAILED} was draining at epoch 1 while it was cut off`,
        updated_by: `reconcile@${FAILED}`,
      },
      1,
    );

    await abortFailover(h.deps('eu-west-1'), started.failover_id, { by: 'oncall@example.com' });
    expect(await settled(h, started.failover_id)).toMatchObject({
      status: 'failed',
      error: 'FailoverRolledBack',
    });
    expect(await record(h, started.failover_id)).toMatchObject({ status: 'rolled_back' });
    expect(await statusOf(h, FAILED)).toMatchObject({
      status: 'healthy',
      epoch: 3,
      updated_by: `${started.failover_id}/rollback`,
    });
  });

  it('gives up draining after the max wait and goes on', async () => {
    const h = await harness(
      testTopology((json) => {
        // Execution budget 20 s: drain max wait 10 s, polled every second.
        json.failover_policies.failover_sequence[2].timeout_seconds = 20;
      }),
    );
    await seedHandoff(h, 'stuck-1', { status: 'accepted' });
    const started = await start(h);
    expect((await settled(h, started.failover_id)).status).toBe('succeeded');
    const drains = (await record(h, started.failover_id)).steps.filter(
      (s) => s.action === 'drain_connections',
    );
    expect(drains.at(-1)?.detail).toMatch(/max wait of 10 s passed with 1 handoff\(s\) still in flight/);
    // How often it polled depends on the machine here (a poll is 10 real ms at SPEED): the cadence is
    // held on the virtual clock (sim-workflow.test.ts, the polling loops).
  });

  it('cancels an automatic failover whose failure a majority no longer confirms', async () => {
    const h = await harness();
    const started = await start(h, {}, 'automatic');
    const outcome = await settled(h, started.failover_id);
    expect(outcome.path.slice(-3)).toEqual(['Rollback', 'RollbackOutcome', 'Cancelled']);
    expect(await record(h, started.failover_id)).toMatchObject({
      status: 'cancelled',
      error: { name: 'FailureNotConfirmed' },
    });
    expect(await statusOf(h, FAILED)).toMatchObject({ status: 'healthy', epoch: 1 });
  });
});

describe('idempotent steps', TEST_TIMEOUT, () => {
  it('a retried action sees its own earlier write and does not repeat it', async () => {
    const h = await harness();
    let dropped = false;
    h.faults.putRegionStatus = async (args, call) => {
      const [next] = args as [RegionStatusRecord];
      const result = await call();
      // The write lands, but its answer is lost: the step fails and the workflow retries it.
      if (next.status === 'failed' && !dropped) {
        dropped = true;
        throw new Error('socket hang up');
      }
      return result;
    };
    const started = await start(h);
    const outcome = await settled(h, started.failover_id);
    expect(outcome.status).toBe('succeeded');
    const done = await record(h, started.failover_id);
    expect(
      done.steps.filter((s) => s.action === 'update_dns_routing').map((s) => [s.outcome, s.attempt]),
    ).toEqual([
      ['failed', 1],
      ['succeeded', 2],
    ]);
    // One flip, not two: draining at epoch 1, failed at epoch 2; the target promoted once.
    expect(await statusOf(h, FAILED)).toMatchObject({ status: 'failed', epoch: 2 });
    expect(await statusOf(h, 'eu-west-1')).toMatchObject({ role: 'primary', epoch: 1 });
    expect(types(h).filter((t) => t === 'region.promoted')).toHaveLength(1);
  });

  it('an action the record shows as done answers again without acting or appending a step', async () => {
    const h = await harness();
    const started = await start(h);
    await settled(h, started.failover_id);
    const before = await record(h, started.failover_id);
    const events = h.events.nextIndex;
    // A late duplicate invocation of a finished failover changes nothing.
    await expect(
      runFailoverAction(h.deps('eu-west-1'), {
        action: 'update_dns_routing',
        failover_id: started.failover_id,
      }),
    ).rejects.toMatchObject({ name: 'FailoverFinished' });
    expect(
      await runFailoverAction(h.deps('eu-west-1'), { action: 'rollback', failover_id: started.failover_id }),
    ).toMatchObject({ outcome: 'skipped', status: 'completed' });
    const after = await record(h, started.failover_id);
    expect(after.steps).toHaveLength(before.steps.length);
    expect(await statusOf(h, FAILED)).toMatchObject({ epoch: 2 });
    expect(h.events.nextIndex).toBe(events);
  });

  it('a retried approval step stores its token again instead of failing', async () => {
    const h = await harness(testTopology(awaitingAnswer));
    await seedMajorityAgainst(h);
    const started = await start(h, {}, 'automatic');
    const waiting = await until(async () => {
      const r = await record(h, started.failover_id);
      return r.status === 'awaiting_approval' ? r : undefined;
    }, 'the approval step');
    const retried = await runFailoverAction(h.deps('eu-west-1'), {
      action: 'await_approval',
      failover_id: started.failover_id,
      task_token: waiting.approval_token as string,
    });
    expect(retried).toMatchObject({ outcome: 'waiting', waiting: true });
    await answerApproval(h.deps('eu-west-1'), started.failover_id, false);
    expect((await settled(h, started.failover_id)).path.at(-1)).toBe('Cancelled');
  });

  it('replays a succeeded step of a running failover', async () => {
    const h = await harness();
    await seedHandoff(h, 'long-running-1', { status: 'accepted' });
    const started = await start(h);
    await until(async () => {
      const r = await record(h, started.failover_id);
      return r.steps.some((s) => s.action === 'identify_target_region') ? r : undefined;
    }, 'the target');
    const before = await record(h, started.failover_id);
    const replayed = await runFailoverAction(h.deps('eu-west-1'), {
      action: 'identify_target_region',
      failover_id: started.failover_id,
    });
    expect(replayed).toMatchObject({ replayed: true, outcome: 'succeeded', target_region: 'eu-west-1' });
    const after = await record(h, started.failover_id);
    expect(after.steps.filter((s) => s.action === 'identify_target_region')).toHaveLength(
      before.steps.filter((s) => s.action === 'identify_target_region').length,
    );
    await abortFailover(h.deps('eu-west-1'), started.failover_id);
    await settled(h, started.failover_id);
  });

  // Invariant: the record's coordinator fences executions: once another region took the failover
  // over, a stale execution (its old coordinator come back) changes nothing, not even by rolling back.
  it('an execution whose region is no longer the coordinator stops without touching the record', async () => {
    const h = await harness();
    await seedHandoff(h, 'long-running-2', { status: 'accepted' });
    const started = await start(h);
    await until(async () => {
      const r = await record(h, started.failover_id);
      return r.steps.some((s) => s.action === 'drain_connections') ? r : undefined;
    }, 'the drain');
    await h.state.updateFailover(
      started.failover_id,
      { coordinator: 'ap-south-1', updated_at: new Date(h.now()).toISOString() },
      { expectedStatuses: ['running'] },
    );
    const outcome = await settled(h, started.failover_id);
    expect(outcome.status).toBe('failed');
    const after = await record(h, started.failover_id);
    expect(after).toMatchObject({ status: 'running', coordinator: 'ap-south-1' });
    expect(after.steps.some((s) => s.action === 'rollback')).toBe(false);
    const stale = await runFailoverAction(h.deps('eu-west-1'), {
      action: 'rollback',
      failover_id: started.failover_id,
      error: { Error: 'X', Cause: 'y' },
    });
    expect(stale).toMatchObject({
      outcome: 'skipped',
      detail: expect.stringMatching(/taken over by ap-south-1/),
    });
  });
});

describe('failback', TEST_TIMEOUT, () => {
  it('returns a failed region to service once it answers, with its topology role and the next epoch', async () => {
    const h = await harness();
    const started = await start(h);
    await settled(h, started.failover_id);
    expect(await statusOf(h, FAILED)).toMatchObject({ status: 'failed', epoch: 2 });
    // The failover took its MCP servers down (n8n moved to the one survivor that runs one).
    const mcpOf = async () => (await h.deps(FAILED).mcp?.listMcpServers()) ?? [];
    expect((await mcpOf()).filter((m) => m.region === FAILED).every((m) => m.status === 'unavailable')).toBe(
      true,
    );
    expect((await mcpOf()).find((m) => m.region === 'ap-south-1' && m.server === 'n8n')?.serving_for).toEqual(
      [FAILED],
    );

    h.probe.failing.add(`${FAILED} /api/v1/ping`);
    const refused = await start(h, { action: 'failback', reason: 'repaired' }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'REGION_NOT_ANSWERING' });
    expect(await statusOf(h, FAILED)).toMatchObject({ status: 'failed', epoch: 2 });

    h.probe.failing.clear();
    const back = await start(h, { action: 'failback', reason: 'repaired' });
    expect(back).toMatchObject({
      failover_id: 'failback-us-east-1-e2',
      kind: 'failback',
      status: 'completed',
    });
    expect(await statusOf(h, FAILED)).toMatchObject({ status: 'healthy', role: 'active', epoch: 3 });
    expect(stepsOf(await record(h, back.failover_id))).toEqual([
      'verify_health:succeeded',
      'update_dns_routing:succeeded',
      'complete:succeeded',
    ]);
    expect(types(h)).toContain('region.recovered');
    // Its MCP servers serve again, and nobody stands in for them any more.
    expect((await mcpOf()).every((m) => m.status === 'available' && m.serving_for === undefined)).toBe(true);
    expect(types(h)).toContain('mcp.failback');
    const automatic = await start(h, { action: 'failback', reason: 'x' }, 'automatic').catch(
      (e: unknown) => e,
    );
    expect(automatic).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  // Invariant: nothing stays fenced for good: an operator can bring a fenced region back as a
  // failed one; a serving region is refused (409), nothing written.
  it('fails back a fenced region as a failed one, and refuses a serving one', async () => {
    const h = await harness();
    const current = await statusOf(h, FAILED);
    await h.state.putRegionStatus(
      {
        region_id: FAILED,
        status: 'fenced',
        role: 'active',
        epoch: (current?.epoch ?? 0) + 1,
        updated_at: new Date(h.now()).toISOString(),
        updated_by: `health-probe@${FAILED}`,
      },
      current?.epoch,
    );
    const back = await start(h, { action: 'failback', reason: 'reaches the others again' });
    expect(back).toMatchObject({ kind: 'failback', status: 'completed' });
    expect(await statusOf(h, FAILED)).toMatchObject({ status: 'healthy' });
    const refused = await start(h, { action: 'failback', reason: 'again' }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'REGION_NOT_FAILED' });
    expect(await statusOf(h, FAILED)).toMatchObject({ status: 'healthy' });
  });
});

describe('failover definition', () => {
  const arn = 'arn:aws:lambda:eu-west-1:123456789012:function:cortex-failover';
  const raw = JSON.parse(readFileSync(FAILOVER_DEFINITION_PATH, 'utf8'));

  it('is valid ASL before and after substitution, in JSONPath only', () => {
    const before = validateAsl(raw);
    expect(before.errorsText('\n')).toBe('');
    expect(before.isValid).toBe(true);
    const after = JSON.parse(loadFailoverDefinition(testTopology(), arn));
    expect(validateAsl(after).isValid).toBe(true);
    expect(raw.QueryLanguage).toBe('JSONPath');
    const text = readFileSync(FAILOVER_DEFINITION_PATH, 'utf8');
    expect(text).not.toMatch(/\{%|"Assign"|"Arguments"|"Output"/);
  });

  it('takes the phase timeouts from the topology and calls the failover function by ARN', () => {
    const topology = testTopology((json) => {
      json.failover_policies.failover_sequence[0].timeout_seconds = 45;
    });
    const substitutions = failoverSubstitutions(topology, arn);
    expect(substitutions).toMatchObject({
      FailoverFunctionArn: arn,
      DetectionTimeoutSeconds: '45',
      PreparationTimeoutSeconds: '60',
      ExecutionTimeoutSeconds: '300',
      ValidationTimeoutSeconds: '120',
      ApprovalTimeoutSeconds: '60',
    });
    const definition = JSON.parse(loadFailoverDefinition(topology, arn));
    expect(definition.States.Configure.Parameters.timeouts['detection.$']).toBe("States.StringToJson('45')");
    for (const [name, state] of Object.entries<Record<string, unknown>>(definition.States)) {
      if (state.Type !== 'Task') continue;
      const resource =
        state.Resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken'
          ? (state.Parameters as { FunctionName: string }).FunctionName
          : state.Resource;
      expect(resource, name).toBe(arn);
      expect(state.TimeoutSecondsPath, name).toMatch(/^\$\.timeouts\.[a-z]+$/);
    }
    expect(definition.States.VerifyFailure.TimeoutSecondsPath).toBe('$.timeouts.detection');
    expect(definition.States.DrainConnections.TimeoutSecondsPath).toBe('$.timeouts.execution');
  });

  it('refuses a placeholder it has no value for, and a function ARN that is not one', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Step Functions placeholder, not a template.
    expect(() => applySubstitutions('{"a":"${Nope}"}', {})).toThrow(/no substitution for \$\{Nope\}/);
    expect(() => failoverSubstitutions(testTopology(), 'not-an-arn')).toThrow(/not a Lambda function ARN/);
  });
});
