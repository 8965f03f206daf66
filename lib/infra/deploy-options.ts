/**
 * The deploy-time switches of the CDK app (`-c key=value`, read by bin/app.ts), for a first deploy
 * and a destroy-and-redeploy drill (docs/deploy.md):
 *
 * - `schedules=disabled`: every EventBridge Scheduler schedule of the regional and witness stacks is
 *   created DISABLED. The regional stacks deploy before the tables (they create the keys the tables
 *   are encrypted with), so on a first deploy their jobs would run for minutes against tables that
 *   do not exist yet: errors, and /health answering 500 to peers whose error-rate verdicts may act
 *   on it. Deploy once with it, then again without it once the tables exist.
 * - `generation=<g>`: deploys the topology under the name `<name>-<g>`. Every physical name derives
 *   from the name (tables, key aliases, bus, state machine and its log group, SSM parameters) and the
 *   functions derive theirs from the same baked topology and CORTEX_TABLE_NAME, so a new generation
 *   deploys next to what an earlier one retained (the tables, their keys and the workflow's log group
 *   outlive `cdk destroy` by design) instead of colliding with it.
 * - `network=mesh`: adds `CortexNetwork-<region>` stacks, a VPC with the mesh plan's block and a
 *   Transit Gateway per region, peered across regions (lib/infra/network-mesh.ts). Off by default:
 *   it costs money every hour (docs/network.md).
 */
import type { IAspect } from 'aws-cdk-lib';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type { IConstruct } from 'constructs';
import { TopologyError } from '../core/errors.ts';

export { withGeneration } from './generation.ts';

export const DEPLOY_CONTEXT = {
  schedules: 'schedules',
  generation: 'generation',
  network: 'network',
} as const;

export type NetworkMode = 'none' | 'mesh';

/** `none` unless the value says `mesh`; anything else is a mistake worth stopping for. */
export function networkMode(value: unknown): NetworkMode {
  if (value === undefined || value === 'none') return 'none';
  if (value === 'mesh') return 'mesh';
  throw new TopologyError([
    {
      field: `context ${DEPLOY_CONTEXT.network}`,
      reason: `must be mesh or none, got ${JSON.stringify(value)}`,
    },
  ]);
}

export type ScheduleState = 'enabled' | 'disabled';

/** Sets every schedule it visits to DISABLED (an Aspect: schedules added by any construct are covered). */
export class DisableSchedules implements IAspect {
  visit(node: IConstruct): void {
    if (node instanceof scheduler.CfnSchedule) node.state = 'DISABLED';
  }
}

/** `enabled` unless the value says `disabled`; anything else is a mistake worth stopping for. */
export function scheduleState(value: string | undefined): ScheduleState {
  if (value === undefined || value === 'enabled') return 'enabled';
  if (value === 'disabled') return 'disabled';
  throw new TopologyError([
    {
      field: `context ${DEPLOY_CONTEXT.schedules}`,
      reason: `must be enabled or disabled, got ${JSON.stringify(value)}`,
    },
  ]);
}
