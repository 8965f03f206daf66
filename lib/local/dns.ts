/**
 * The local stand-in for Route 53: a DNS server on loopback (UDP and TCP on one port) answering the
 * service name (`api.cortex.local`) from its own health checks of each region's `GET /health`,
 * as Route 53 health checks do (DESIGN principle 1: a failover only changes region status; a
 * region answering 503 drops out of DNS, nobody calls a DNS control plane).
 *
 * Health checks: every health check interval (simulated; as lib/infra/dns-plan.ts configures Route 53:
 * `deployment.traffic_distribution.health_check_interval_seconds`, else
 * `failover_policies.health_check.interval_seconds`), each region's `/health` is fetched with Route
 * 53's 4 s connect + 2 s answer budget (6 s simulated, at most the interval); 2xx/3xx is a pass. Like Route 53 there is ONE threshold for both directions
 * (`failure_threshold`): that many failures in a row make a healthy region unhealthy, that many
 * passes in a row make it healthy again. The checker sits outside every partition (Route 53 checks
 * from its own locations), so it sees a region that is down, erroring or slow, and a region that
 * fenced itself (503), but not a partition between regions.
 *
 * The answer, per the deployment pattern:
 * - active-active: latency records resolved from the gateway's location (the primary region): the
 *   healthy region with the lowest latency-matrix round trip from the primary region;
 * - active-passive: failover records: the active region, else the first healthy standby in
 *   `failover_priority` order.
 * When no region is healthy, the first of that order is answered anyway (for the default topology
 * the primary region): Route 53 answers as if all were healthy when every record of a latency set is
 * unhealthy, and answers the PRIMARY of a failover pair whose both records are unhealthy.
 *
 * A: the region's loopback address (127.0.1.x); TXT: its region id; NXDOMAIN for any other name;
 * NOERROR without answers for other record types of the service name. TTL 60 s (AWS's advice); this
 * server keeps no cache, so every query sees the current answer.
 */
import type { Socket, Server as TcpServer } from 'node:net';
import type DNS from 'dns2';
import { Packet, TCPServer, UDPClient, UDPServer } from 'dns2';
import type { Topology } from '../core/topology/types.ts';
import type { SimClock } from './clock.ts';
import { assertLoopback } from './listen.ts';

export const SERVICE_NAME = 'api.cortex.local';
/**
 * 53 needs privileges and 5353 is multicast DNS (avahi, Bonjour usually hold it); 8053 is the usual
 * unprivileged stand-in for 53.
 */
export const DEFAULT_DNS_PORT = 8053;
const DNS_TTL_SECONDS = 60;
/** Route 53: 4 s to connect plus 2 s to answer. */
const CHECK_TIMEOUT_MS = 6_000;

interface DnsRegionEndpoint {
  readonly url: string;
  readonly address: string;
}

interface LocalDnsOptions {
  readonly topology: Topology;
  /** Region id -> its endpoint; every topology region must have one. */
  readonly endpoints: Readonly<Record<string, DnsRegionEndpoint>>;
  /** Where latency records are resolved from (the gateway's region, the primary). */
  readonly clientRegion: string;
  readonly clock: SimClock;
  /** Default 127.0.0.1 (loopback only). */
  readonly host?: string;
  /** 0: an ephemeral port. Default DEFAULT_DNS_PORT. */
  readonly port?: number;
  /** Default `api.cortex.local`. */
  readonly name?: string;
  readonly log?: (line: string) => void;
  readonly fetch?: typeof fetch;
}

/** One region's health check as the DNS server holds it. */
export interface DnsHealthCheck {
  readonly region: string;
  readonly healthy: boolean;
  readonly consecutive_failures: number;
  readonly consecutive_successes: number;
  /** HTTP status or failure reason of the last check. */
  readonly last_result?: string;
  /** ISO time (simulated) of the last check. */
  readonly checked_at?: string;
}

/** When the answer changed (simulated epoch ms) and to which region. */
interface DnsAnswerChange {
  readonly at: number;
  readonly region: string;
}

export interface LocalDns {
  readonly address: string;
  readonly port: number;
  readonly name: string;
  /** The region the service name resolves to now. */
  servingRegion(): string;
  checks(): DnsHealthCheck[];
  /** Every change of the answer since start, oldest first (the first entry is the initial answer). */
  answerChanges(): readonly DnsAnswerChange[];
  /** Stops the checks (waiting for those in flight) and closes both sockets. */
  close(): Promise<void>;
}

interface CheckState {
  region: string;
  healthy: boolean;
  failures: number;
  successes: number;
  lastResult: string | undefined;
  checkedAt: number | undefined;
}

