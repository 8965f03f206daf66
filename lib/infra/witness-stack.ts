import { join } from 'node:path';
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { healthPolicyOf } from '../core/health/evaluate.ts';
import type { PlacedTable } from '../core/replication/placement.ts';
import type { Topology } from '../core/topology/types.ts';
import type { DeploymentPlan, WitnessPlan } from './deployment-plan.ts';
import type { DnsPlan } from './dns-plan.ts';
import { HandlerFunction } from './handler-function.ts';
import { MinuteDriver } from './minute-driver.ts';
import { RegionEndpoints } from './region-endpoints.ts';
import { probeRoundTimeout } from './regional-stack.ts';
import { grantWriteCounter } from './replication-access.ts';
import type { TableItemAction } from './state-table.ts';
import { StateTables } from './state-tables.ts';

/** A witness reads statuses and writes its own views into each region's replica. */
export const WITNESS_TABLE_ACCESS: readonly TableItemAction[] = ['GetItem', 'PutItem', 'Query'];

export interface WitnessStackProps extends StackProps {
  readonly plan: DeploymentPlan;
  readonly witness: WitnessPlan;
  readonly topology: Topology;
  readonly projectRoot: string;
  /** Regional names are used when the DNS plan names the zone (regional DNS deployed). */
  readonly dns?: DnsPlan;
  /**
   * The placement's MRSC table (`<name>-critical`): region statuses live there, so the witness reads
   * and writes every region's replica of it too (see StateTables). @default none
   */
  readonly criticalTable?: PlacedTable;
}

/**
 * `CortexWitness-<witness_id>`: a probe-only observer in a region outside the topology (principle 3:
 * it breaks ties between regions that cannot see each other). The health-probe bundle's
 * `witnessHandler` runs every minute and writes its views into every region's replica of the state
 * table (and of the MRSC table, when there is one) remotely: there is no replica, bus or state
 * machine in the witness's region.
 */
export class WitnessStack extends Stack {
  readonly witnessId: string;
  readonly probe: HandlerFunction;
  /** Runs the witness's rounds inside each minute, one per invocation (see MinuteDriver). */
  readonly minuteDriver: MinuteDriver;
  readonly endpoints: RegionEndpoints;

  constructor(scope: Construct, id: string, props: WitnessStackProps) {
    super(scope, id, props);
    const { plan, witness } = props;
    if (this.region !== witness.regionId || plan.regionIds.includes(witness.regionId)) {
      throw new Error(
        `WitnessStack: env.region must be witness ${witness.witnessId}'s region ${witness.regionId}, outside the topology (got ${this.region})`,
      );
    }
    this.witnessId = witness.witnessId;

    this.probe = new HandlerFunction(this, 'HealthProbeHandler', {
      concern: 'health-probe',
      handlerExport: 'witnessHandler',
      entry: join(props.projectRoot, 'functions', 'health-probe', 'index.ts'),
      projectRoot: props.projectRoot,
      regionId: witness.regionId,
      witnessId: witness.witnessId,
      topology: props.topology,
      // One round per invocation from a queue, which starts no trace.
      timeout: probeRoundTimeout(props.topology),
      tracing: 'pass-through',
    });
    for (const regionId of plan.regionIds) {
      const replica = new StateTables(this, `StateTable-${regionId}`, {
        tableName: plan.tableName,
        regionId,
        tableKeyAlias: plan.tableKeyAlias,
        ...(props.criticalTable ? { criticalTable: props.criticalTable } : {}),
      });
      this.probe.useStateTable(replica, WITNESS_TABLE_ACCESS);
      // Its views count as writes of the region they land in (the replication write counter).
      grantWriteCounter(this.probe.role, replica);
    }
    const regionalDns = props.dns?.hostedZoneId !== undefined ? props.dns : undefined;
    this.endpoints = new RegionEndpoints(this, 'RegionEndpoints', {
      regionIds: plan.regionIds,
      parameterPrefix: plan.apiUrlParameterPrefix,
      ...(regionalDns ? { domain: regionalDns.domain } : {}),
      probedPaths: props.topology.failover_policies.health_check.endpoints,
    });
    this.probe.useRegionEndpoints(this.endpoints, { targets: plan.regionIds, rounds: true });
    this.minuteDriver = new MinuteDriver(this, 'MinuteDriver', {
      stateMachineName: `${plan.name}-minute-${witness.witnessId}`,
      description: `Cortex witness ${witness.witnessId}: probes every region`,
      jobs: [
        {
          id: 'WitnessProbe',
          target: this.probe.function,
          intervalSeconds: healthPolicyOf(props.topology).interval_seconds,
        },
      ],
    });
  }
}
