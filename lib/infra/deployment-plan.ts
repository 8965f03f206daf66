/**
 * What the CDK app deploys, derived once from a validated topology: the regions (each becomes a
 * regional stack), the state table's home region and replicas, and the deterministic names every
 * stack uses to find the table and its per-region key without cross-region references.
 *
 * The topology validator checks the document; this checks what CloudFormation needs on top of it
 * and CDK does not check itself (an `env.region` that is not an AWS region only fails at deploy).
 */

import { type FieldIssue, TopologyError } from '../core/errors.ts';
import type { Topology } from '../core/topology/types.ts';

/** The state table's keys (single-table design); adapters and the table construct share them. */
export const STATE_TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  globalSecondaryIndexes: [{ indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' }],
} as const;

export interface DeploymentPlan {
  /** The topology's `name`; prefixes every physical name. */
  readonly name: string;
  /** Every topology region id, in topology order; each gets a regional stack. */
  readonly regionIds: readonly string[];
  /** Home of the state stack (the table's CloudFormation resource): the `primary`-tier region. */
  readonly stateRegionId: string;
  /** The other regions, each holding a replica of the state table. */
  readonly replicaRegionIds: readonly string[];
  /** Same name in every region, so a region finds its replica without a cross-region reference. */
  readonly tableName: string;
  /** Alias of each region's table key (`alias/...`), the same in every region for the same reason. */
  readonly tableKeyAlias: string;
  /** Probe-only observers, each deployed as `CortexWitness-<witness_id>` in its own AWS region. */
  readonly witnesses: readonly WitnessPlan[];
  /** Each region's custom EventBridge bus (`<name>-events`), named alike in every region. */
  readonly eventBusName: string;
  /**
   * Each region's failover state machine (`<name>-failover`). A fixed name gives a deterministic ARN
   * per region, so functions get it without a reference (and the workflow's own task function too).
   */
  readonly failoverStateMachineName: string;
  /** SSM parameter of a region's API base URL: this prefix + region id (`/<name>/api-url/<region>`). */
  readonly apiUrlParameterPrefix: string;
}

export interface WitnessPlan {
  readonly witnessId: string;
  /** The AWS region the witness probe runs in; never a topology region (the validator checks). */
  readonly regionId: string;
}

/**
 * AWS region ids: `us-east-1`, `ap-southeast-2`, `us-gov-west-1`, `eu-central-2` ... Anything else
 * would synthesize happily and fail at deploy time, so it is rejected here.
 */
const AWS_REGION_ID = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** Used in a table name and a KMS alias: the alias forbids dots, so only these characters. */
const PHYSICAL_NAME_PREFIX = /^[A-Za-z0-9_-]{1,64}$/;

/** A witness id becomes part of a CloudFormation stack name: letters, digits and hyphens only. */
const STACK_NAME_PART = /^[A-Za-z0-9-]{1,100}$/;

/** Builds the plan or throws a `TopologyError` naming every field that cannot be deployed. */
export function planDeployment(topology: Topology): DeploymentPlan {
  const issues: FieldIssue[] = [];
  if (!PHYSICAL_NAME_PREFIX.test(topology.name)) {
    issues.push({
      field: 'name',
      reason: `must be 1-64 letters, digits, '-' or '_' (it prefixes the table name and the KMS alias), got ${JSON.stringify(topology.name)}`,
    });
  }
  if (topology.regions.length === 0) {
    issues.push({ field: 'regions', reason: 'must list at least one region to deploy' });
  }
  const seen = new Set<string>();
  topology.regions.forEach((region, i) => {
    const field = `regions[${i}].region_id`;
    if (!AWS_REGION_ID.test(region.region_id)) {
      issues.push({
        field,
        reason: `must be an AWS region id such as us-east-1 (it becomes the stack's env.region), got ${JSON.stringify(region.region_id)}`,
      });
    }
    if (seen.has(region.region_id)) {
      issues.push({
        field,
        reason: `duplicate region ${region.region_id}: a region can hold one replica only`,
      });
    }
    seen.add(region.region_id);
  });
  const witnessIds = new Set<string>();
  topology.witnesses.forEach((witness, i) => {
    if (!AWS_REGION_ID.test(witness.region)) {
      issues.push({
        field: `witnesses[${i}].region`,
        reason: `must be an AWS region id such as us-west-2 (the witness stack's env.region), got ${JSON.stringify(witness.region)}`,
      });
    }
    if (!STACK_NAME_PART.test(witness.witness_id) || witnessIds.has(witness.witness_id)) {
      issues.push({
        field: `witnesses[${i}].witness_id`,
        reason: `must be unique and 1-100 letters, digits or '-' (it names the stack CortexWitness-<witness_id>), got ${JSON.stringify(witness.witness_id)}`,
      });
    }
    witnessIds.add(witness.witness_id);
  });
  const primaries = topology.regions.filter((r) => r.tier === 'primary');
  if (primaries.length > 1) {
    issues.push({
      field: 'regions',
      reason: `more than one primary-tier region (${primaries.map((r) => r.region_id).join(', ')}): the state stack needs one home`,
    });
  }
  if (issues.length > 0) throw new TopologyError(issues);

  const regionIds = topology.regions.map((r) => r.region_id);
  // Without a primary-tier region the first listed region is home. The home region only owns the
  // CloudFormation resource: every replica serves reads and writes on its own (MREC).
  const stateRegionId = primaries[0]?.region_id ?? (regionIds[0] as string);
  return Object.freeze({
    name: topology.name,
    regionIds: Object.freeze(regionIds),
    stateRegionId,
    replicaRegionIds: Object.freeze(regionIds.filter((id) => id !== stateRegionId)),
    tableName: `${topology.name}-state`,
    tableKeyAlias: `alias/${topology.name}-state`,
    witnesses: Object.freeze(
      topology.witnesses.map((w) => Object.freeze({ witnessId: w.witness_id, regionId: w.region })),
    ),
    eventBusName: `${topology.name}-events`,
    failoverStateMachineName: `${topology.name}-failover`,
    apiUrlParameterPrefix: `/${topology.name}/api-url/`,
  });
}
