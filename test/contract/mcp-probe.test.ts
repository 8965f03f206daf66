/**
 * The McpProbePort contract (mcp-probe.contract.ts) against both adapters, each calling a stand-in
 * MCP server on loopback over real HTTP: the local plane's LocalMcpProbe (a region's local endpoint,
 * `/mcp/<server>/health`), and the AWS HttpMcpProbe the mesh's MCP health job runs, behind the mesh
 * allow-list, its fetch resolving the topology's private names to the stand-in as the mesh's DNS
 * would.
 */
import { HttpMcpProbe, mcpEndpointAllowList, meshAllowList } from '../../lib/adapters/aws/mcp-probe.ts';
import { LocalMcpProbe } from '../../lib/adapters/local/mcp-probe.ts';
import { planMesh } from '../../lib/core/network/mesh.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { mcpProbeContract } from './mcp-probe.contract.ts';

const topology = validateTopology(defaultTopologyJson());
const n8n = { region: 'us-east-1', server: 'n8n', endpoint: 'n8n-us-east-1.cortex.internal' };
const clock = { now: () => 1_000, speed: 1 };

mcpProbeContract('LocalMcpProbe (the local plane)', async (_server, base) => ({
  probe: new LocalMcpProbe({
    endpoints: () => ({ 'us-east-1': base.href }),
    healthPath: (server) => `/mcp/${server}/health`,
    network: { partitioned: () => false, isDown: () => false },
    clock,
  }),
  record: n8n,
  now: clock.now,
}));

mcpProbeContract('HttpMcpProbe (AWS, inside the mesh)', async (_server, base) => ({
  probe: new HttpMcpProbe({
    allow: meshAllowList(mcpEndpointAllowList(topology), planMesh(topology), 'eu-west-1'),
    clock,
    fetch: ((url: URL, init?: RequestInit) =>
      fetch(new URL(`/${url.hostname}${url.pathname}`, base), init)) as typeof fetch,
  }),
  record: n8n,
  now: clock.now,
}));
