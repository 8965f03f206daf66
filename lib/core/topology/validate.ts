/**
 * Turns a raw topology document into a `Topology`, or fails naming every bad field.
 *
 * Two passes: the structural schema (shapes, types, ranges, unknown keys), then the rules that relate
 * fields to each other (regions named everywhere exist, every ordered pair in the latency matrix,
 * weights adding up to 100, country codes and groups resolving ...), one module per section under
 * `checks/`. All issues of a pass are collected before throwing, so an operator fixes a file in one
 * round. Pure: no I/O, no clock.
 */

import { type FieldIssue, TopologyError } from '../errors.ts';
import { schemaIssues, type ZodIssueLike, zodReason } from '../schema-issues.ts';
import { checkCompliance } from './checks/compliance.ts';
import { checkDeployment } from './checks/deployment.ts';
import { checkFailoverPolicies } from './checks/failover-policies.ts';
import { checkLatency } from './checks/latency.ts';
import { checkMcp } from './checks/mcp.ts';
import { checkMonitoring } from './checks/monitoring.ts';
import { checkNetworking } from './checks/networking.ts';
import { checkCountryGroups, PlaceResolver } from './checks/places.ts';
import { checkRegions, checkWitnesses } from './checks/regions.ts';
import { checkReplication } from './checks/replication.ts';
import { knownOf, type Report } from './checks/report.ts';
import { checkResourcePool } from './checks/resource-pool.ts';
import { checkRouting } from './checks/routing.ts';
import { deepFreeze } from './compiled.ts';
import { type ParsedTopology, topologySchema } from './schema.ts';
import type { Topology } from './types.ts';

export { expandResidency, normalizeCountryCode } from './residency.ts';

export function validateTopology(raw: unknown): Topology {
  const parsed = topologySchema.safeParse(raw, {
    reportInput: true,
    error: (issue) => zodReason(issue as ZodIssueLike),
  });
  if (!parsed.success) {
    throw new TopologyError(schemaIssues(parsed.error.issues as readonly ZodIssueLike[], '(root)'));
  }
  const issues: FieldIssue[] = [];
  // A copy: the result is frozen and must share nothing with the caller's object.
  const topology = buildTopology(structuredClone(parsed.data), issues);
  if (issues.length > 0) throw new TopologyError(issues);
  return deepFreeze(topology);
}

/** The semantic pass: each section checked and normalized; issues are reported in this order. */
function buildTopology(data: ParsedTopology, issues: FieldIssue[]): Topology {
  const report: Report = (field, reason) => {
    issues.push({ field, reason });
  };
  const groups = checkCountryGroups(data.country_groups ?? {}, report);
  const places = new PlaceResolver(groups.expanded);
  const regions = checkRegions(data, places, report);
  const known = knownOf(regions);

  const witnesses = checkWitnesses(data.witnesses ?? [], known, report);
  const global_resource_pool = checkResourcePool(data.global_resource_pool, known, report);
  const failover_policies = checkFailoverPolicies(data, report);
  const replication_strategies = checkReplication(data.replication_strategies, known, report);
  const deployment = checkDeployment(data.deployment, known, report);
  const latency = checkLatency(data.latency, known, report);
  const routing = checkRouting(data.routing, report);
  const regional_compliance = checkCompliance(data.regional_compliance, regions, known, places, report);
  const regional_mcp_deployment = checkMcp(data.regional_mcp_deployment, regions, known, places, report);
  const cross_region_networking = checkNetworking(data.cross_region_networking, known, report);
  const monitoring = checkMonitoring(data.monitoring, report);

  return {
    name: data.name,
    version: data.version,
    country_groups: groups.members,
    expanded_groups: groups.expanded,
    regions,
    witnesses,
    global_resource_pool,
    failover_policies,
    replication_strategies,
    deployment,
    latency,
    routing,
    regional_compliance,
    regional_mcp_deployment,
    cross_region_networking,
    monitoring,
  };
}
