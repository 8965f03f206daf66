/**
 * The DR runbooks' task function (statemachines/regional-dr.asl.json and network-partition.asl.json
 * call it with `{ action, run, ... }`): one table from action name to step. Each step reuses the
 * use cases that already do the work (the failover, its MCP step, the probe round's fencing, the
 * consistency check) and answers a timed result the definition keeps at `$.steps.<action>`:
 *
 * - `dry_run: true` walks every step without changing state: a step that would write answers what
 *   it would do (`outcome: skipped`).
 * - The regional runbook starts the failover through the same start use case as `POST /v1/failovers`
 *   (or adopts the automatic one already running for that region) and waits for its record: local
 *   interpreters cannot nest executions, and the record is the failover's durable progress anyway.
 * - A step that cannot do its part throws an error whose `name` the definition catches
 *   (`DrStepFailed`); anything the stores throw is `DrTransient`, retried.
 */

import { lossWindowSeconds, phaseTimings, rpoByClass, rtoByTier } from '../../core/dr/metrics.ts';
import {
  DATA_TYPES,
  type DataType,
  DR_OBJECTIVES,
  END_TO_END_CHECKS,
  type Service,
} from '../../core/dr/objectives.ts';
import { ConflictError, messageOf, NoTargetRegionError } from '../../core/errors.ts';
import type { FailoverRecord } from '../../core/failover/types.ts';
import { isServing } from '../../core/state/records.ts';
import { isoTime } from '../../core/time.ts';
import type { ControlDeps } from '../deps.ts';
import { isActive, publish } from '../failover/shared.ts';
import { startFailover } from '../failover/start.ts';
import { readStatuses } from '../live-state.ts';
import { runConsistencyCheck } from '../replication/consistency-check.ts';
import { observedPartition } from './partition-view.ts';

export type Runbook = 'regional_failure' | 'network_partition';

/** What every task of a runbook receives as `run` (the execution's input, completed by Configure). */
export interface DrRun {
  readonly runbook: Runbook;
  readonly dr_id: string;
  /** The region lost (regional failure); absent for a partition. */
  readonly failed_region?: string;
  readonly dry_run: boolean;
  /** When the failure began, epoch ms, if known (a drill knows it); default the failover's start. */
  readonly failure_at?: number;
  /** Deliberately fail this action (drills prove a broken step is caught and named). */
  readonly break_action?: string;
}

export interface DrTaskEvent {
  readonly action: string;
  readonly run: DrRun;
  /** Earlier results the step reads (`$.steps`), when the definition passes them. */
  readonly steps?: Readonly<Record<string, DrStepResult>>;
  /** A second array of results (the Parallel branches'). */
  readonly branches?: readonly { readonly steps?: Readonly<Record<string, DrStepResult>> }[];
}

export interface DrStepResult {
  readonly action: string;
  readonly phase: string;
  readonly outcome: 'succeeded' | 'skipped';
  readonly started_at: number;
  readonly ended_at: number;
  readonly detail: string;
  /** For Choice states: the step's yes/no answer (failover finished, partition healed ...). */
  readonly done?: boolean;
  readonly data?: Readonly<Record<string, unknown>>;
}

class DrStepError extends Error {
  constructor(name: 'DrStepFailed' | 'DrTransient', message: string) {
    super(message);
    this.name = name;
  }
}

interface Ctx {
  readonly deps: ControlDeps;
  readonly event: DrTaskEvent;
  readonly run: DrRun;
}

type Answer = Omit<DrStepResult, 'action' | 'phase' | 'started_at' | 'ended_at'>;
type Step = { readonly phase: string; readonly perform: (ctx: Ctx) => Promise<Answer> };

const ok = (detail: string, data?: Record<string, unknown>, done?: boolean): Answer => ({
  outcome: 'succeeded',
  detail,
  ...(data ? { data } : {}),
  ...(done === undefined ? {} : { done }),
});
const skipped = (detail: string, data?: Record<string, unknown>): Answer => ({
  outcome: 'skipped',
  detail,
  ...(data ? { data } : {}),
});
const fail = (message: string): never => {
  throw new DrStepError('DrStepFailed', message);
};

