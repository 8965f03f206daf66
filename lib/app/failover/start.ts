/**
 * `POST /v1/failovers`: starts a failover (the workflow does the work) or a failback (done here:
 * verify the region answers, then one status write), or answers the plan for a dry run.
 *
 * One failover per failure: the id embeds the failed region's status epoch, so two regions (or an
 * operator and a probe round) starting the same failover create the same record once; the workflow
 * execution is named after it too.
 */
import {
  ConflictError,
  type FieldIssue,
  messageOf,
  NoTargetRegionError,
  ValidationError,
} from '../../core/errors.ts';
import {
  type FailoverKind,
  type FailoverRecord,
  type FailoverStatus,
  type FailoverStepRecord,
  type FailoverTrigger,
  failoverIdFor,
} from '../../core/failover/types.ts';
import { failoverOrder } from '../../core/health/quorum.ts';
import { isServing, type RegionStatusRecord } from '../../core/state/records.ts';
import { isoTime } from '../../core/time.ts';
import type { Failovers, Handoffs, HealthViews, RegionStatuses } from '../../ports.ts';
import type { ControlDeps, RegionalDeps, WithState } from '../deps.ts';
import { readStatuses } from '../live-state.ts';
import { failBackMcpServers } from '../mcp/registry.ts';
import { type FailoverPlan, planFailover } from './plan.ts';
import { isActive, moveRegion, publish, topologyRole, toView } from './shared.ts';
import { failoverTimings } from './timings.ts';

export interface StartFailoverRequest {
  readonly failed_region: string;
  /** Only this region may take over (it must qualify). */
  readonly target_region?: string;
  readonly reason: string;
  /** `failback` returns a failed region to service (operators only). Default `failover`. */
  readonly action?: FailoverKind;
  /** Answer the plan without writing anything. */
  readonly dry_run?: boolean;
}

interface FailbackPlan {
  readonly region: string;
  readonly from_status: RegionStatusRecord['status'];
  readonly to_status: 'healthy';
  readonly role: string;
  readonly epoch: number;
}

export interface StartFailoverResponse {
  readonly failover_id: string;
  readonly kind: FailoverKind;
  /** `planned` for a dry run (nothing written). */
  readonly status: FailoverStatus | 'planned';
  readonly failed_region: string;
  readonly target_region?: string;
  /** The region whose workflow runs the failover. */
  readonly coordinator: string;
  readonly trigger: FailoverTrigger;
  readonly dry_run: boolean;
  readonly initiated_at: string;
  readonly plan?: FailoverPlan | FailbackPlan;
}

/** Checks the request against the topology; every problem at once, naming its field. */
function validateStartRequest(
  deps: Omit<ControlDeps, 'state'>,
  request: StartFailoverRequest,
  trigger: FailoverTrigger,
): void {
  const regions = deps.topology.regions.map((r) => r.region_id);
  const issues: FieldIssue[] = [];
  const known = (id: string) => regions.includes(id);
  if (!known(request.failed_region)) {
    issues.push({
      field: 'failed_region',
      reason: `unknown region "${request.failed_region}"; known: ${regions.join(', ')}`,
    });
  }
  if (request.target_region !== undefined) {
    if (!known(request.target_region)) {
      issues.push({
        field: 'target_region',
        reason: `unknown region "${request.target_region}"; known: ${regions.join(', ')}`,
      });
    } else if (request.target_region === request.failed_region) {
      issues.push({ field: 'target_region', reason: 'must differ from failed_region' });
    }
  }
  if (request.reason.trim() === '') issues.push({ field: 'reason', reason: 'must not be empty' });
  if (request.action === 'failback') {
    if (request.target_region !== undefined) {
      issues.push({ field: 'target_region', reason: 'a failback has no target: the region itself returns' });
    }
    if (trigger !== 'manual') issues.push({ field: 'action', reason: 'only an operator starts a failback' });
  }
  if (issues.length > 0) throw new ValidationError('invalid failover request', issues);
}

/**
 * The aggregates of the shared state a start reads and writes: the statuses it moves, the handoffs
 * and health views its plan weighs and the failover records.
 */
export type StartState = RegionStatuses & Handoffs & HealthViews & Failovers;

/** What starting a failover uses: the control deps, of the shared state `StartState`. */
type StartDeps = WithState<ControlDeps, StartState>;

