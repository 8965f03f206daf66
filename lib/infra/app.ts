import { fileURLToPath } from 'node:url';
import { Annotations, type App, AspectPriority, Aspects, type Stack } from 'aws-cdk-lib';
import { mcpEndpointPorts } from '../adapters/aws/mcp-probe.ts';
import { TopologyError } from '../core/errors.ts';
import { planMesh } from '../core/network/mesh.ts';
import { placeReplication, type ReplicationPlacement } from '../core/replication/placement.ts';
import type { Topology } from '../core/topology/types.ts';
import { auditRetention } from './audit-bucket.ts';
import {
  DisableSchedules,
  type NetworkMode,
  networkMode,
  type ScheduleState,
  withGeneration,
} from './deploy-options.ts';
import { plannedStacks } from './deploy-order.ts';
import { planDeployment } from './deployment-plan.ts';
import { type DnsOptions, type DnsPlan, planDns } from './dns-plan.ts';
import { DnsStack } from './dns-stack.ts';
import { mcpProbeParameterNames, NetworkMeshStack } from './network-mesh.ts';
import { JOB_TABLE_ACCESS, RegionalStack } from './regional-stack.ts';
import { DenyImmutableTableMutations, ReplicationTablesStack, tablesHomedIn } from './replication-tables.ts';
import { StateStack } from './state-stack.ts';
import { WitnessStack } from './witness-stack.ts';

export interface BuildAppOptions {
  /** Where `functions/` and package-lock.json live. @default this repository */
  readonly projectRoot?: string;
  /** @default process.env.CDK_DEFAULT_ACCOUNT (may be unset: the account stays unresolved) */
  readonly account?: string;
  /** Route 53: `domain` (and `hostedZoneId` of an existing zone) from the CDK context. @default no DNS */
  readonly dns?: DnsOptions;
  /** An audit report bucket in every region. @default the CDK context `auditBucket` (`-c auditBucket=true`) */
  readonly auditBucket?: boolean;
  /**
   * `disabled`: every schedule of the regional and witness stacks is created disabled (a first deploy,
   * before the tables exist; docs/deploy.md). @default 'enabled'
   */
  readonly schedules?: ScheduleState;
  /**
   * Deploys the topology as `<name>-<generation>`: new physical names for everything a destroyed
   * deployment retained (tables, their keys, the workflow's log group). @default the topology's name
   */
  readonly generation?: string;
  /** `mesh`: a VPC and Transit Gateway per region, peered (costs money). @default the CDK context `network`, else 'none' */
  readonly network?: NetworkMode;
}

export interface CortexStacks {
  readonly stateStack: StateStack;
  /** One per topology region, in topology order. */
  readonly regionalStacks: readonly RegionalStack[];
  /** One per topology witness, in its own region. */
  readonly witnessStacks: readonly WitnessStack[];
  /** `CortexDns`: only when a domain is given without an existing zone's id. */
  readonly dnsStack: DnsStack | undefined;
  /** The Route 53 plan; undefined without a domain. */
  readonly dnsPlan: DnsPlan | undefined;
  /** What the synth should tell the operator (also added as warnings on the state stack). */
  readonly notices: readonly string[];
  /** Which table holds which data (lib/core/replication/placement.ts). */
  readonly placement: ReplicationPlacement;
  /** `CortexState-<region>`: placement tables homed outside the state stack's region. */
  readonly replicationStacks: readonly ReplicationTablesStack[];
  /** `CortexNetwork-<region>`, in topology order: only with `network: 'mesh'`. */
  readonly networkStacks: readonly NetworkMeshStack[];
}

/** Annotation ids of the DNS notices (`Annotations.addWarningV2`). */
export const DNS_NOTICE = {
  skipped: '@cortex/dns:skipped',
  zoneOnly: '@cortex/dns:zone-only',
} as const;

/** Annotation ids of the deploy switches' notices (lib/infra/deploy-options.ts). */
export const DEPLOY_NOTICE = { schedulesDisabled: '@cortex/deploy:schedules-disabled' } as const;

/** Annotation id of the replication placement's warnings (the MRSC decision and others). */
export const REPLICATION_NOTICE = '@cortex/replication:placement';

const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Adds the Cortex stacks to `app`: `CortexRegion-<region_id>` per topology region, `CortexState` in the
 * home region, `CortexWitness-<witness_id>` per witness, and `CortexDns` when a new zone is needed.
 * Throws a TopologyError when the topology (or the DNS context) cannot be deployed.
 */