function failedRegion(run: DrRun): string {
  return run.failed_region ?? fail('the run names no failed_region');
}

/** The failover this run drives: the one its start step started or adopted. */
function failoverIdOf(ctx: Ctx): string | undefined {
  const steps = ctx.event.steps;
  return (steps?.await_failover?.data?.failover_id ?? steps?.start_failover?.data?.failover_id) as
    | string
    | undefined;
}

async function failoverOf(ctx: Ctx): Promise<FailoverRecord | undefined> {
  const id = failoverIdOf(ctx);
  return id ? ctx.deps.state.getFailover(id) : undefined;
}

function stepOf(record: FailoverRecord | undefined, action: string) {
  return record?.steps.find((s) => s.action === action && s.outcome === 'succeeded');
}

async function probeOk(ctx: Ctx, target: string, endpoint: string): Promise<boolean> {
  const timeout = ctx.deps.topology.failover_policies.health_check.timeout_seconds * 1000;
  return (await ctx.deps.probe.probe(ctx.deps.regionId, target, endpoint, timeout)).ok;
}

// ---- regional failure ----------------------------------------------------------------------------

const assessFailureScope: Step = {
  phase: 'assessment',
  async perform({ deps, run }) {
    const failed = failedRegion(run);
    const reached = await probeOk({ deps, run, event: { action: '', run } }, failed, '/api/v1/ping');
    const views = (await deps.state.listTargetHealth()).filter((v) => v.target === failed);
    const unhealthy = views.filter((v) => v.verdict === 'unhealthy').length;
    const handoffs = await deps.state.listHandoffsByTarget(failed);
    const open = handoffs.filter((h) => h.status === 'pending' || h.status === 'accepted');
    return ok(
      `${failed}: ${reached ? 'answers' : 'does not answer'}; ${unhealthy} of ${views.length} observers say unhealthy; ${open.length} open handoff(s)`,
      {
        infrastructure: reached ? 'reachable' : 'unreachable',
        observers_against: unhealthy,
        open_handoffs: open.length,
      },
    );
  },
};

const identifyAffectedServices: Step = {
  phase: 'assessment',
  async perform({ deps, run }) {
    const failed = failedRegion(run);
    const region = deps.topology.regions.find((r) => r.region_id === failed);
    const services: Service[] = ['worker_execution', 'data_services'];
    if (region?.tier === 'primary') services.unshift('global_coordinator', 'critical_masters');
    const mcp = deps.mcp ? (await deps.mcp.listMcpServers()).filter((s) => s.region === failed).length : 0;
    if (mcp > 0) services.push('mcp_servers');
    return ok(`affected: ${services.join(', ')}`, { services, mcp_servers: mcp, tier: region?.tier });
  },
};

const calculateRtoRpo: Step = {
  phase: 'assessment',
  async perform() {
    const rto = Object.entries(DR_OBJECTIVES.rto).map(([t, o]) => `${t} ${o.max_downtime_minutes} min`);
    const rpo = Object.entries(DR_OBJECTIVES.rpo).map(([c, o]) => `${c} ${o.max_data_loss_seconds} s`);
    return ok(`objectives: RTO ${rto.join(', ')}; RPO ${rpo.join(', ')}`, { objectives: DR_OBJECTIVES });
  },
};

function notification(kind: string): Step {
  return {
    phase: 'notification',
    async perform({ deps, run }) {
      if (run.dry_run) return skipped(`dry run: would publish dr.${kind}`);
      await publish(deps, `dr.${kind}`, {
        dr_id: run.dr_id,
        runbook: run.runbook,
        failed_region: run.failed_region,
      });
      return ok(`dr.${kind} published`);
    },
  };
}

