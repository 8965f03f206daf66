/**
 * monitor_metrics (validation): after the takeover the target meets the automatic failover's own
 * conditions (verdict, error rate, p99) as the coordinator sees it, and answers `/api/v1/ping`.
 */
import type { TargetHealth } from '../../../core/health/types.ts';
import type { Topology } from '../../../core/topology/types.ts';
import type { HealthViews } from '../../../ports.ts';
import { stepError } from '../shared.ts';
import type { Perform } from '../step-context.ts';
import { targetOf } from '../step-helpers.ts';

export const monitorMetrics: Perform<HealthViews> = async ({ deps, record, timings }) => {
  const target = targetOf(record);
  const views = await deps.state.listTargetHealth();
  const view = views.find((v) => v.observer === record.coordinator && v.target === target);
  const problems = view ? metricProblems(deps.topology, view) : [];
  const ping = await deps.probe.probe(record.coordinator, target, '/api/v1/ping', timings.probe_timeout_ms);
  if (!ping.ok) problems.push(`/api/v1/ping: ${ping.error ?? `HTTP ${ping.status}`}`);
  if (problems.length > 0) {
    throw stepError('ValidationFailure', `${target} after takeover: ${problems.join('; ')}`);
  }
  return {
    outcome: 'succeeded',
    detail: view
      ? `${target}: error rate ${view.error_rate}, p99 ${view.p99_ms} ms, ping ${ping.latency_ms} ms`
      : `${target}: ping ${ping.latency_ms} ms (no probe view yet)`,
  };
};

/** What in the coordinator's view of the target breaks the automatic failover's conditions. */
function metricProblems(topology: Topology, view: TargetHealth): string[] {
  const conditions = topology.failover_policies.automatic_failover.conditions;
  const problems: string[] = [];
  if (view.verdict === 'unhealthy') problems.push(`verdict unhealthy (${view.reasons.join('; ')})`);
  if (view.error_rate > conditions.error_rate_threshold) {
    problems.push(`error rate ${view.error_rate} above ${conditions.error_rate_threshold}`);
  }
  if (view.p99_ms > conditions.latency_p99_threshold_ms) {
    problems.push(`p99 ${view.p99_ms} ms above ${conditions.latency_p99_threshold_ms} ms`);
  }
  return problems;
}
