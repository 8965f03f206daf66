import type { Server } from 'node:http';
import type { Concern } from '../../lib/app/routes.ts';
import { createHttpBridge } from '../../lib/local/http.ts';
import { closeServer, listen } from '../../lib/local/listen.ts';
import {
  createRegionalApi,
  type HttpHandler,
  type RegionalApi,
  routeToHandlers,
} from '../../lib/local/regional-api.ts';
import type { LocalRuntime } from '../../lib/runtime/local.ts';

export interface ServedRegion {
  /** `http://127.0.0.1:<port>`, for `--endpoint`. */
  readonly endpoint: string;
  close(): Promise<void>;
}

/** One region of a local runtime served over HTTP on loopback (an ephemeral port), as the CLI reaches it. */
export function serveRegion(runtime: LocalRuntime, regionId: string): Promise<ServedRegion> {
  return serve(createRegionalApi(runtime.region(regionId).deps));
}

/** Some concerns' handlers behind API Gateway's routing, served over HTTP on loopback. */
export function serveHandlers(handlers: Partial<Record<Concern, HttpHandler>>): Promise<ServedRegion> {
  return serve(routeToHandlers(handlers));
}

async function serve(api: RegionalApi): Promise<ServedRegion> {
  const server: Server = createHttpBridge(api);
  const port = await listen(server, '127.0.0.1', 0, 'the test endpoint');
  return { endpoint: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
}
