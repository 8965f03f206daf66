/**
 * Which stacks a topology deploys, in which regions, and which must be deployed before which: one
 * source for the CDK app (lib/infra/app.ts turns each `dependsOn` into a stack dependency, so
 * `cdk deploy --all` keeps the order) and for `cortex deploy-plan` (which prints the bootstrap and
 * deploy commands without loading aws-cdk-lib). Pure: no CDK, no AWS.
 *
 * The order, and why:
 * 1. `CortexRegion-<region>`: each creates its region's table key (alias `alias/<name>-state`), which
 *    the global tables' replicas in that region are encrypted with. A stack can only create resources
 *    in its own region, so the keys cannot come with the tables.
 * 2. `CortexState` (the global table, home region) and `CortexState-<region>` (placement tables homed
 *    elsewhere): after the regional stacks of their replicas' regions.
 * 3. `CortexWitness-<witness>`: after every table, since its probe writes into every region's
 *    replica from its first minute; it also reads the API URLs the regional stacks publish.
 *
 * The regional stacks' scheduled jobs start with the stack, before the tables exist; a first deploy
 * therefore runs with the schedules disabled and enables them once the tables are there
 * (`-c schedules=disabled`, see docs/deploy.md).
 */
import type { PlacedTable, ReplicationPlacement } from '../core/replication/placement.ts';
import type { DeploymentPlan } from './deployment-plan.ts';

export type StackKind = 'regional' | 'state' | 'replication' | 'witness';

export interface PlannedStack {
  /** The CloudFormation stack name (`CortexRegion-us-east-1`). */
  readonly id: string;
  readonly kind: StackKind;
  /** The AWS region it deploys to. */
  readonly region: string;
  /** Stacks that must be deployed first, each with why. */
  readonly dependsOn: readonly { readonly id: string; readonly reason: string }[];
}

export const STATE_STACK_ID = 'CortexState';

export function regionalStackId(regionId: string): string {
  return `CortexRegion-${regionId}`;
}

export function replicationStackId(regionId: string): string {
  return `CortexState-${regionId}`;
}

export function witnessStackId(witnessId: string): string {
  return `CortexWitness-${witnessId}`;
}

/** The placement's tables (but the global one) homed in `regionId`; as replication-tables.ts's tablesHomedIn, without CDK. */
function tablesOf(placement: ReplicationPlacement, regionId: string): PlacedTable[] {
  return placement.tables.filter((t) => t.role !== 'global' && t.homeRegion === regionId);
}

const KEY_REASON = 'its replicas are encrypted with the table key that stack creates in their region';
const TABLES_REASON = "its probe writes into every region's replica from its first minute";

/** Every stack of the plan (DNS aside: it deploys in a step of its own), in a deployable order. */
export function plannedStacks(plan: DeploymentPlan, placement: ReplicationPlacement): PlannedStack[] {
  const regional: PlannedStack[] = plan.regionIds.map((regionId) => ({
    id: regionalStackId(regionId),
    kind: 'regional',
    region: regionId,
    dependsOn: [],
  }));
  const state: PlannedStack = {
    id: STATE_STACK_ID,
    kind: 'state',
    region: plan.stateRegionId,
    dependsOn: plan.regionIds.map((regionId) => ({ id: regionalStackId(regionId), reason: KEY_REASON })),
  };
  const replication: PlannedStack[] = plan.regionIds
    .filter((regionId) => regionId !== plan.stateRegionId && tablesOf(placement, regionId).length > 0)
    .map((regionId) => {
      const replicaRegions = new Set(tablesOf(placement, regionId).flatMap((t) => t.regions));
      return {
        id: replicationStackId(regionId),
        kind: 'replication',
        region: regionId,
        dependsOn: plan.regionIds
          .filter((r) => replicaRegions.has(r))
          .map((r) => ({ id: regionalStackId(r), reason: KEY_REASON })),
      };
    });
  const tables = [state, ...replication];
  const witnesses: PlannedStack[] = plan.witnesses.map((witness) => ({
    id: witnessStackId(witness.witnessId),
    kind: 'witness',
    region: witness.regionId,
    dependsOn: tables.map((t) => ({ id: t.id, reason: TABLES_REASON })),
  }));
  return [...regional, ...tables, ...witnesses];
}

/**
 * The stacks in waves: every stack of a wave depends only on earlier waves, so a wave may deploy in
 * parallel (`cdk deploy --concurrency`). Throws on a cycle (a planning bug).
 */
export function deployWaves(stacks: readonly PlannedStack[]): string[][] {
  const done = new Set<string>();
  const waves: string[][] = [];
  let left = [...stacks];
  while (left.length > 0) {
    const wave = left.filter((s) =>
      s.dependsOn.every((d) => done.has(d.id) || !stacks.some((x) => x.id === d.id)),
    );
    if (wave.length === 0) throw new Error(`deployWaves: a cycle among ${left.map((s) => s.id).join(', ')}`);
    waves.push(wave.map((s) => s.id));
    for (const s of wave) done.add(s.id);
    left = left.filter((s) => !done.has(s.id));
  }
  return waves;
}

/** Every AWS region `cdk bootstrap` must prepare: the topology's regions and its witnesses'. */
export function bootstrapRegions(plan: DeploymentPlan): string[] {
  return [...new Set([...plan.regionIds, ...plan.witnesses.map((w) => w.regionId)])];
}