const selectTargetRegions: Step = {
  phase: 'preparation',
  async perform(ctx) {
    const failed = failedRegion(ctx.run);
    const running = (await ctx.deps.state.listFailovers(failed)).find(isActive);
    if (running?.target_region)
      return ok(`the failover under way chose ${running.target_region}`, {
        target_region: running.target_region,
      });
    try {
      const plan = await startFailover(
        ctx.deps,
        { failed_region: failed, reason: 'DR runbook plan', dry_run: true },
        'manual',
      );
      return ok(`target ${plan.target_region}`, { target_region: plan.target_region });
    } catch (error) {
      if (error instanceof ConflictError)
        return ok(`no new plan: ${error.message}`, { conflict: error.code });
      if (error instanceof NoTargetRegionError) fail(`no target region: ${error.message}`);
      throw error;
    }
  },
};

const verifyTargetCapacity: Step = {
  phase: 'preparation',
  async perform({ deps, event }) {
    const target = event.steps?.select_target_regions?.data?.target_region as string | undefined;
    if (!target) return skipped('no target planned here (a failover is already under way or done)');
    const statuses = await readStatuses(deps.topology, deps.state);
    const status = statuses.get(target);
    if (!status || !isServing(status.status)) fail(`target ${target} does not serve (${status?.status})`);
    return ok(`${target} serves (${status?.status})`);
  },
};

const prepareDataSync: Step = {
  phase: 'preparation',
  async perform({ deps, run }) {
    const failed = failedRegion(run);
    const beats = await deps.state.listHeartbeats();
    const last = beats.find((b) => b.region === failed);
    return ok(
      last ? `last heartbeat of ${failed} here: ${isoTime(last.at)}` : `no heartbeat of ${failed} here`,
      last ? { last_heartbeat_at: last.at } : {},
    );
  },
};

const startOrAdoptFailover: Step = {
  phase: 'execution',
  async perform({ deps, run }) {
    const failed = failedRegion(run);
    if (run.dry_run) return skipped(`dry run: would start (or adopt) the failover of ${failed}`, {});
    const records = await deps.state.listFailovers(failed);
    const running = records.find(isActive);
    if (running)
      return ok(`adopted ${running.failover_id} (${running.trigger})`, {
        failover_id: running.failover_id,
        adopted: true,
      });
    const statuses = await readStatuses(deps.topology, deps.state);
    if (statuses.get(failed)?.status === 'failed') {
      const done = records
        .filter((r) => r.kind === 'failover' && r.status === 'completed')
        .sort((a, b) => b.initiated_at.localeCompare(a.initiated_at))[0];
      if (done)
        return ok(`${failed} was already failed over by ${done.failover_id}`, {
          failover_id: done.failover_id,
          adopted: true,
        });
    }
    try {
      const started = await startFailover(
        deps,
        { failed_region: failed, reason: `DR runbook ${run.dr_id}` },
        'manual',
      );
      return ok(`started ${started.failover_id}`, { failover_id: started.failover_id, adopted: false });
    } catch (error) {
      if (error instanceof ConflictError && error.code === 'FAILOVER_IN_PROGRESS')
        throw new DrStepError('DrTransient', error.message);
      fail(`the failover of ${failed} could not start: ${messageOf(error)}`);
      throw error;
    }
  },
};

