/**
 * The `failover_policies` section: probes that do not overlap, every failover step once and in order,
 * step timeouts within the RTO target. Fills in the automatic failover's default cooldown.
 */
import { FAILOVER_STEPS, type ParsedTopology } from '../schema.ts';
import type { FailoverPolicies } from '../types.ts';
import { type Report, reportDuplicates, sum } from './report.ts';

const DEFAULT_COOLDOWN_SECONDS = 600;

const field = 'failover_policies';

export function checkFailoverPolicies(data: ParsedTopology, report: Report): FailoverPolicies {
  const policies = data.failover_policies;
  checkHealthCheck(policies.health_check, report);
  checkSequence(policies.failover_sequence, report);
  checkStepBudget(policies.failover_sequence, data.monitoring.performance.failover_time.rto_target, report);
  return {
    ...policies,
    automatic_failover: {
      ...policies.automatic_failover,
      cooldown_seconds: policies.automatic_failover.cooldown_seconds ?? DEFAULT_COOLDOWN_SECONDS,
    },
  };
}

type Policies = ParsedTopology['failover_policies'];

function checkHealthCheck(healthCheck: Policies['health_check'], report: Report): void {
  const { interval_seconds, timeout_seconds, endpoints } = healthCheck;
  if (timeout_seconds >= interval_seconds) {
    report(
      `${field}.health_check.timeout_seconds`,
      `timeout (${timeout_seconds} s) must be shorter than the interval (${interval_seconds} s), or probes overlap`,
    );
  }
  reportDuplicates(endpoints, (i) => `${field}.health_check.endpoints[${i}]`, 'endpoint', report);
}

/** Each of FAILOVER_STEPS once, in their order. */
function checkSequence(steps: Policies['failover_sequence'], report: Report): void {
  const seen = new Set<string>();
  steps.forEach((step, index) => {
    const at = `${field}.failover_sequence[${index}].step`;
    if (seen.has(step.step)) {
      report(at, `duplicate step "${step.step}"`);
      return;
    }
    const previous = steps[index - 1];
    if (previous && FAILOVER_STEPS.indexOf(previous.step) > FAILOVER_STEPS.indexOf(step.step)) {
      report(at, `step "${step.step}" is out of order; steps run ${FAILOVER_STEPS.join(', ')}`);
    }
    seen.add(step.step);
  });
  for (const step of FAILOVER_STEPS) {
    if (!seen.has(step)) report(`${field}.failover_sequence`, `missing step "${step}"`);
  }
}

function checkStepBudget(steps: Policies['failover_sequence'], rto: number, report: Report): void {
  const budget = sum(steps.map((s) => s.timeout_seconds));
  if (budget > rto) {
    report(
      `${field}.failover_sequence`,
      `step timeouts add up to ${budget} s, above the RTO target of ${rto} s (monitoring.performance.failover_time.rto_target)`,
    );
  }
}