export function buildApp(app: App, shipped: Topology, options: BuildAppOptions = {}): CortexStacks {
  const topology = withGeneration(shipped, options.generation);
  const plan = planDeployment(topology);
  // Residency by construction: a placement with a replica outside its jurisdiction stops the synth.
  const placement = placeReplication(topology, { homeRegion: plan.stateRegionId });
  if (placement.errors.length > 0) throw new TopologyError(placement.errors);
  const dnsPlan = planDns(topology, options.dns ?? {});
  const projectRoot = (options.projectRoot ?? REPOSITORY_ROOT).replace(/\/$/, '');
  const account = options.account ?? process.env.CDK_DEFAULT_ACCOUNT;
  // The audit report bucket per region, kept as long as the topology's policy says.
  const wantsBucket = options.auditBucket ?? String(app.node.tryGetContext('auditBucket')) === 'true';
  const auditBucket = wantsBucket ? auditRetention(topology) : undefined;
  // The synchronous data types' records live in the MRSC table where the regions allow one;
  // every function granted the state table is granted it too (StateTables).
  const criticalTable = placement.tables.find((t) => t.role === 'critical');
  // The data API reads and writes each region's replicas of these (RegionalStack, SelectiveReplicas).
  const selectiveTables = placement.tables.filter((t) => t.role === 'selective');
  const mesh = (options.network ?? networkMode(app.node.tryGetContext('network'))) === 'mesh';

  const regionalStacks = plan.regionIds.map(
    (regionId) =>
      new RegionalStack(app, `CortexRegion-${regionId}`, {
        env: { account, region: regionId },
        description: `Cortex control plane in ${regionId}: table key, handlers, HTTP API, health probe, failover workflow, events`,
        plan,
        regionId,
        topology,
        projectRoot,
        ...(dnsPlan ? { dns: dnsPlan } : {}),
        ...(auditBucket ? { auditBucket } : {}),
        ...(criticalTable ? { criticalTable } : {}),
        selectiveTables,
        ...(mesh ? { mesh: regionalMesh(topology.name, regionId) } : {}),
      }),
  );
  const witnessStacks = plan.witnesses.map(
    (witness) =>
      new WitnessStack(app, `CortexWitness-${witness.witnessId}`, {
        env: { account, region: witness.regionId },
        description: `Cortex witness ${witness.witnessId}: probe-only observer in ${witness.regionId}`,
        plan,
        witness,
        topology,
        projectRoot,
        ...(dnsPlan ? { dns: dnsPlan } : {}),
        ...(criticalTable ? { criticalTable } : {}),
      }),
  );
  const stateStack = new StateStack(app, 'CortexState', {
    env: { account, region: plan.stateRegionId },
    description: `Cortex shared state: global table ${plan.tableName} with a replica in every region`,
    plan,
    placement,
  });
  const replicationStacks = plan.regionIds
    .filter((regionId) => regionId !== plan.stateRegionId && tablesHomedIn(placement, regionId).length > 0)
    .map((regionId) => {
      const stack = new ReplicationTablesStack(app, `CortexState-${regionId}`, {
        env: { account, region: regionId },
        description: `Cortex replicated data homed in ${regionId}: ${tablesHomedIn(placement, regionId)
          .map((t) => t.name)
          .join(', ')}`,
        plan,
        placement,
      });
      return stack;
    });
  // Deploy order only, no references (lib/infra/deploy-order.ts says which and why): `cdk deploy
  // --all` then deploys the keys before the tables, and the tables before the witnesses.
  const byId = new Map<string, Stack>(
    [...regionalStacks, stateStack, ...replicationStacks, ...witnessStacks].map((s) => [s.stackName, s]),
  );
  for (const planned of plannedStacks(plan, placement)) {
    const stack = byId.get(planned.id);
    if (!stack) throw new Error(`buildApp: the deploy order names ${planned.id}, which was not built`);
    for (const dependency of planned.dependsOn) {
      const target = byId.get(dependency.id);
      if (!target)
        throw new Error(`buildApp: ${planned.id} depends on ${dependency.id}, which was not built`);
      stack.addStackDependency(target, dependency.reason);
    }
  }
  if (options.schedules === 'disabled') {
    for (const stack of [...regionalStacks, ...witnessStacks]) {
      Aspects.of(stack).add(new DisableSchedules(), { priority: AspectPriority.MUTATING });
    }
  }
  for (const stack of [...regionalStacks, ...witnessStacks]) {
    Aspects.of(stack).add(new DenyImmutableTableMutations(placement.tables), {
      priority: AspectPriority.MUTATING,
    });
  }

  const notices: string[] = [];
  let dnsStack: DnsStack | undefined;
  if (!dnsPlan) {
    notices.push(
      'DNS skipped: no domain given (cdk synth -c domain=cortex.example.com [-c hostedZoneId=Z...]). No Route 53 zone, health checks or records; probes find peer APIs through SSM parameters.',
    );
    Annotations.of(stateStack).addWarningV2(DNS_NOTICE.skipped, notices[0] as string);
  } else if (dnsPlan.hostedZoneId === undefined) {
    dnsStack = new DnsStack(app, 'CortexDns', {
      env: { account, region: plan.stateRegionId },
      description: `Cortex DNS: public hosted zone ${dnsPlan.domain}`,
      plan: dnsPlan,
    });
    notices.push(
      `DNS zone only: CortexDns creates the zone ${dnsPlan.domain}. Delegate it from the parent domain (NameServers output), then deploy again with -c hostedZoneId=<HostedZoneId output> to add the regional certificates, custom domains, health checks and ${dnsPlan.serviceName} records.`,
    );
    Annotations.of(dnsStack).addWarningV2(DNS_NOTICE.zoneOnly, notices[0] as string);
  }
  if (options.schedules === 'disabled') {
    const notice =
      'Schedules disabled (-c schedules=disabled): no probe, monitor or job runs, so nothing detects a failed region. Deploy again without it once the tables exist (docs/deploy.md).';
    notices.push(notice);
    Annotations.of(stateStack).addWarningV2(DEPLOY_NOTICE.schedulesDisabled, notice);
  }
  for (const warning of placement.warnings) {
    const notice = `Replication: ${warning.field}: ${warning.reason}`;
    notices.push(notice);
    Annotations.of(stateStack).addWarningV2(REPLICATION_NOTICE, notice);
  }
  const networkStacks = meshStacks(app, topology, options, account);
  for (const network of networkStacks) {
    const regional = regionalStacks.find((stack) => stack.regionId === network.region);
    regional?.addStackDependency(
      network,
      'its MCP health job runs in the mesh VPC, whose subnets and security group it reads from SSM',
    );
  }
  return {
    networkStacks,
    stateStack,
    regionalStacks,
    witnessStacks,
    dnsStack,
    dnsPlan,
    notices,
    placement,
    replicationStacks,
  };
}