const awaitFailover: Step = {
  phase: 'execution',
  async perform(ctx) {
    if (ctx.run.dry_run) return { ...skipped('dry run: no failover to wait for'), done: true };
    const failed = failedRegion(ctx.run);
    const record = await failoverOf(ctx);
    const id = failoverIdOf(ctx);
    if (!record) return ok(`${id} not in this replica yet`, { failover_id: id }, false);
    if (isActive(record)) {
      const last = record.steps.at(-1)?.action ?? 'starting';
      return ok(
        `${record.failover_id} ${record.status}: ${last}`,
        { failover_id: record.failover_id },
        false,
      );
    }
    if (record.status === 'completed') {
      return ok(
        `${record.failover_id} completed to ${record.target_region}`,
        { failover_id: record.failover_id },
        true,
      );
    }
    // Rolled back (its target failed too: a cascading failure) or cancelled: the probe rounds start
    // the next failover of the region once what it depends on changed; follow that one.
    const next = (await ctx.deps.state.listFailovers(failed))
      .filter(
        (r) =>
          r.kind === 'failover' &&
          r.failover_id !== record.failover_id &&
          r.initiated_at >= record.initiated_at,
      )
      .sort((a, b) => b.initiated_at.localeCompare(a.initiated_at))[0];
    if (next)
      return ok(
        `${record.failover_id} ${record.status}; following ${next.failover_id}`,
        { failover_id: next.failover_id },
        false,
      );
    const endedAt = Date.parse(record.completed_at ?? record.updated_at);
    const patience = 2 * ctx.deps.topology.failover_policies.automatic_failover.cooldown_seconds * 1000;
    if (ctx.deps.clock.now() - endedAt > patience) {
      fail(
        `failover ${record.failover_id} ended ${record.status} (${record.error?.message ?? ''}) and no other followed`,
      );
    }
    return ok(
      `${record.failover_id} ended ${record.status}; waiting for the next failover of ${failed}`,
      { failover_id: record.failover_id },
      false,
    );
  },
};

/** An execution step of the runbook, done by the failover's own step: confirm it and time it. */
function byFailoverStep(action: string, what: string): Step {
  return {
    phase: 'execution',
    async perform(ctx) {
      if (ctx.run.dry_run) return skipped(`dry run: the failover's ${action} would ${what}`);
      const step = stepOf(await failoverOf(ctx), action);
      if (!step) fail(`the failover has no succeeded ${action}`);
      return ok(`${action}: ${step?.detail ?? ''}`, { done_at: Date.parse(step?.ended_at ?? '') });
    },
  };
}

const failoverMcpServers: Step = {
  phase: 'execution',
  async perform(ctx) {
    const failed = failedRegion(ctx.run);
    if (!ctx.deps.mcp) return skipped('no MCP registry in this deployment');
    const servers = (await ctx.deps.mcp.listMcpServers()).filter((s) => s.region === failed);
    if (servers.length === 0) return skipped(`no MCP server in ${failed}`);
    if (ctx.run.dry_run) return skipped(`dry run: ${servers.length} MCP server(s) of ${failed} would move`);
    const step = stepOf(await failoverOf(ctx), 'redirect_traffic');
    if (!step) fail('the failover has no succeeded redirect_traffic (it moves the MCP servers)');
    return ok(`${servers.length} MCP server(s) of ${failed} handled by redirect_traffic`, {
      done_at: Date.parse(step?.ended_at ?? ''),
    });
  },
};

async function targetOfRun(ctx: Ctx): Promise<string | undefined> {
  const record = await failoverOf(ctx);
  return (
    record?.target_region ??
    (ctx.event.steps?.select_target_regions?.data?.target_region as string | undefined)
  );
}

const validateServiceHealth: Step = {
  phase: 'validation',
  async perform(ctx) {
    const target = await targetOfRun(ctx);
    if (!target)
      return ctx.run.dry_run ? skipped('dry run: no target') : fail('no target region to validate');
    if (!(await probeOk(ctx, target as string, '/health'))) fail(`${target} /health does not answer 200`);
    return ok(`${target} /health answers 200`);
  },
};

const validateDataConsistency: Step = {
  phase: 'validation',
  async perform(ctx) {
    const record = await failoverOf(ctx);
    if (!record) return skipped(ctx.run.dry_run ? 'dry run: nothing moved' : 'no failover record');
    const target = record.target_region as string;
    const canary = await ctx.deps.replica(target).getHandoff(`cross-region-canary-${record.failover_id}`);
    const window = record.data_loss_window_seconds;
    return ok(
      `data-loss window ${window ?? 0} s; the canary ${canary ? 'reads back' : 'is not'} in ${target}`,
      { data_loss_window_seconds: window ?? 0 },
    );
  },
};

