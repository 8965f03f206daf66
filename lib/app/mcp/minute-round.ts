/**
 * The MCP servers' probe as a job of its own (on AWS the MCP health job inside the network mesh's
 * VPC, functions/mcp-probe): the same probe and verdicts the local plane runs beside its probe
 * rounds (probeMcpServers), one round per invocation from the region's minute driver. Rounds come
 * at the observer's MCP probe interval, capped at a minute; a round that finds its last probe
 * younger than the interval writes nothing (probeMcpServers decides, as it does locally).
 */
import { mcpProbeIntervalMs } from '../../core/mcp/health.ts';
import type { Topology } from '../../core/topology/types.ts';
import { type MinuteDriverPosition, type MinuteRoundReport, runDrivenRound } from '../minute-rounds.ts';
import { type McpProbeDeps, type McpProbeReport, probeMcpServers } from './probe.ts';

/** Reads of the registry and the probe records and their one write, beyond the calls' timeout. */
const MCP_ROUND_MARGIN_MS = 3_000;

/** Seconds between the job's rounds in `observer`: its MCP probe interval, whole, 6 to 60. */
export function mcpRoundSeconds(topology: Topology, observer: string): number {
  return Math.min(60, Math.max(6, Math.round(mcpProbeIntervalMs(topology, observer) / 1000)));
}

/** What one round needs at worst: every server called concurrently under the policy's timeout, then the state I/O. */
export function mcpRoundNeedsMs(topology: Topology): number {
  return topology.failover_policies.health_check.timeout_seconds * 1000 + MCP_ROUND_MARGIN_MS;
}

/** The driver's position is all a round takes. */
type McpProbeMinuteRoundOptions = MinuteDriverPosition;

/** One round of the minute: the servers probed when due, this observer's verdicts written. */
export function runMcpProbeMinuteRound(
  deps: Omit<McpProbeDeps, 'state'>,
  options: McpProbeMinuteRoundOptions,
): Promise<MinuteRoundReport<McpProbeReport>> {
  const seconds = mcpRoundSeconds(deps.topology, deps.regionId);
  const needs = mcpRoundNeedsMs(deps.topology);
  return runDrivenRound(
    {
      planned: Math.max(1, Math.floor(60 / seconds)),
      intervalMs: seconds * 1000,
      clock: deps.clock,
      roundNeeds: { ms: needs, said: `${needs} ms` },
    },
    options,
    () => probeMcpServers(deps),
  );
}
