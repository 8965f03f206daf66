/**
 * The `deployment` section: roles, standby modes and traffic weights that agree with each other, a
 * total failover order, and a replication source and targets among the regions.
 */
import type { DeploymentPattern } from '../types.ts';
import {
  checkRegionKeys,
  type KnownRegions,
  type Report,
  reportDuplicates,
  round6,
  sum,
  unknownRegion,
} from './report.ts';

const field = 'deployment.regions';

type Entries = readonly [string, DeploymentPattern['regions'][string]][];

export function checkDeployment(
  deployment: DeploymentPattern,
  known: KnownRegions,
  report: Report,
): DeploymentPattern {
  checkRegionKeys(deployment.regions, field, known, report, 'deployment entry');
  const entries: Entries = Object.entries(deployment.regions);
  checkRoles(entries, report);
  checkPriorities(entries, report);
  const active = entries.filter(([, region]) => region.role === 'active');
  checkWeights(deployment, entries, active, report);
  checkReplicationFlow(deployment, active, known, report);
  return deployment;
}

/** A passive region takes no traffic, and its standby mode matches its role. */
function checkRoles(entries: Entries, report: Report): void {
  for (const [id, region] of entries) {
    const at = `${field}.${id}`;
    if (region.role !== 'active' && region.traffic_weight !== 0) {
      report(
        `${at}.traffic_weight`,
        `a ${region.role} region takes no traffic; expected 0, got ${region.traffic_weight}`,
      );
    }
    const expectedMode =
      region.role === 'passive-warm' ? 'warm' : region.role === 'passive-cold' ? 'cold' : undefined;
    if (region.standby_mode !== undefined && region.standby_mode !== expectedMode) {
      report(
        `${at}.standby_mode`,
        expectedMode
          ? `standby_mode "${region.standby_mode}" contradicts role ${region.role}`
          : `an active region has no standby_mode`,
      );
    }
  }
}

function checkPriorities(entries: Entries, report: Report): void {
  const priorityOwner = new Map<number, string>();
  for (const [id, region] of entries) {
    const owner = priorityOwner.get(region.failover_priority);
    if (owner !== undefined) {
      report(
        `${field}.${id}.failover_priority`,
        `failover_priority ${region.failover_priority} is also used by ${owner}; the failover order must be total`,
      );
    } else priorityOwner.set(region.failover_priority, id);
  }
}

/** Active-active weights add up to 100; active-passive has one active region taking all of it. */
function checkWeights(
  deployment: DeploymentPattern,
  entries: Entries,
  active: Entries,
  report: Report,
): void {
  if (deployment.pattern === 'active-active') {
    const total = round6(sum(entries.map(([, region]) => region.traffic_weight)));
    if (total !== 100) {
      report(field, `traffic weights add up to ${total}; they must add up to 100`);
    }
    return;
  }
  if (active.length !== 1) {
    report(field, `active-passive needs exactly one active region, found ${active.length}`);
  }
  for (const [id, region] of active) {
    if (region.traffic_weight !== 100) {
      report(
        `${field}.${id}.traffic_weight`,
        `the active region of an active-passive deployment takes all traffic; expected 100, got ${region.traffic_weight}`,
      );
    }
  }
}

function checkReplicationFlow(
  deployment: DeploymentPattern,
  active: Entries,
  known: KnownRegions,
  report: Report,
): void {
  const replication = deployment.replication;
  if (!replication) return;
  const at = 'deployment.replication';
  if (!known.ids.has(replication.source)) report(`${at}.source`, unknownRegion(replication.source));
  else if (
    deployment.pattern === 'active-passive' &&
    active.length === 1 &&
    active[0]?.[0] !== replication.source
  ) {
    report(`${at}.source`, `replication source "${replication.source}" is not the active region`);
  }
  replication.targets.forEach((target, i) => {
    if (!known.ids.has(target)) report(`${at}.targets[${i}]`, unknownRegion(target));
    else if (target === replication.source)
      report(`${at}.targets[${i}]`, 'a region does not replicate to itself');
  });
  reportDuplicates(replication.targets, (i) => `${at}.targets[${i}]`, 'target', report);
}