const validateEndToEnd: Step = {
  phase: 'validation',
  async perform(ctx) {
    const target = await targetOfRun(ctx);
    const record = await failoverOf(ctx);
    const at = ctx.deps.clock.now();
    const results: Record<string, { pass: boolean; detail: string; at: number }> = {};
    const check = (name: string, pass: boolean, detail: string) => {
      results[name] = { pass, detail, at };
    };
    if (!target) {
      for (const name of END_TO_END_CHECKS) check(name, ctx.run.dry_run, 'no target region');
    } else {
      check('user_authentication', await probeOk(ctx, target, '/api/v1/ping'), `${target} /api/v1/ping`);
      const canary = stepOf(record, 'validate_functionality');
      check('task_submission', ctx.run.dry_run || canary !== undefined, 'the failover routed its canary');
      check(
        'worker_spawning',
        await probeOk(ctx, target, '/coordination/status'),
        `${target} /coordination/status`,
      );
      const handoffs = await ctx.deps.replica(target).listHandoffsByTarget(target);
      check('data_retrieval', true, `${handoffs.length} handoff(s) read from ${target}'s replica`);
      if (!ctx.deps.mcp) check('mcp_server_access', true, 'no MCP registry');
      else {
        const servers = await ctx.deps.mcp.listMcpServers();
        const reachable = servers.filter(
          (s) => s.region !== ctx.run.failed_region && s.status === 'available',
        );
        check(
          'mcp_server_access',
          reachable.length > 0 || servers.length === 0,
          `${reachable.length} MCP server(s) available outside ${ctx.run.failed_region}`,
        );
      }
    }
    const failed = Object.entries(results)
      .filter(([, r]) => !r.pass)
      .map(([n]) => n);
    if (failed.length > 0) fail(`end-to-end checks failed: ${failed.join(', ')}`);
    return ok(`${END_TO_END_CHECKS.length} end-to-end checks pass`, { checks: results });
  },
};

const monitorTargetRegion: Step = {
  phase: 'stabilization',
  async perform(ctx) {
    const target = await targetOfRun(ctx);
    if (!target) return skipped('no target region');
    const views = (await ctx.deps.state.listTargetHealth()).filter((v) => v.target === target);
    const healthy = views.filter((v) => v.verdict === 'healthy').length;
    return ok(`${healthy} of ${views.length} observers see ${target} healthy`);
  },
};

const adjustResourceAllocation: Step = {
  phase: 'stabilization',
  async perform(ctx) {
    if (ctx.run.dry_run) return skipped('dry run: the rebalancer would shift weights');
    // The rebalancer's own schedule moves weights toward the survivors; the runbook records what it sees.
    const statuses = await readStatuses(ctx.deps.topology, ctx.deps.state);
    const serving = [...statuses].filter(([, s]) => isServing(s.status)).map(([r]) => r);
    return ok(`serving regions: ${serving.join(', ')}; weights follow on the rebalancer's schedule`);
  },
};

const updateMonitoringDashboards: Step = {
  phase: 'stabilization',
  async perform(ctx) {
    if (ctx.run.dry_run) return skipped('dry run: would publish dr.dashboards_updated');
    await publish(ctx.deps, 'dr.dashboards_updated', { dr_id: ctx.run.dr_id });
    return ok('dr.dashboards_updated published (the dashboards read region status live)');
  },
};