export async function startLocalDns(options: LocalDnsOptions): Promise<LocalDns> {
  const { topology, clock } = options;
  const host = options.host ?? '127.0.0.1';
  assertLoopback(host);
  const port = options.port ?? DEFAULT_DNS_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`dns port must be an integer from 0 to 65535, got ${port}`);
  }
  const name = normalizeName(options.name ?? SERVICE_NAME);
  const log = options.log ?? (() => undefined);
  const doFetch = options.fetch ?? fetch;
  const policy = topology.failover_policies.health_check;
  const intervalMs = dnsCheckIntervalSeconds(topology) * 1000;
  const threshold = policy.failure_threshold;
  const timeoutMs = Math.min(CHECK_TIMEOUT_MS, intervalMs);
  for (const region of topology.regions) {
    if (!options.endpoints[region.region_id])
      throw new Error(`dns: no endpoint for region ${region.region_id}`);
  }

  const states: CheckState[] = topology.regions.map((r) => ({
    region: r.region_id,
    healthy: true,
    failures: 0,
    successes: 0,
    lastResult: undefined,
    checkedAt: undefined,
  }));
  const order = answerOrder(topology, options.clientRegion);
  const choose = (): string => {
    const healthy = new Set(states.filter((s) => s.healthy).map((s) => s.region));
    return order.find((id) => healthy.has(id)) ?? order[0] ?? '';
  };
  const changes: DnsAnswerChange[] = [{ at: clock.now(), region: choose() }];
  const noteAnswer = () => {
    const region = choose();
    if (changes.at(-1)?.region === region) return;
    changes.push({ at: clock.now(), region });
    log(`dns: ${name} now answers ${region} (${options.endpoints[region]?.address})`);
  };

  const checkOne = async (state: CheckState): Promise<void> => {
    const endpoint = options.endpoints[state.region];
    if (!endpoint) return;
    let passed = false;
    let result: string;
    const signal = AbortSignal.timeout(Math.max(1, Math.ceil(clock.toRealMs(timeoutMs))));
    try {
      const response = await doFetch(`${endpoint.url}/health`, {
        signal,
        headers: { 'user-agent': 'Amazon-Route53-Health-Check-Service (local)' },
      });
      await response.body?.cancel();
      passed = response.status >= 200 && response.status < 400;
      result = String(response.status);
    } catch (error) {
      result = signal.aborted ? 'timeout' : ((error as { cause?: { code?: string } }).cause?.code ?? 'error');
    }
    state.lastResult = result;
    state.checkedAt = clock.now();
    if (passed) {
      state.successes++;
      state.failures = 0;
      if (!state.healthy && state.successes >= threshold) state.healthy = true;
    } else {
      state.failures++;
      state.successes = 0;
      if (state.healthy && state.failures >= threshold) state.healthy = false;
    }
  };

  let closed = false;
  let inFlight: Promise<void> | undefined;
  let cancelTimer: (() => void) | undefined;
  const round = (startedAt: number) => {
    cancelTimer = undefined;
    if (closed) return;
    inFlight = Promise.all(states.map(checkOne)).then(() => {
      inFlight = undefined;
      noteAnswer();
      if (closed) return;
      // Never overlaps itself: a round that ran late starts the next one at once.
      const due = Math.max(startedAt + intervalMs, clock.now());
      cancelTimer = clock.setTimer(due - clock.now(), () => round(due));
    });
  };

  const handle = (request: Packet, send: (response: Packet) => Promise<Buffer>) => {
    const response = Packet.createResponseFromRequest(request);
    response.header.aa = 1;
    response.header.ra = 0;
    const question = request.questions[0];
    if (!question || normalizeName(question.name) !== name) {
      response.header.rcode = Packet.RCODE.NXDOMAIN;
    } else {
      const region = choose();
      const address = options.endpoints[region]?.address ?? '';
      const wantsA = question.type === Packet.TYPE.A || question.type === Packet.TYPE.ANY;
      const wantsTxt = question.type === Packet.TYPE.TXT || question.type === Packet.TYPE.ANY;
      const record = { name: question.name, class: Packet.CLASS.IN, ttl: DNS_TTL_SECONDS };
      if (wantsA) response.answers.push({ ...record, type: Packet.TYPE.A, address } as DNS.Packet.Resource);
      if (wantsTxt)
        response.answers.push({ ...record, type: Packet.TYPE.TXT, data: region } as DNS.Packet.Resource);
    }
    send(response).catch((error: unknown) => log(`dns: cannot answer a query: ${String(error)}`));
  };

  const { udp, tcp, bound } = await bindBoth(host, port, handle);
  // dns2 keeps idle TCP connections for 10 s (RFC 7766): close cuts them instead of waiting.
  const connections = new Set<Socket>();
  (tcp as unknown as TcpServer).on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  udp.on('requestError', (error: Error) => log(`dns: bad query: ${error.message}`));
  tcp.on('requestError', (error: Error) => log(`dns: bad query: ${error.message}`));
  round(clock.now());

  let closing: Promise<void> | undefined;
  return {
    address: host,
    port: bound,
    name,
    servingRegion: choose,
    checks: () =>
      states.map((s) => ({
        region: s.region,
        healthy: s.healthy,
        consecutive_failures: s.failures,
        consecutive_successes: s.successes,
        ...(s.lastResult === undefined ? {} : { last_result: s.lastResult }),
        ...(s.checkedAt === undefined ? {} : { checked_at: new Date(s.checkedAt).toISOString() }),
      })),
    answerChanges: () => changes,
    close: () => {
      closing ??= (async () => {
        closed = true;
        cancelTimer?.();
        await inFlight;
        const server = tcp as unknown as TcpServer;
        const closedTcp = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of connections) socket.destroy();
        await Promise.allSettled([new Promise<void>((resolve) => udp.close(() => resolve())), closedTcp]);
      })();
      return closing;
    },
  };
}

