/**
 * The regional stores of the local control plane: one dynalite (a DynamoDB-compatible server) per
 * topology region, each on 127.0.0.1 with an ephemeral port and its own LevelDB directory, with the
 * state table created. They stand in for the replicas of the global table; lib/adapters/local/
 * replication.ts copies writes between them. The clients the stores make reach their dynalite
 * in-process (`inProcessHandler`); the HTTP endpoint serves every other client.
 */
import { EventEmitter } from 'node:events';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { createStateTable } from '../adapters/aws/state-table.ts';
import type { ReplicatedTable } from '../adapters/local/replication.ts';
import { closeServer, listen } from './listen.ts';

interface RegionalStoresOptions {
  /** Topology region ids, one store each. */
  readonly regionIds: readonly string[];
  /** Stores persist under `<dataDir>/dynamodb/<region_id>`. */
  readonly dataDir: string;
  readonly tableName: string;
  /**
   * More tables with the state table's keys, each created only in the stores of its regions (the
   * replication placement's MRSC and selective tables: a region outside a table's replicas has none).
   */
  readonly tables?: readonly ReplicatedTable[];
  /** Deletes `<dataDir>/dynamodb` before starting (only that folder: the data dir may hold more). */
  readonly fresh?: boolean;
  /**
   * Keeps each store in memory (dynalite without a path) rather than in a LevelDB directory, for a
   * run that never restarts (a test): nothing survives close, and a store call costs less CPU (no
   * native LevelDB call on a worker thread per read; a Query about 30 % less, bench/store-calls.ts).
   * The data dir holds only the lock.
   */
  readonly inMemory?: boolean;
}

export interface RegionalStore {
  readonly regionId: string;
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** The LevelDB directory; none for a store kept in memory. */
  readonly path: string | undefined;
  /** A new client for this store; the stores destroy every client they made when they close. */
  createClient(): DynamoDBClient;
}

export interface RegionalStores {
  readonly tableName: string;
  /** In the order of `regionIds`. */
  readonly list: readonly RegionalStore[];
  get(regionId: string): RegionalStore;
  /** Destroys the clients, then closes each dynalite (which closes its LevelDB). */
  close(): Promise<void>;
}

const STORE_HOST = '127.0.0.1';

// dynalite does not check credentials, but the SDK will not send without some.
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * dynalite checks that a request carries a SigV4-shaped Authorization header, never its signature:
 * a fixed one stands in. Signing costs several HMACs per request (about a tenth of an idle plane's
 * CPU at --speed 20), and their native allocations add to its memory.
 */
const UNSIGNED: NonNullable<DynamoDBClientConfig['httpAuthSchemes']>[number] = {
  schemeId: 'aws.auth#sigv4',
  identityProvider: (config) => config.getIdentityProvider('aws.auth#sigv4'),
  signer: {
    sign: async (request) => {
      request.headers.authorization =
        'AWS4-HMAC-SHA256 Credential=local/20260101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=local';
      request.headers['x-amz-date'] = '20260101T000000Z';
      return request;
    },
  },
};

/**
 * dynalite 4 reads a Query or Scan through a stream that closes its LevelDB iterator by calling
 * the iterator's `return()` when it ends or is cut short; abstract-level 3's iterators have
 * `close()` and no `return()`, so every Query and Scan left an open iterator behind, holding a
 * LevelDB snapshot (old versions of every item it saw could never be compacted away), native
 * memory, and a place in the store's set of open iterators. An idle plane grew by hundreds of MB
 * of memory and about 1 MB of disk a minute. This gives those iterators the `return()` dynalite
 * calls; iterating with `for await` is unchanged (it uses Symbol.asyncIterator).
 */