/** The DR metrics: each phase's time, RTO per tier and RPO per data class against the objectives. */
async function drMetrics(ctx: Ctx): Promise<Record<string, unknown>> {
  const all: DrStepResult[] = [
    ...(ctx.event.branches ?? []).flatMap((b) => Object.values(b.steps ?? {})),
    ...Object.values(ctx.event.steps ?? {}),
  ];
  const now = ctx.deps.clock.now();
  const record = await failoverOf(ctx);
  const failureAt =
    ctx.run.failure_at ??
    (record ? Date.parse(record.initiated_at) : Math.min(now, ...all.map((s) => s.started_at)));
  const doneAt = (action: string): number | null => {
    const step = stepOf(record, action);
    return step ? Date.parse(step.ended_at) : null;
  };
  const checks = (ctx.event.steps?.validate_end_to_end?.data?.checks ?? {}) as Record<
    string,
    { pass: boolean; at: number }
  >;
  const passed = (name: string): number | null => (checks[name]?.pass ? checks[name].at : null);
  const restored: Partial<Record<Service, number | null>> = ctx.run.dry_run
    ? {}
    : {
        global_coordinator: doneAt('update_dns_routing'),
        critical_masters: doneAt('update_dns_routing'),
        authentication: passed('user_authentication'),
        worker_execution: passed('worker_spawning'),
        mcp_servers: passed('mcp_server_access'),
        data_services: passed('data_retrieval'),
        analytics: now,
        reporting: now,
        archival: now,
      };
  // Every data type lives in the replicated tables: the failover's window applies to each.
  const window = record?.data_loss_window_seconds ?? (record ? 0 : undefined);
  const loss: Partial<Record<DataType, number | null>> = {};
  if (window !== undefined) for (const t of DATA_TYPES) loss[t] = window;
  return {
    failure_at: isoTime(failureAt),
    phases: phaseTimings(all),
    rto: rtoByTier(failureAt, restored),
    rpo: rpoByClass(loss),
    total_seconds: lossWindowSeconds(now, [failureAt]),
  };
}

const createIncidentReport: Step = {
  phase: 'documentation',
  async perform(ctx) {
    const record = await failoverOf(ctx);
    const report = {
      dr_id: ctx.run.dr_id,
      runbook: ctx.run.runbook,
      failed_region: ctx.run.failed_region,
      failover_id: record?.failover_id,
      target_region: record?.target_region,
      workloads_migrated: record?.workloads_migrated,
      workloads_pending: record?.workloads_pending,
    };
    if (!ctx.run.dry_run) await publish(ctx.deps, 'dr.incident_report', report);
    return ok(`incident report for ${ctx.run.dr_id}`, { report });
  },
};

const updateDrMetrics: Step = {
  phase: 'documentation',
  async perform(ctx) {
    const metrics = await drMetrics(ctx);
    if (!ctx.run.dry_run) await publish(ctx.deps, 'dr.metrics', { dr_id: ctx.run.dr_id, ...metrics });
    const missed = [
      ...(metrics.rto as { tier: string; met: boolean }[]).filter((t) => !t.met).map((t) => `RTO ${t.tier}`),
      ...(metrics.rpo as { data_class: string; met: boolean }[])
        .filter((c) => !c.met)
        .map((c) => `RPO ${c.data_class}`),
    ];
    return ok(missed.length === 0 ? 'every objective met' : `missed: ${missed.join(', ')}`, metrics);
  },
};

const schedulePostmortem: Step = {
  phase: 'documentation',
  async perform(ctx) {
    // Five working days is the usual window; the record says when, the team's calendar does the rest.
    const due = isoTime(ctx.deps.clock.now() + 5 * 86_400_000);
    if (!ctx.run.dry_run) await publish(ctx.deps, 'dr.postmortem_scheduled', { dr_id: ctx.run.dr_id, due });
    return ok(`postmortem due ${due}`, { due });
  },
};

// ---- network partition ---------------------------------------------------------------------------

const identifyPartitionGroups: Step = {
  phase: 'assessment',
  async perform({ deps }) {
    const view = await observedPartition(deps);
    return ok(`groups: ${view.groups.map((g) => `[${g.join(', ')}]`).join(' ')}`, { groups: view.groups });
  },
};

const selectPrimaryGroupStep: Step = {
  phase: 'assessment',
  async perform({ deps }) {
    const view = await observedPartition(deps);
    return ok(`primary group [${view.choice.primary.join(', ')}]: ${view.choice.reason}`, {
      primary: view.choice.primary,
      minority: view.choice.minority,
      partitioned: view.groups.length > 1,
    });
  },
};

