/**
 * The local control plane (`cortex local`, `npm start`): the local runtime's regions served over
 * HTTP, on loopback only. Region i (topology order) answers on 127.0.1.(i+1), each with its own
 * replica of the state; the gateway on 127.0.0.1 answers as the primary region plus the
 * simulator's own `/v1/sim` routes.
 */
import type { Server } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { json } from '../../functions/shared/http.ts';
import type { LinkStats } from '../adapters/local/replication.ts';
import { createRegionalApi } from '../app/api.ts';
import type { Topology } from '../core/topology/types.ts';
import { type LocalRuntime, startLocalRuntime } from '../runtime/local.ts';
import { loadTopologyFile } from '../topology/load.ts';
import { type ApiHandler, createHttpBridge } from './http.ts';
import { closeServer, listen } from './listen.ts';

export const DEFAULT_GATEWAY_PORT = 4600;
export const DEFAULT_DATA_DIR = './.data';

const GATEWAY_HOST = '127.0.0.1';

export interface LocalControlPlaneOptions {
  /** Gateway port on 127.0.0.1 (default 4600); regions use the same number on 127.0.1.x. 0: ephemeral ports. */
  readonly port?: number;
  /** Default `./.data`. */
  readonly dataDir?: string;
  /** Starts with empty stores. */
  readonly fresh?: boolean;
  /** Default topology/default.json. */
  readonly topologyPath?: string;
  /** Replication lag between every pair of regions (default 200 ms). */
  readonly replicationLagMs?: number;
  /** Operational messages (handler crashes, replication retries). Default: standard error. */
  readonly log?: (line: string) => void;
}

export interface RegionEndpoint {
  readonly url: string;
  readonly address: string;
}

/** What `GET /v1/sim` answers: where everything is. */
export interface SimLayout {
  readonly topology: string;
  readonly regions: Readonly<Record<string, RegionEndpoint & { readonly tier: string }>>;
  readonly gateway: { readonly url: string; readonly region: string };
  readonly data_dir: string;
  readonly replication: { readonly lag_ms: number; readonly links: readonly LinkStats[] };
}

export interface LocalControlPlane {
  readonly gatewayUrl: string;
  /** By region id, in topology order. */
  readonly regions: Readonly<Record<string, RegionEndpoint>>;
  /** The region the gateway answers as. */
  readonly primaryRegion: string;
  /** The stores, replication and per-region deps (fault injection and tests reach in here). */
  readonly runtime: LocalRuntime;
  layout(): SimLayout;
  /** Stops accepting requests, lets those in flight finish, saves the replication queue, closes the stores. */
  stop(): Promise<void>;
}

