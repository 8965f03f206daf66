/**
 * redirect_traffic (execution): re-routes the work left on the failed region by the same rules as a
 * new task (lib/app/handoffs/redirect.ts); work no region may take stays pending, with its reasons.
 */
import type { FailoverRecord } from '../../../core/failover/types.ts';
import type { Handoffs, RegionStatuses } from '../../../ports.ts';
import { type RedirectOutcome, redirectHandoffs } from '../../handoffs/redirect.ts';
import { readStatuses } from '../../live-state.ts';
import { failOverMcpServers } from '../../mcp/registry.ts';
import type { ReservedHandoff } from '../../resources/accounting.ts';
import type { WorkloadKeptPending } from '../plan.ts';
import type { Perform, StepContext, StepEvent } from '../step-context.ts';

export const redirectTraffic: Perform<RegionStatuses & Handoffs> = async ({ deps, record, timings }) => {
  const failed = record.failed_region;
  const [statuses, handoffs] = await Promise.all([
    readStatuses(deps.topology, deps.state),
    deps.state.listHandoffsByTarget(failed),
  ]);
  // Accepted work still here outlived the drain's wait (the region took no new work since): it
  // moves by the same rules, its ended acceptance kept on the record.
  const open = handoffs.filter(
    (h) => (h.status === 'pending' || h.status === 'accepted') && h.target_region === failed,
  ) as ReservedHandoff[];
  const outcome = await redirectHandoffs(
    deps,
    failed,
    open,
    statuses,
    `still running in ${failed} when the drain of ${record.failover_id} ended (max wait ${timings.drain_max_wait_seconds} s)`,
  );
  const total = record.workloads_migrated + outcome.migrated;
  const wasAccepted = new Set(open.filter((h) => h.status === 'accepted').map((h) => h.handoff_id));
  const mcp = await moveMcpServers(
    { deps, record } as Pick<StepContext<unknown>, 'deps' | 'record'>,
    statuses,
  );
  return {
    outcome: 'succeeded',
    detail: `${redirectDetail(failed, outcome, total, wasAccepted)}${mcp}`,
    patch: { workloads_migrated: total, workloads_pending: outcome.kept.length },
    events: redirectEvents(record, outcome),
  };
};

/** What moved, what stays pending and what stays running in the failed region, with the reasons. */
function redirectDetail(
  failed: string,
  { migrated, interrupted, kept, raced }: RedirectOutcome,
  total: number,
  wasAccepted: ReadonlySet<string>,
): string {
  const keptRunning = kept.filter((k) => wasAccepted.has(k.handoff_id));
  const keptPending = kept.filter((k) => !wasAccepted.has(k.handoff_id));
  const listKept = (list: readonly WorkloadKeptPending[]) =>
    list.map((k) => `${k.task_id} (${k.reasons.join('; ')})`).join(', ');
  return (
    `${migrated - interrupted} pending handoff(s) re-routed` +
    `${interrupted ? ` and ${interrupted} accepted one(s) still running in ${failed} (interrupted)` : ''}` +
    ` (${total} in all)` +
    `${keptPending.length ? `; ${keptPending.length} kept pending: ${listKept(keptPending)}` : ''}` +
    `${keptRunning.length ? `; ${keptRunning.length} accepted kept in ${failed}: ${listKept(keptRunning)}` : ''}` +
    `${raced ? `; ${raced} changed by their region meanwhile` : ''}`
  );
}

function redirectEvents(record: FailoverRecord, { moved, kept }: RedirectOutcome): StepEvent[] {
  const failed = record.failed_region;
  const events: StepEvent[] = [
    {
      type: 'failover.workloads_redirected',
      detail: {
        failover_id: record.failover_id,
        failed_region: failed,
        moved: moved.map((m) => ({ handoff_id: m.handoff_id, to: m.to })),
      },
    },
  ];
  if (kept.length > 0) {
    events.push({
      type: 'failover.workloads_pending',
      detail: { failover_id: record.failover_id, failed_region: failed, workloads: kept },
    });
  }
  return events;
}

/**
 * The failed region's MCP servers: unavailable, and each that may move taken over in the target (then
 * the other serving regions, in failover order). Best effort: the registry never holds a regional
 * failover back; what happened is said in the step's detail either way.
 */
async function moveMcpServers(
  { deps, record }: Pick<StepContext<unknown>, 'deps' | 'record'>,
  statuses: Awaited<ReturnType<typeof readStatuses>>,
): Promise<string> {
  const { mcp } = deps;
  if (!mcp) return '';
  const failed = record.failed_region;
  const others = deps.topology.regions
    .map((r) => r.region_id)
    .filter(
      (id) =>
        id !== failed &&
        id !== record.target_region &&
        ['healthy', 'degraded'].includes(statuses.get(id)?.status ?? ''),
    );
  const targets = [...(record.target_region ? [record.target_region] : []), ...others];
  try {
    const moves = await failOverMcpServers({ ...deps, mcp }, failed, targets, record.failover_id);
    const moved = moves.filter((m) => m.to !== undefined);
    return `; MCP: ${moved.length ? moved.map((m) => `${m.server} -> ${m.to}`).join(', ') : 'nothing moved'}${
      moves.length > moved.length
        ? ` (${moves.length - moved.length} server(s) stay down with ${failed})`
        : ''
    }`;
  } catch (error) {
    return `; MCP registry not updated: ${error instanceof Error ? error.message : String(error)}`;
  }
}