const fenceMinority: Step = {
  phase: 'containment',
  async perform({ deps, event }) {
    const minority = ((event.steps?.select_primary_group?.data?.minority ?? []) as string[][]).flat();
    const regions = minority.filter((m) => deps.topology.regions.some((r) => r.region_id === m));
    if (regions.length === 0) return ok('no minority region to fence', {}, true);
    // A cut-off region fences itself in its own probe round (it cannot reach a majority); its replica
    // is out of reach from here, so the runbook confirms through the probes: none of it answers.
    const views = await deps.state.listTargetHealth();
    const contained = regions.filter((r) =>
      views
        .filter((v) => v.target === r)
        .every((v) => v.reachable === false || !isServing(v.reported_status ?? 'healthy')),
    );
    const done = contained.length === regions.length;
    return ok(
      done
        ? `minority contained: ${regions.join(', ')} fenced itself (unreachable from the primary group)`
        : `waiting for ${regions.filter((r) => !contained.includes(r)).join(', ')} to fence`,
      { fenced: contained },
      done,
    );
  },
};

const monitorPartitionHealing: Step = {
  phase: 'healing',
  async perform({ deps }) {
    const view = await observedPartition(deps);
    const healed = view.groups.length === 1;
    return ok(
      healed ? 'healed: every member reaches every other' : `still ${view.groups.length} groups`,
      { groups: view.groups },
      healed,
    );
  },
};

const replicationCaughtUp: Step = {
  phase: 'reconciliation',
  async perform({ deps }) {
    const beats = await deps.state.listHeartbeats();
    const now = deps.clock.now();
    const interval = deps.topology.failover_policies.health_check.interval_seconds * 1000;
    const stale = deps.topology.regions
      .map((r) => r.region_id)
      .filter((r) => r !== deps.regionId)
      .filter((r) => {
        const beat = beats.find((b) => b.region === r);
        return !beat || now - beat.at > 3 * interval;
      });
    return ok(
      stale.length === 0 ? "every region's heartbeat is fresh here" : `waiting for ${stale.join(', ')}`,
      { stale },
      stale.length === 0,
    );
  },
};

const consistencyCheck: Step = {
  phase: 'reconciliation',
  async perform({ deps, run }) {
    if (!deps.replication || !deps.documents)
      return skipped('no replication port in this runtime: consistency not checked');
    const record = await runConsistencyCheck(
      { ...deps, replication: deps.replication, documents: deps.documents },
      { sample_size: 1000, reconcile: !run.dry_run },
      { trigger: 'api', random: () => 0 },
    );
    return ok(
      `${record.sampled} key(s): ${record.inconsistent} inconsistent, ${record.reconciled} reconciled`,
      { check_id: record.check_id, inconsistent: record.inconsistent, reconciled: record.reconciled },
    );
  },
};

const reportConflicts: Step = {
  phase: 'reconciliation',
  async perform({ deps, run, event }) {
    const data = event.steps?.consistency_check?.data ?? {};
    const conflicts = (data.inconsistent as number | undefined) ?? 0;
    if (!run.dry_run)
      await publish(deps, 'dr.partition_conflicts', { dr_id: run.dr_id, conflicts, check_id: data.check_id });
    return ok(`${conflicts} conflict(s) reported`, { conflicts });
  },
};

const unfence: Step = {
  phase: 'recovery',
  async perform({ deps, run, event }) {
    const minority = ((event.steps?.select_primary_group?.data?.minority ?? []) as string[][])
      .flat()
      .filter((m) => deps.topology.regions.some((r) => r.region_id === m));
    const statuses = await readStatuses(deps.topology, deps.state);
    const waiting: string[] = [];
    const failedBack: string[] = [];
    for (const region of minority) {
      const status = statuses.get(region)?.status;
      if (status && isServing(status)) continue;
      if (status === 'failed') {
        if (run.dry_run) continue;
        // The majority failed it over while it was cut off: it answers again, so an operator's
        // failback (the runbook acts for one) returns it to service.
        const running = (await deps.state.listFailovers(region)).some(isActive);
        if (!running) {
          try {
            await startFailover(
              deps,
              { failed_region: region, action: 'failback', reason: `DR runbook ${run.dr_id}` },
              'manual',
            );
            failedBack.push(region);
          } catch (error) {
            waiting.push(`${region} (${messageOf(error)})`);
          }
          continue;
        }
      }
      // Fenced: its own probe round unfences it once it reaches a majority again.
      waiting.push(`${region} (${status})`);
    }
    const done = waiting.length === 0;
    return ok(
      done
        ? `every region serves${failedBack.length ? `; failed back ${failedBack.join(', ')}` : ''}`
        : `waiting for ${waiting.join(', ')}`,
      { failed_back: failedBack },
      done,
    );
  },
};

