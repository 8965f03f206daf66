/** The `replication_strategies` section: enough regions to acknowledge, one strategy per data type, known targets. */
import type { ReplicationStrategies } from '../sections.ts';
import { type KnownRegions, type Report, reportDuplicates } from './report.ts';

const field = 'replication_strategies';

export function checkReplication(
  strategies: ReplicationStrategies,
  known: KnownRegions,
  report: Report,
): ReplicationStrategies {
  const acks = strategies.synchronous.replication_flow.min_replicas_ack;
  if (acks > known.list.length) {
    report(
      `${field}.synchronous.replication_flow.min_replicas_ack`,
      `${acks} acknowledgements cannot be had from ${known.list.length} regions`,
    );
  }
  checkDataTypes(strategies, report);
  checkSelectivePolicies(strategies.selective, known, report);
  return strategies;
}

/** Each data type once in its strategy, and in one strategy only. */
function checkDataTypes({ synchronous, asynchronous }: ReplicationStrategies, report: Report): void {
  reportDuplicates(
    synchronous.data_types,
    (i) => `${field}.synchronous.data_types[${i}]`,
    'data type',
    report,
  );
  reportDuplicates(
    asynchronous.data_types,
    (i) => `${field}.asynchronous.data_types[${i}]`,
    'data type',
    report,
  );
  const synchronousTypes = new Set(synchronous.data_types);
  asynchronous.data_types.forEach((type, i) => {
    if (synchronousTypes.has(type)) {
      report(
        `${field}.asynchronous.data_types[${i}]`,
        `data type "${type}" is also replicated synchronously; a data type has one strategy`,
      );
    }
  });
}

/** Policy ids once; targets are `all`, `same_jurisdiction` or a region of the topology. */
function checkSelectivePolicies(
  selective: ReplicationStrategies['selective'],
  known: KnownRegions,
  report: Report,
): void {
  reportDuplicates(
    selective.policies.map((p) => p.policy_id),
    (i) => `${field}.selective.policies[${i}].policy_id`,
    'policy_id',
    report,
  );
  selective.policies.forEach((policy, i) => {
    policy.target_regions.forEach((target, k) => {
      if (target !== 'all' && target !== 'same_jurisdiction' && !known.ids.has(target)) {
        report(
          `${field}.selective.policies[${i}].target_regions[${k}]`,
          `unknown target "${target}"; expected all, same_jurisdiction or a region id`,
        );
      }
    });
  });
}