export async function startFailover(
  deps: StartDeps,
  request: StartFailoverRequest,
  trigger: FailoverTrigger,
): Promise<StartFailoverResponse> {
  validateStartRequest(deps, request, trigger);
  if (request.action === 'failback') return startFailback(deps, request);
  if (trigger === 'automatic' && !deps.topology.failover_policies.automatic_failover.enabled) {
    throw new ConflictError('AUTOMATIC_FAILOVER_DISABLED', 'automatic failover is disabled by the topology');
  }
  const failed = request.failed_region;
  const { state, topology } = deps;
  const [statuses, records] = await Promise.all([readStatuses(topology, state), state.listFailovers(failed)]);
  rejectWhileRunning(records, failed);
  const current = statuses.get(failed) as RegionStatusRecord;
  if (current.status === 'failed') {
    throw new ConflictError(
      'REGION_ALREADY_FAILED',
      `${failed} is already failed (epoch ${current.epoch}); fail it back first`,
      current,
    );
  }
  if (current.status === 'shutdown') {
    // A failover would end in `failed`, which a failback undoes without the operator's confirmation.
    throw new ConflictError(
      'REGION_SHUT_DOWN',
      `${failed} was shut down by an operator (epoch ${current.epoch}); its work moves after its drain, and DELETE /v1/regions/${failed}/emergency-shutdown brings it back`,
      current,
    );
  }
  const coordinator = coordinatorFor(deps, statuses, failed);
  const plan = await planFailover(deps, failed, request.target_region);
  if (plan.target_region === undefined) throw new NoTargetRegionError(failed, plan.considered);

  const now = deps.clock.now();
  const failoverId = failoverIdFor('failover', failed, current.epoch);
  const base = {
    failover_id: failoverId,
    kind: 'failover' as const,
    failed_region: failed,
    coordinator,
    trigger,
    initiated_at: isoTime(now),
  };
  if (request.dry_run) {
    return { ...base, status: 'planned', target_region: plan.target_region, dry_run: true, plan };
  }

  const record: FailoverRecord = {
    ...base,
    ...(request.target_region === undefined ? {} : { requested_target: request.target_region }),
    reason: request.reason.trim(),
    status: 'running',
    epoch: current.epoch,
    dry_run: false,
    workloads_migrated: 0,
    workloads_pending: 0,
    steps: [],
    previous_statuses: [],
    abort_requested: false,
    updated_at: isoTime(now),
  };
  await create(deps, record);
  await publish(deps, 'failover.started', {
    failover_id: failoverId,
    kind: 'failover',
    failed_region: failed,
    trigger,
    reason: record.reason,
    coordinator,
    planned_target: plan.target_region,
  });
  try {
    await deps.workflow.startFailover({ failover_id: failoverId, coordinator });
  } catch (error) {
    await markFailed(deps, failoverId, 'WorkflowStartFailed', error);
    throw error;
  }
  return { ...base, status: 'running', dry_run: false, plan };
}

/**
 * Ends a running record as `failed` with the error that stopped it, best effort: the caller rethrows
 * the error itself, which matters more than the record.
 */
async function markFailed(
  deps: WithState<Pick<RegionalDeps, 'state' | 'clock'>, Failovers>,
  failoverId: string,
  name: string,
  error: unknown,
): Promise<void> {
  const message = messageOf(error);
  const now = isoTime(deps.clock.now());
  await deps.state
    .updateFailover(
      failoverId,
      { status: 'failed', completed_at: now, error: { name, message }, updated_at: now },
      { expectedStatuses: ['running'] },
    )
    .catch(() => undefined);
}

function rejectWhileRunning(records: readonly FailoverRecord[], region: string): void {
  const running = records.find(isActive);
  if (running) {
    throw new ConflictError(
      'FAILOVER_IN_PROGRESS',
      `${running.kind} ${running.failover_id} of ${region} is ${running.status}`,
      toView(running),
    );
  }
}

async function create(deps: WithState<ControlDeps, Failovers>, record: FailoverRecord): Promise<void> {
  try {
    await deps.state.createFailover(record);
  } catch (error) {
    if (error instanceof ConflictError && error.code === 'FAILOVER_EXISTS') {
      const existing = error.current as FailoverRecord | undefined;
      if (existing && isActive(existing)) {
        throw new ConflictError(
          'FAILOVER_IN_PROGRESS',
          `${existing.kind} ${existing.failover_id} of ${existing.failed_region} is ${existing.status}`,
          toView(existing),
        );
      }
      throw new ConflictError(
        'FAILOVER_EXISTS',
        `${record.failover_id} already ran${existing ? ` (${existing.status})` : ''}; the status of ${
          record.failed_region
        } has not changed since`,
        existing ? toView(existing) : undefined,
      );
    }
    throw error;
  }
}

/**
 * The region that runs the workflow: the one that took the request, unless it is the failed region
 * or does not serve (a failover never runs from the failed region, principle 2); then the first
 * serving region in failover order.
 */
function coordinatorFor(
  deps: Omit<ControlDeps, 'state'>,
  statuses: ReadonlyMap<string, RegionStatusRecord>,
  failed: string,
): string {
  const serving = (id: string) => {
    const status = statuses.get(id)?.status;
    return status !== undefined && isServing(status);
  };
  if (deps.regionId !== failed && serving(deps.regionId)) return deps.regionId;
  const next = failoverOrder(deps.topology).find((id) => id !== failed && serving(id));
  if (next === undefined) {
    throw new NoTargetRegionError(
      failed,
      deps.topology.regions
        .filter((r) => r.region_id !== failed)
        .map((r) => ({ region: r.region_id, reasons: ['not serving: nothing can coordinate the failover'] })),
    );
  }
  return next;
}

const FAILS_BACK: ReadonlySet<RegionStatusRecord['status']> = new Set(['failed', 'fenced']);

