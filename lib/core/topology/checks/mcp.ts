/**
 * The `regional_mcp_deployment` section: a deployment for every region with the mcp-servers
 * capability, replication targets among the other regions, compliance modes the region lists, and
 * each server's residency resolved to a place.
 */
import type { ParsedTopology } from '../schema.ts';
import type { McpServerConfig, RegionalMcpDeployment } from '../sections.ts';
import type { Region } from '../types.ts';
import { normalizeFramework } from './frameworks.ts';
import type { PlaceResolver } from './places.ts';
import { checkRegionKeys, type KnownRegions, type Report, unknownRegion } from './report.ts';

const field = 'regional_mcp_deployment';

type RawServer = ParsedTopology['regional_mcp_deployment'][string]['mcp_servers'][string];

export function checkMcp(
  raw: ParsedTopology['regional_mcp_deployment'],
  regions: readonly Region[],
  known: KnownRegions,
  places: PlaceResolver,
  report: Report,
): Record<string, RegionalMcpDeployment> {
  checkRegionKeys(raw, field, known, report, undefined);
  for (const region of regions) {
    const hosts = region.capabilities.includes('mcp-servers');
    // The reverse (a deployment in a region without the capability) is allowed: dropping the
    // capability is how an operator stops routing MCP work to a region without losing its config.
    if (hosts && !(region.region_id in raw)) {
      report(field, `region "${region.region_id}" has the mcp-servers capability but no MCP deployment`);
    }
  }
  const out: Record<string, RegionalMcpDeployment> = {};
  for (const [id, deployment] of Object.entries(raw)) {
    const region = regions.find((r) => r.region_id === id);
    const servers: Record<string, McpServerConfig> = {};
    for (const [name, server] of Object.entries(deployment.mcp_servers)) {
      const at = `${field}.${id}.mcp_servers.${name}`;
      servers[name] = checkServer(server, at, id, region, { known, places, report });
    }
    out[id] = { ...deployment, mcp_servers: servers };
  }
  return out;
}

interface ServerChecks {
  readonly known: KnownRegions;
  readonly places: PlaceResolver;
  readonly report: Report;
}

function checkServer(
  server: RawServer,
  at: string,
  id: string,
  region: Region | undefined,
  { known, places, report }: ServerChecks,
): McpServerConfig {
  server.replication?.targets?.forEach((target, i) => {
    const targetField = `${at}.replication.targets[${i}]`;
    if (!known.ids.has(target)) report(targetField, unknownRegion(target));
    else if (target === id) report(targetField, 'a server does not replicate to its own region');
  });
  const { compliance_mode: rawMode, data_residency: rawResidency, ...rest } = server;
  const compliance_mode = rawMode === undefined ? undefined : normalizeFramework(rawMode);
  if (compliance_mode && region && !region.compliance.includes(compliance_mode)) {
    report(`${at}.compliance_mode`, `region "${id}" does not list compliance framework ${compliance_mode}`);
  }
  const data_residency =
    rawResidency === undefined ? undefined : places.place(rawResidency, `${at}.data_residency`, report);
  return {
    ...rest,
    ...(compliance_mode ? { compliance_mode } : {}),
    ...(data_residency ? { data_residency } : {}),
  };
}