const partitionReport: Step = {
  phase: 'documentation',
  async perform(ctx) {
    const all = Object.values(ctx.event.steps ?? {});
    const report = {
      dr_id: ctx.run.dr_id,
      phases: phaseTimings(all),
      groups: ctx.event.steps?.identify_partition_groups?.data?.groups,
    };
    if (!ctx.run.dry_run) await publish(ctx.deps, 'dr.partition_report', report);
    return ok(`partition report for ${ctx.run.dr_id}`, report);
  },
};

const STEPS: Readonly<Record<string, Step>> = {
  assess_failure_scope: assessFailureScope,
  identify_affected_services: identifyAffectedServices,
  calculate_rto_rpo: calculateRtoRpo,
  notify_incident_response_team: notification('incident_response_notified'),
  notify_stakeholders: notification('stakeholders_notified'),
  activate_war_room: notification('war_room_activated'),
  select_target_regions: selectTargetRegions,
  verify_target_capacity: verifyTargetCapacity,
  prepare_data_sync: prepareDataSync,
  start_failover: startOrAdoptFailover,
  await_failover: awaitFailover,
  failover_dns_routing: byFailoverStep(
    'update_dns_routing',
    'mark the failed region failed and the target primary',
  ),
  failover_workloads: byFailoverStep('redirect_traffic', "re-route the failed region's handoffs"),
  failover_data_services: byFailoverStep(
    'sync_critical_state',
    "wait for the target to hold the failed region's writes",
  ),
  failover_mcp_servers: failoverMcpServers,
  validate_service_health: validateServiceHealth,
  validate_data_consistency: validateDataConsistency,
  validate_end_to_end: validateEndToEnd,
  monitor_target_region: monitorTargetRegion,
  adjust_resource_allocation: adjustResourceAllocation,
  update_monitoring_dashboards: updateMonitoringDashboards,
  create_incident_report: createIncidentReport,
  update_dr_metrics: updateDrMetrics,
  schedule_postmortem: schedulePostmortem,
  identify_partition_groups: identifyPartitionGroups,
  select_primary_group: selectPrimaryGroupStep,
  fence_minority: fenceMinority,
  monitor_partition_healing: monitorPartitionHealing,
  replication_caught_up: replicationCaughtUp,
  consistency_check: consistencyCheck,
  report_conflicts: reportConflicts,
  unfence: unfence,
  partition_report: partitionReport,
};

/** The actions the task function answers (the definitions' tests check each Task names one). */
export const DR_ACTIONS: readonly string[] = Object.keys(STEPS);

export async function runDrAction(deps: ControlDeps, event: DrTaskEvent): Promise<DrStepResult> {
  const step = STEPS[event.action];
  if (!step) throw new DrStepError('DrStepFailed', `unknown DR action ${event.action}`);
  const startedAt = deps.clock.now();
  if (event.run.break_action === event.action) {
    throw new DrStepError('DrStepFailed', `${event.action} broken on purpose (drill)`);
  }
  let answer: Answer;
  try {
    answer = await step.perform({ deps, event, run: event.run });
  } catch (error) {
    if (error instanceof DrStepError) throw error;
    throw new DrStepError('DrTransient', `${event.action}: ${messageOf(error)}`);
  }
  return {
    action: event.action,
    phase: step.phase,
    started_at: startedAt,
    ended_at: deps.clock.now(),
    ...answer,
  };
}