/** A failback (operators only): the failed (or fenced) region answers again, so it serves again, epoch + 1. */
async function startFailback(
  deps: WithState<ControlDeps, RegionStatuses & Failovers>,
  request: StartFailoverRequest,
): Promise<StartFailoverResponse> {
  const { state, topology, clock } = deps;
  const region = request.failed_region;
  const [statuses, records] = await Promise.all([readStatuses(topology, state), state.listFailovers(region)]);
  rejectWhileRunning(records, region);
  const current = statuses.get(region) as RegionStatusRecord;
  // A fenced region comes back by itself once it reaches a majority; an operator may bring it back
  // sooner (it fences again on its next round if it is still cut off).
  if (!FAILS_BACK.has(current.status)) {
    throw new ConflictError(
      'REGION_NOT_FAILED',
      `${region} is ${current.status}: only a failed or fenced region fails back`,
      current,
    );
  }
  const failoverId = failoverIdFor('failback', region, current.epoch);
  const observer =
    deps.regionId !== region
      ? deps.regionId
      : (failoverOrder(topology).find(
          (id) => id !== region && isServing(statuses.get(id)?.status ?? 'failed'),
        ) ?? deps.regionId);
  const role = topologyRole(topology, region);
  const started = clock.now();
  const base = {
    failover_id: failoverId,
    kind: 'failback' as const,
    failed_region: region,
    coordinator: observer,
    trigger: 'manual' as const,
    initiated_at: isoTime(started),
  };

  // Verify it answers before writing anything: a failback that cannot verify changes nothing.
  const timeoutMs = failoverTimings(topology).probe_timeout_ms;
  const ping = await deps.probe.probe(observer, region, '/api/v1/ping', timeoutMs);
  if (!ping.ok) {
    throw new ConflictError(
      'REGION_NOT_ANSWERING',
      `${region} does not answer /api/v1/ping from ${observer} (${ping.error ?? `HTTP ${ping.status}`}); it stays failed`,
    );
  }
  if (request.dry_run) {
    return {
      ...base,
      status: 'planned',
      dry_run: true,
      plan: { region, from_status: current.status, to_status: 'healthy', role, epoch: current.epoch + 1 },
    };
  }
  const verified: FailoverStepRecord = {
    action: 'verify_health',
    phase: 'validation',
    started_at: isoTime(started),
    ended_at: isoTime(clock.now()),
    outcome: 'succeeded',
    detail: `${region} answers /api/v1/ping from ${observer} in ${ping.latency_ms} ms`,
    attempt: 1,
  };
  const record: FailoverRecord = {
    ...base,
    reason: request.reason.trim(),
    status: 'running',
    epoch: current.epoch,
    dry_run: false,
    workloads_migrated: 0,
    workloads_pending: 0,
    steps: [verified],
    previous_statuses: [current],
    abort_requested: false,
    updated_at: isoTime(clock.now()),
  };
  await create(deps, record);
  await publish(deps, 'failover.started', {
    failover_id: failoverId,
    kind: 'failback',
    failed_region: region,
    trigger: 'manual',
    reason: record.reason,
  });

  const flipStarted = clock.now();
  let moved: Awaited<ReturnType<typeof moveRegion>>;
  try {
    moved = await moveRegion(deps, region, failoverId, (status) => {
      if (status.updated_by === failoverId) return undefined;
      if (!FAILS_BACK.has(status.status)) {
        throw new ConflictError('REGION_NOT_FAILED', `${region} became ${status.status} meanwhile`, status);
      }
      return { status: 'healthy', role, reason: `failed back by ${failoverId} (${record.reason})` };
    });
  } catch (error) {
    await markFailed(deps, failoverId, error instanceof Error ? error.name : 'Error', error);
    throw error;
  }
  const done = isoTime(clock.now());
  await state.updateFailover(
    failoverId,
    { updated_at: done },
    {
      expectedStatuses: ['running'],
      step: {
        action: 'update_dns_routing',
        phase: 'execution',
        started_at: isoTime(flipStarted),
        ended_at: done,
        outcome: 'succeeded',
        detail: `${region} is healthy again as ${role} (epoch ${moved.after.epoch}); Route 53 follows /health`,
        attempt: 1,
      },
    },
  );
  await state.updateFailover(
    failoverId,
    { status: 'completed', completed_at: done, updated_at: done },
    {
      expectedStatuses: ['running'],
      step: {
        action: 'complete',
        phase: 'closing',
        started_at: done,
        ended_at: done,
        outcome: 'succeeded',
        detail: `${region} failed back`,
        attempt: 1,
      },
    },
  );
  if (deps.mcp) {
    // Its MCP servers serve again and their stand-ins end; the registry never holds a failback back.
    await failBackMcpServers({ ...deps, mcp: deps.mcp }, region).catch(() => 0);
  }
  await publish(deps, 'region.recovered', {
    region,
    role,
    epoch: moved.after.epoch,
    failover_id: failoverId,
  });
  await publish(deps, 'failover.completed', {
    failover_id: failoverId,
    kind: 'failback',
    failed_region: region,
    initiated_at: base.initiated_at,
    completed_at: done,
  });
  return { ...base, status: 'completed', dry_run: false };
}