function closeLevelIteratorsOnReturn(): void {
  const levelRequire = createRequire(createRequire(import.meta.url).resolve('dynalite'));
  const { AbstractValueIterator } = levelRequire('abstract-level') as {
    AbstractValueIterator: { prototype: object };
  };
  const common = Object.getPrototypeOf(AbstractValueIterator.prototype) as {
    return?: () => Promise<IteratorReturnResult<undefined>>;
    close(): Promise<void>;
  };
  if (typeof common.return === 'function') return;
  Object.defineProperty(common, 'return', {
    configurable: true,
    writable: true,
    value: async function (this: { close(): Promise<void> }) {
      await this.close();
      return { done: true, value: undefined };
    },
  });
}

type RequestHandler = NonNullable<DynamoDBClientConfig['requestHandler']>;

/** What the SDK hands a request handler (the fields used here). */
interface SdkRequest {
  readonly method: string;
  readonly path: string;
  readonly query?: Record<string, string | string[] | null>;
  readonly headers: Record<string, string>;
  readonly body?: unknown;
}

/**
 * A request handler that gives each request to the store's own request listener in this process,
 * with the same method, headers and JSON body, and hands back its status, headers and body, with
 * no socket in between. An idle plane at --speed 60 makes several hundred store calls a second:
 * over loopback HTTP a GetItem cost about 1.6 ms of CPU here and 0.6 ms without it (Query 2.0 and
 * 1.3, a conditional PutItem 1.8 and 1.1), and each call waited for a few more turns of the event
 * loop (socket writes and reads on both sides). After the stores close it refuses every request.
 *
 * Every request it accepted is in `inFlight` until it is answered. Closing the HTTP server does not
 * wait for these (no socket is open), and a Query or Scan whose LevelDB closed under it throws
 * "Iterator is not open" from its stream, uncaught, and never answers: so the stores' close waits
 * for them before it closes anything.
 */
function inProcessHandler(
  server: Server,
  isClosed: () => boolean,
  regionId: string,
  inFlight: Set<Promise<unknown>>,
): RequestHandler {
  const [listener] = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  if (!listener) throw new Error(`the ${regionId} store has no request listener`);
  const handler = {
    handle: (request: SdkRequest) => {
      const answer = new Promise((resolve, reject) => {
        if (isClosed()) {
          reject(new Error(`the ${regionId} store is closed`));
          return;
        }
        const req = new EventEmitter() as EventEmitter & {
          method: string;
          url: string;
          headers: Record<string, string>;
        };
        req.method = request.method;
        req.url = `${request.path}${queryString(request.query)}`;
        req.headers = Object.fromEntries(
          Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]),
        );
        const headers: Record<string, string> = {};
        const res = {
          statusCode: 200,
          setHeader: (name: string, value: unknown) => {
            headers[name.toLowerCase()] = String(value);
          },
          end: (body?: string | Buffer) => {
            resolve({
              response: {
                statusCode: res.statusCode,
                headers,
                body: typeof body === 'string' ? Buffer.from(body, 'utf8') : (body ?? Buffer.alloc(0)),
              },
            });
          },
        };
        try {
          listener(req as unknown as IncomingMessage, res as unknown as ServerResponse);
          const body = bodyBytes(request.body);
          if (body.length > 0) req.emit('data', body);
          req.emit('end');
        } catch (error) {
          reject(error);
        }
      });
      const tracked = answer.then(
        () => undefined,
        () => undefined,
      );
      inFlight.add(tracked);
      void tracked.then(() => inFlight.delete(tracked));
      return answer;
    },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
    destroy: () => undefined,
  };
  return handler as unknown as RequestHandler;
}

function queryString(query: SdkRequest['query']): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    for (const one of Array.isArray(value) ? value : [value]) params.append(name, one ?? '');
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** The SDK's JSON body is a string or bytes (a Uint8Array that warns when read as a string). */
function bodyBytes(body: unknown): Buffer {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body === undefined || body === null) return Buffer.alloc(0);
  throw new Error('the local stores take a string or byte body only');
}

function storesDir(dataDir: string): string {
  return join(dataDir, 'dynamodb');
}

