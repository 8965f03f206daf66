import { fileURLToPath } from 'node:url';
import type { App } from 'aws-cdk-lib';
import type { Topology } from '../core/topology/types.ts';
import { planDeployment } from './deployment-plan.ts';
import { RegionalStack } from './regional-stack.ts';
import { StateStack } from './state-stack.ts';

export interface BuildAppOptions {
  /** Where `functions/` and package-lock.json live. @default this repository */
  readonly projectRoot?: string;
  /** @default process.env.CDK_DEFAULT_ACCOUNT (may be unset: the account stays unresolved) */
  readonly account?: string;
}

export interface CortexStacks {
  readonly stateStack: StateStack;
  /** One per topology region, in topology order. */
  readonly regionalStacks: readonly RegionalStack[];
}

const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Adds the Cortex stacks to `app`: `CortexRegion-<region_id>` per topology region and `CortexState`
 * in the home region. Throws a TopologyError when the topology cannot be deployed.
 */
export function buildApp(app: App, topology: Topology, options: BuildAppOptions = {}): CortexStacks {
  const plan = planDeployment(topology);
  const projectRoot = (options.projectRoot ?? REPOSITORY_ROOT).replace(/\/$/, '');
  const account = options.account ?? process.env.CDK_DEFAULT_ACCOUNT;

  const regionalStacks = plan.regionIds.map(
    (regionId) =>
      new RegionalStack(app, `CortexRegion-${regionId}`, {
        env: { account, region: regionId },
        description: `Cortex control plane in ${regionId}: table key, handlers, HTTP API`,
        plan,
        regionId,
        topology,
        projectRoot,
      }),
  );
  const stateStack = new StateStack(app, 'CortexState', {
    env: { account, region: plan.stateRegionId },
    description: `Cortex shared state: global table ${plan.tableName} with a replica in every region`,
    plan,
  });
  // Deploy order only, no references: the table's replicas name the keys these stacks create.
  for (const regional of regionalStacks)
    stateStack.addStackDependency(regional, 'creates the table key in its region');
  return { stateStack, regionalStacks };
}
