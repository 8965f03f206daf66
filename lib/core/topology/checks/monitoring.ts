/** The `monitoring` section: latency targets, utilization thresholds and replication-lag targets in order. */
import type { MonitoringTargets } from '../sections.ts';
import type { Report } from './report.ts';

export function checkMonitoring(monitoring: MonitoringTargets, report: Report): MonitoringTargets {
  const latency = monitoring.performance.cross_region_latency;
  const field = 'monitoring.performance.cross_region_latency';
  if (latency.p95_target < latency.p50_target) {
    report(
      `${field}.p95_target`,
      `p95 target (${latency.p95_target}) is below the p50 target (${latency.p50_target})`,
    );
  }
  if (latency.p99_target < latency.p95_target) {
    report(
      `${field}.p99_target`,
      `p99 target (${latency.p99_target}) is below the p95 target (${latency.p95_target})`,
    );
  }
  const utilization = monitoring.capacity.regional_utilization;
  if (utilization.warning_threshold >= utilization.critical_threshold) {
    report(
      'monitoring.capacity.regional_utilization.warning_threshold',
      `warning threshold (${utilization.warning_threshold}) must be below the critical threshold (${utilization.critical_threshold})`,
    );
  }
  const lag = monitoring.performance.replication_lag;
  if (lag.synchronous_target > lag.asynchronous_target) {
    report(
      'monitoring.performance.replication_lag.synchronous_target',
      `synchronous target (${lag.synchronous_target} s) is above the asynchronous target (${lag.asynchronous_target} s)`,
    );
  }
  return monitoring;
}