/** The SSM parameters of `regionId`'s mesh VPC that its regional stack reads (network-mesh.ts). */
function regionalMesh(name: string, regionId: string) {
  const names = mcpProbeParameterNames(name, regionId);
  return { subnetParameters: names.subnets, securityGroupParameter: names.securityGroup };
}

/**
 * The opt-in network mesh: one stack per region, each requester after its accepters (a deploy order,
 * no reference). A plan with issues (overlapping or public blocks, a missing tunnel) stops the synth.
 */
export function meshStacks(
  app: App,
  topology: Topology,
  options: BuildAppOptions,
  account: string | undefined,
): NetworkMeshStack[] {
  if ((options.network ?? networkMode(app.node.tryGetContext('network'))) !== 'mesh') return [];
  const plan = planMesh(topology);
  if (plan.issues.length > 0) {
    throw new TopologyError(plan.issues.map((issue) => ({ field: issue.field, reason: issue.message })));
  }
  const stacks = plan.regions.map(
    ({ region }) =>
      new NetworkMeshStack(app, `CortexNetwork-${region}`, {
        env: { account, region },
        description: `Cortex network mesh in ${region}: VPC, Transit Gateway, peering with the other regions`,
        name: topology.name,
        regionId: region,
        plan,
        stateTableName: planDeployment(topology).tableName,
        stateTableActions: JOB_TABLE_ACCESS.mcpProbe,
        mcpPorts: mcpEndpointPorts(topology),
      }),
  );
  const byRegion = new Map(stacks.map((stack, i) => [plan.regions[i]?.region, stack]));
  for (const stack of stacks) {
    for (const peer of stack.peers) {
      const accepter = byRegion.get(peer);
      if (accepter)
        stack.addStackDependency(accepter, `reads ${peer}'s Transit Gateway from SSM to peer with it`);
    }
  }
  return stacks;
}