/** One answer of the local DNS server, as a client sees it. */
interface DnsAnswer {
  /** 0 NOERROR, 3 NXDOMAIN, ... */
  readonly rcode: number;
  /** A records. */
  readonly addresses: readonly string[];
  /** TXT records, each joined into one string. */
  readonly texts: readonly string[];
}

/** Asks a DNS server (UDP) for `name`; for tests, the bench and the dashboard. */
export async function resolve(
  server: { readonly address: string; readonly port: number },
  name: string,
  type: 'A' | 'TXT' | 'ANY' = 'A',
  timeoutMs = 2_000,
): Promise<DnsAnswer> {
  const query = UDPClient({
    dns: server.address,
    port: server.port,
    timeout: timeoutMs,
    retryOverTCP: false,
  });
  const packet = await query(name, type);
  return {
    rcode: packet.header.rcode,
    addresses: packet.answers.flatMap((a) => (a.type === Packet.TYPE.A && a.address ? [a.address] : [])),
    texts: packet.answers.flatMap((a) => {
      if (a.type !== Packet.TYPE.TXT || a.data === undefined) return [];
      return [Array.isArray(a.data) ? a.data.join('') : String(a.data)];
    }),
  };
}

/** Seconds between two health checks of a region, as Route 53 is configured (lib/infra/dns-plan.ts). */
function dnsCheckIntervalSeconds(topology: Topology): number {
  return (
    topology.deployment.traffic_distribution?.health_check_interval_seconds ??
    topology.failover_policies.health_check.interval_seconds
  );
}

/** The order answers are taken in while healthy, per the deployment pattern. */
export function answerOrder(topology: Topology, clientRegion: string): string[] {
  const priority = byPriority(topology);
  if (topology.deployment.pattern === 'active-passive') {
    // The failover chain: PRIMARY is the active region, then the standbys by priority.
    const active = (id: string) => (topology.deployment.regions[id]?.role === 'active' ? 0 : 1);
    return [...priority].sort((a, b) => active(a) - active(b));
  }
  const rank = new Map(priority.map((id, i) => [id, i]));
  const latency = topology.latency.matrix[clientRegion] ?? {};
  return [...priority].sort(
    (a, b) =>
      (latency[a] ?? Number.POSITIVE_INFINITY) - (latency[b] ?? Number.POSITIVE_INFINITY) ||
      (rank.get(a) ?? 0) - (rank.get(b) ?? 0),
  );
}

/** Regions by failover_priority (0 first), topology order on ties. */
function byPriority(topology: Topology): string[] {
  const priorityOf = (id: string) =>
    topology.deployment.regions[id]?.failover_priority ?? Number.MAX_SAFE_INTEGER;
  return topology.regions.map((r) => r.region_id).sort((a, b) => priorityOf(a) - priorityOf(b));
}

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

type Handle = (request: Packet, send: (response: Packet) => Promise<Buffer>) => void;

/** UDP on `port` (0: ephemeral), then TCP on the port UDP got; an ephemeral pair is retried if TCP's is taken. */
async function bindBoth(
  host: string,
  port: number,
  handle: Handle,
): Promise<{ udp: UDPServer; tcp: TCPServer; bound: number }> {
  for (let attempt = 0; ; attempt++) {
    const udp = new UDPServer({ type: 'udp4' });
    udp.on('request', handle as Parameters<UDPServer['on']>[1]);
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, host, () => {
          udp.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      udp.close();
      throw new Error(bindMessage(error as NodeJS.ErrnoException, host, port, 'UDP'), { cause: error });
    }
    const bound = udp.address().port;
    const tcp = new TCPServer();
    tcp.on('request', handle as Parameters<TCPServer['on']>[1]);
    try {
      await new Promise<void>((resolve, reject) => {
        (tcp as unknown as TcpServer).once('error', reject);
        tcp.listen(bound, host, () => {
          (tcp as unknown as TcpServer).off('error', reject);
          resolve();
        });
      });
      return { udp, tcp, bound };
    } catch (error) {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      if (port === 0 && attempt < 5 && (error as NodeJS.ErrnoException).code === 'EADDRINUSE') continue;
      throw new Error(bindMessage(error as NodeJS.ErrnoException, host, bound, 'TCP'), { cause: error });
    }
  }
}

function bindMessage(error: NodeJS.ErrnoException, host: string, port: number, transport: string): string {
  const where = `${host}:${port}`;
  if (error.code === 'EADDRINUSE') {
    return `cannot bind the DNS server (${transport}) on ${where}: the port is already in use (choose another with --dns-port, or 0)`;
  }
  if (error.code === 'EACCES') {
    return `cannot bind the DNS server (${transport}) on ${where}: permission denied (ports below 1024 need privileges)`;
  }
  return `cannot bind the DNS server (${transport}) on ${where}: ${error.message}`;
}