export async function startRegionalStores(options: RegionalStoresOptions): Promise<RegionalStores> {
  if (options.regionIds.length === 0) throw new Error('startRegionalStores: at least one region is required');
  if (new Set(options.regionIds).size !== options.regionIds.length) {
    throw new Error(`startRegionalStores: duplicate region ids in ${options.regionIds.join(', ')}`);
  }
  closeLevelIteratorsOnReturn();
  const root = storesDir(options.dataDir);
  // Checked before --fresh deletes anything: a running control plane keeps its data.
  const lock = await takeLock(root);

  const servers: Server[] = [];
  const clients: DynamoDBClient[] = [];
  const list: RegionalStore[] = [];
  let closed = false;
  const inFlight = new Set<Promise<unknown>>();

  const close = async () => {
    if (closed) return;
    closed = true;
    // New requests are refused from here on; those already accepted finish on open databases.
    while (inFlight.size > 0) await Promise.all([...inFlight]);
    for (const client of clients.splice(0)) client.destroy();
    const results = await Promise.allSettled(servers.map((server) => closeServer(server)));
    await lock.release();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };

  try {
    if (options.fresh) {
      await rm(root, { recursive: true, force: true });
      await lock.rewrite();
    }
    for (const regionId of options.regionIds) {
      const path = options.inMemory ? undefined : join(root, regionId);
      if (path) await mkdir(path, { recursive: true });
      const server = dynalite({
        ...(path ? { path } : {}),
        createTableMs: 0,
        deleteTableMs: 0,
        updateTableMs: 0,
      });
      servers.push(server);
      const port = await listen(server, STORE_HOST, 0, `the ${regionId} store`);
      const endpoint = `http://${STORE_HOST}:${port}`;
      const requestHandler = inProcessHandler(server, () => closed, regionId, inFlight);
      const createClient = () => {
        if (closed) throw new Error(`the ${regionId} store is closed`);
        const client = new DynamoDBClient({
          endpoint,
          region: regionId,
          credentials: LOCAL_CREDENTIALS,
          httpAuthSchemes: [UNSIGNED],
          requestHandler,
        });
        clients.push(client);
        return client;
      };
      list.push({ regionId, endpoint, path, createClient });
    }
    await Promise.all(
      list.map(async (store) => {
        const client = store.createClient();
        try {
          await createStateTable(client, options.tableName);
        } catch (error) {
          const where = `the ${store.regionId} store (${store.path ?? 'in memory'})`;
          throw new Error(`cannot create the state table in ${where}`, { cause: error });
        }
        for (const table of options.tables ?? []) {
          if (!table.regions.includes(store.regionId)) continue;
          try {
            await createStateTable(client, table.name);
          } catch (error) {
            const where = `the ${store.regionId} store (${store.path ?? 'in memory'})`;
            throw new Error(`cannot create table ${table.name} in ${where}`, { cause: error });
          }
        }
      }),
    );
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }

  const byId = new Map(list.map((store) => [store.regionId, store]));
  return {
    tableName: options.tableName,
    list,
    get: (regionId) => {
      const store = byId.get(regionId);
      if (!store) throw new Error(`no store for region ${regionId}`);
      return store;
    },
    close,
  };
}

interface StoreLock {
  /** Writes the lock again (after --fresh removed the folder holding it). */
  rewrite(): Promise<void>;
  release(): Promise<void>;
}

/**
 * One control plane per data dir. LevelDB locks its folder too, but dynalite reports that lock
 * by throwing inside a callback (the process dies), so we check first with a pid file.
 */
async function takeLock(root: string): Promise<StoreLock> {
  const file = join(root, 'cortex.lock');
  const write = async () => {
    await mkdir(root, { recursive: true });
    const handle = await open(file, 'wx');
    await handle.writeFile(String(process.pid));
    await handle.close();
  };
  for (let attempt = 0; ; attempt++) {
    try {
      await write();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new Error(
          `the data dir ${root} is in use by another local control plane (pid ${pid}${pid === process.pid ? ', this process' : ''}); stop it or use another --data-dir`,
        );
      }
      await rm(file, { force: true });
    }
  }
  return {
    rewrite: write,
    release: () => rm(file, { force: true }),
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