export async function startLocalControlPlane(
  options: LocalControlPlaneOptions = {},
): Promise<LocalControlPlane> {
  const port = options.port ?? DEFAULT_GATEWAY_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`port must be an integer from 0 to 65535, got ${port}`);
  }
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const topology = loadTopologyFile(options.topologyPath);
  if (topology.regions.length > 254) throw new Error('the local control plane serves at most 254 regions');
  const primary = primaryRegionOf(topology);

  const runtime = await startLocalRuntime({
    topology,
    dataDir: options.dataDir ?? DEFAULT_DATA_DIR,
    fresh: options.fresh ?? false,
    ...(options.replicationLagMs === undefined ? {} : { replicationLagMs: options.replicationLagMs }),
    log,
  });

  const servers: Server[] = [];
  const stopServers = async () => {
    await Promise.allSettled(servers.map((server) => closeServer(server)));
  };
  try {
    const regions: Record<string, RegionEndpoint> = {};
    const apis = new Map<string, ApiHandler>();
    for (const [index, region] of runtime.regions.entries()) {
      const api = createRegionalApi(region.deps);
      apis.set(region.regionId, api);
      const address = `127.0.1.${index + 1}`;
      const server = createHttpBridge(api, { log });
      servers.push(server);
      const bound = await listen(server, address, port, `the ${region.regionId} endpoint`);
      regions[region.regionId] = { url: `http://${address}:${bound}`, address };
    }

    let gatewayUrl = '';
    const layout = (): SimLayout => {
      const stats = runtime.replication.stats();
      return {
        topology: topology.name,
        regions: Object.fromEntries(
          topology.regions.map((r) => [
            r.region_id,
            { ...(regions[r.region_id] as RegionEndpoint), tier: r.tier },
          ]),
        ),
        gateway: { url: gatewayUrl, region: primary },
        data_dir: runtime.dataDir,
        replication: { lag_ms: stats.lag_ms, links: stats.links },
      };
    };
    const primaryApi = apis.get(primary);
    if (!primaryApi) throw new Error(`no API for the primary region ${primary}`);
    const gatewayServer = createHttpBridge(createGatewayApi(primaryApi, layout), { log });
    servers.push(gatewayServer);
    const gatewayPort = await listen(gatewayServer, GATEWAY_HOST, port, 'the gateway');
    gatewayUrl = `http://${GATEWAY_HOST}:${gatewayPort}`;

    let stopping: Promise<void> | undefined;
    return {
      gatewayUrl,
      regions,
      primaryRegion: primary,
      runtime,
      layout,
      stop: () => {
        stopping ??= (async () => {
          try {
            await stopServers();
          } finally {
            await runtime.close();
          }
        })();
        return stopping;
      },
    };
  } catch (error) {
    await stopServers();
    await runtime.close().catch(() => undefined);
    throw error;
  }
}

/** The gateway answers as the primary region, plus the simulator's routes under `/v1/sim`. */
function createGatewayApi(primaryApi: ApiHandler, layout: () => SimLayout): ApiHandler {
  return async (event: APIGatewayProxyEventV2) => {
    if (event.rawPath !== '/v1/sim' && !event.rawPath.startsWith('/v1/sim/')) return primaryApi(event);
    const method = event.requestContext.http.method;
    if (event.rawPath !== '/v1/sim') {
      return json(404, { error: { code: 'NOT_FOUND', message: `no route for ${method} ${event.rawPath}` } });
    }
    if (method !== 'GET') {
      return json(405, {
        error: { code: 'METHOD_NOT_ALLOWED', message: `${method} is not allowed on /v1/sim` },
      });
    }
    return json(200, layout());
  };
}

/** The first region of tier `primary`, else the first region. */
export function primaryRegionOf(topology: Topology): string {
  const region = topology.regions.find((r) => r.tier === 'primary') ?? topology.regions[0];
  if (!region) throw new Error(`topology ${topology.name} has no regions`);
  return region.region_id;
}

/** What `cortex local` prints: where everything is and what to try first. */
export function formatBanner(plane: LocalControlPlane): string {
  const layout = plane.layout();
  const names = ['gateway', ...Object.keys(plane.regions)];
  const width = Math.max(...names.map((n) => n.length)) + 2;
  const row = (name: string, text: string) => `  ${name.padEnd(width)}${text}`;
  const endpoint =
    plane.gatewayUrl === `http://${GATEWAY_HOST}:${DEFAULT_GATEWAY_PORT}`
      ? ''
      : ` --endpoint ${plane.gatewayUrl}`;
  const body = JSON.stringify({ task_id: 'task-1', source: { region: plane.primaryRegion } });
  return [
    `Cortex local control plane: topology ${layout.topology}, ${Object.keys(plane.regions).length} regions`,
    row('gateway', `${plane.gatewayUrl}  (answers as ${plane.primaryRegion}; layout at /v1/sim)`),
    ...Object.entries(plane.regions).map(([id, region]) => row(id, region.url)),
    row('data', `${layout.data_dir}  (replication lag ${layout.replication.lag_ms} ms)`),
    '',
    'Try:',
    `  curl -s -X POST ${plane.gatewayUrl}/v1/route -H 'content-type: application/json' -d '${body}'`,
    `  npx cortex regions${endpoint}`,
    '',
    'Ctrl-C stops it; state is kept in the data dir (--fresh starts clean).',
  ].join('\n');
}
