import type { Server } from 'node:http';
import { createRegionalApi } from '../../lib/app/api.ts';
import { createHttpBridge } from '../../lib/local/http.ts';
import { closeServer, listen } from '../../lib/local/listen.ts';
import type { LocalRuntime } from '../../lib/runtime/local.ts';

export interface ServedRegion {
  /** `http://127.0.0.1:<port>`, for `--endpoint`. */
  readonly endpoint: string;
  close(): Promise<void>;
}

/** One region of a local runtime served over HTTP on loopback (an ephemeral port), as the CLI reaches it. */
export async function serveRegion(runtime: LocalRuntime, regionId: string): Promise<ServedRegion> {
  const server: Server = createHttpBridge(createRegionalApi(runtime.region(regionId).deps));
  const port = await listen(server, '127.0.0.1', 0, 'the test endpoint');
  return { endpoint: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
}
