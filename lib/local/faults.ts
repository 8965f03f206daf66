/**
 * Fault injection for the local control plane (`POST /v1/sim/faults`): what is broken, per region,
 * and the questions every local piece asks of it.
 *
 * - `down`: the region's endpoint resets every connection, its scheduled rounds stop, and its
 *   replication links stop in both directions (a region outage).
 * - `errors`: its endpoint answers 500 `INJECTED_FAULT` to a fraction `rate` of requests.
 * - `slow`: its endpoint answers `latency_ms` simulated ms late.
 * - `partition`: the region and each of `peers` (default: every other region and witness) cannot
 *   reach each other, both directions: probes between them fail, replication between them stops,
 *   and the witness cannot write views into the region's replica. Route 53-like DNS health checks
 *   and external callers are outside the partition and still reach the region.
 * - `mcp_down`: the region's MCP servers named in `servers` stop answering their health endpoint
 *   (`/mcp/<server>/health` resets the connection); the region itself and its other servers answer.
 *
 * One fault per region and kind: posting a kind again replaces the region's previous one.
 */
import { type FieldIssue, NotFoundError, ValidationError } from '../core/errors.ts';
import type { Topology } from '../core/topology/types.ts';
import type { Clock } from '../ports.ts';

type FaultKind = 'down' | 'errors' | 'slow' | 'partition' | 'mcp_down';

export const FAULT_KINDS: readonly FaultKind[] = ['down', 'errors', 'slow', 'partition', 'mcp_down'];

/** An active fault, as `GET /v1/sim/faults` lists it. */
export interface Fault {
  /** A topology region, or a witness id (down and partition only: a witness has no endpoint). */
  readonly region: string;
  readonly kind: FaultKind;
  /** errors: fraction of requests answered 500, 0..1 (default 1). */
  readonly rate?: number;
  /** slow: extra simulated ms before each answer (default 1000). */
  readonly latency_ms?: number;
  /** partition: the members cut off from `region` (resolved: every other member when omitted). */
  readonly peers?: readonly string[];
  /** mcp_down: the region's MCP servers that stop answering (server names, e.g. `github`). */
  readonly servers?: readonly string[];
  /** ISO time (simulated) the fault was injected. */
  readonly since: string;
}

/** The replication links a fault can cut (lib/adapters/local/replication.ts). */
interface ReplicationLinks {
  pause(from: string, to: string): void;
  resume(from: string, to: string): void;
}

interface SimNetworkOptions {
  readonly topology: Topology;
  /** Stamps `since`; simulated time locally. */
  readonly clock: Clock;
  readonly replication?: ReplicationLinks;
}

const DEFAULT_ERROR_RATE = 1;
const DEFAULT_SLOW_LATENCY_MS = 1_000;
/** Ten simulated minutes: anything slower is a partition, not latency. */
const MAX_SLOW_LATENCY_MS = 600_000;

const FIELDS = new Set(['region', 'kind', 'rate', 'latency_ms', 'peers', 'servers']);
/** A server name as the MCP registry takes it (lib/core/mcp/registry.ts SERVER_NAME_PATTERN). */
const SERVER_NAME = /^[a-z][a-z0-9_-]{0,62}$/;

export class SimNetwork {
  readonly #regions: readonly string[];
  readonly #witnesses: readonly string[];
  readonly #members: ReadonlySet<string>;
  readonly #clock: Clock;
  /** region -> kind -> fault */
  readonly #faults = new Map<string, Map<FaultKind, Fault>>();
  /** Links this network paused, so a heal resumes only those (never one paused by someone else). */
  readonly #pausedLinks = new Set<string>();
  #replication: ReplicationLinks | undefined;
  readonly #downListeners: ((region: string) => void)[] = [];

  constructor(options: SimNetworkOptions) {
    this.#regions = options.topology.regions.map((r) => r.region_id);
    this.#witnesses = options.topology.witnesses.map((w) => w.witness_id);
    this.#members = new Set([...this.#regions, ...this.#witnesses]);
    this.#clock = options.clock;
    this.#replication = options.replication;
  }

  /** Regions and witnesses: every id a fault may name. */
  get members(): readonly string[] {
    return [...this.#regions, ...this.#witnesses];
  }

  /** Called with the region each `down` fault names, as it is injected. */
  onDown(listener: (region: string) => void): void {
    this.#downListeners.push(listener);
  }

  /** Connects the replication links (when they exist after the network) and applies current faults. */
  attachReplication(replication: ReplicationLinks): void {
    this.#replication = replication;
    this.#applyToReplication();
  }

  /**
   * Validates and injects one fault; replaces the region's fault of the same kind.
   * ValidationError names each bad field; NotFoundError for a region that is not in the topology.
   */
  inject(input: unknown): Fault {
    const fault = this.#parse(input);
    let byKind = this.#faults.get(fault.region);
    if (!byKind) {
      byKind = new Map();
      this.#faults.set(fault.region, byKind);
    }
    byKind.set(fault.kind, fault);
    this.#applyToReplication();
    if (fault.kind === 'down') for (const listener of this.#downListeners) listener(fault.region);
    return fault;
  }

  /** Active faults, by region (topology order) then kind. */
  list(): Fault[] {
    return this.members.flatMap((id) => {
      const byKind = this.#faults.get(id);
      return byKind ? FAULT_KINDS.flatMap((kind) => byKind.get(kind) ?? []) : [];
    });
  }

  /** Removes every fault (or only `region`'s) and resumes the links no remaining fault cuts; returns what was removed. */
  heal(region?: string): Fault[] {
    if (region !== undefined && !this.#members.has(region)) throw new NotFoundError('region', region);
    const removed = this.list().filter((f) => region === undefined || f.region === region);
    if (region === undefined) this.#faults.clear();
    else this.#faults.delete(region);
    this.#applyToReplication();
    return removed;
  }

  isDown(member: string): boolean {
    return this.#faults.get(member)?.has('down') ?? false;
  }

  /** A partition separates the two (either side's partition naming the other). */
  partitioned(a: string, b: string): boolean {
    if (a === b) return false;
    const cuts = (from: string, to: string) => this.#faults.get(from)?.get('partition')?.peers?.includes(to);
    return (cuts(a, b) || cuts(b, a)) ?? false;
  }

  /** `from` cannot reach `to` at all: either is down, or a partition separates them. */
  blocked(from: string, to: string): boolean {
    if (from === to) return this.isDown(from);
    return this.isDown(from) || this.isDown(to) || this.partitioned(from, to);
  }

  /** The region's MCP server does not answer its health endpoint (an `mcp_down` fault names it). */
  isMcpServerDown(region: string, server: string): boolean {
    return this.#faults.get(region)?.get('mcp_down')?.servers?.includes(server) ?? false;
  }

  /** Extra simulated ms the region's endpoint waits before answering (slow fault), else 0. */
  extraLatencyMs(region: string): number {
    return this.#faults.get(region)?.get('slow')?.latency_ms ?? 0;
  }

  /** Whether this request to the region's endpoint gets an injected 500; `random` returns 0..1. */
  failsRequest(region: string, random: () => number = Math.random): boolean {
    const rate = this.#faults.get(region)?.get('errors')?.rate;
    if (rate === undefined || rate <= 0) return false;
    return rate >= 1 || random() < rate;
  }

  #applyToReplication(): void {
    const replication = this.#replication;
    if (!replication) return;
    for (const from of this.#regions) {
      for (const to of this.#regions) {
        if (from === to) continue;
        const id = `${from}\u0000${to}`;
        const cut = this.blocked(from, to);
        if (cut && !this.#pausedLinks.has(id)) {
          replication.pause(from, to);
          this.#pausedLinks.add(id);
        } else if (!cut && this.#pausedLinks.has(id)) {
          replication.resume(from, to);
          this.#pausedLinks.delete(id);
        }
      }
    }
  }

  #parse(input: unknown): Fault {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new ValidationError('invalid fault', [{ field: '(body)', reason: 'expected a JSON object' }]);
    }
    const body = input as Record<string, unknown>;
    const issues: FieldIssue[] = [];
    for (const key of Object.keys(body)) {
      if (!FIELDS.has(key)) issues.push({ field: key, reason: `unknown field "${key}"` });
    }

    const kind = body.kind;
    if (kind === undefined) issues.push({ field: 'kind', reason: 'required' });
    else if (typeof kind !== 'string' || !(FAULT_KINDS as readonly string[]).includes(kind)) {
      issues.push({ field: 'kind', reason: `must be one of ${FAULT_KINDS.join(', ')}` });
    }
    const known = issues.some((i) => i.field === 'kind') ? undefined : (kind as FaultKind);

    const region = body.region;
    if (region === undefined) issues.push({ field: 'region', reason: 'required' });
    else if (typeof region !== 'string' || region === '') {
      issues.push({ field: 'region', reason: 'must be a region id' });
    }

    const onlyFor = (field: string, owner: FaultKind) => {
      if (body[field] !== undefined && known !== undefined && known !== owner) {
        issues.push({ field, reason: `applies only to kind ${owner}` });
      }
    };
    onlyFor('rate', 'errors');
    onlyFor('latency_ms', 'slow');
    onlyFor('peers', 'partition');
    onlyFor('servers', 'mcp_down');

    const rate = body.rate;
    if (rate !== undefined && (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0 || rate > 1)) {
      issues.push({ field: 'rate', reason: 'must be a number from 0 to 1' });
    }
    const latency = body.latency_ms;
    if (
      latency !== undefined &&
      (typeof latency !== 'number' ||
        !Number.isFinite(latency) ||
        latency < 0 ||
        latency > MAX_SLOW_LATENCY_MS)
    ) {
      issues.push({ field: 'latency_ms', reason: `must be a number of ms from 0 to ${MAX_SLOW_LATENCY_MS}` });
    }

    const regionId = typeof region === 'string' ? region : '';
    const peers = body.peers;
    if (peers !== undefined) {
      if (!Array.isArray(peers) || peers.length === 0) {
        issues.push({ field: 'peers', reason: 'must be a non-empty list of region or witness ids' });
      } else {
        const seen = new Set<string>();
        peers.forEach((peer, i) => {
          const field = `peers[${i}]`;
          if (typeof peer !== 'string') issues.push({ field, reason: 'must be a region or witness id' });
          else if (!this.#members.has(peer)) {
            issues.push({
              field,
              reason: `unknown region or witness "${peer}"; expected one of ${this.members.join(', ')}`,
            });
          } else if (peer === regionId)
            issues.push({ field, reason: 'a region cannot be partitioned from itself' });
          else if (seen.has(peer)) issues.push({ field, reason: `"${peer}" is listed twice` });
          else seen.add(peer);
        });
      }
    }

    const servers = body.servers;
    if (known === 'mcp_down' && servers === undefined) issues.push({ field: 'servers', reason: 'required' });
    if (servers !== undefined) {
      if (!Array.isArray(servers) || servers.length === 0) {
        issues.push({ field: 'servers', reason: 'must be a non-empty list of MCP server names' });
      } else {
        const seen = new Set<string>();
        servers.forEach((server, i) => {
          const field = `servers[${i}]`;
          if (typeof server !== 'string' || !SERVER_NAME.test(server)) {
            issues.push({ field, reason: 'must be an MCP server name (a-z, 0-9, _ and -)' });
          } else if (seen.has(server)) issues.push({ field, reason: `"${server}" is listed twice` });
          else seen.add(server);
        });
      }
    }

    if (issues.length > 0) throw new ValidationError('invalid fault', issues);
    if (!this.#members.has(regionId)) throw new NotFoundError('region', regionId);
    if (
      this.#witnesses.includes(regionId) &&
      (known === 'errors' || known === 'slow' || known === 'mcp_down')
    ) {
      throw new ValidationError('invalid fault', [
        {
          field: 'kind',
          reason: `${known} needs an endpoint; witness ${regionId} has none (use down or partition)`,
        },
      ]);
    }

    const since = new Date(this.#clock.now()).toISOString();
    const fault = { region: regionId, kind: known as FaultKind, since };
    switch (known) {
      case 'errors':
        return { ...fault, rate: (rate as number | undefined) ?? DEFAULT_ERROR_RATE };
      case 'slow':
        return { ...fault, latency_ms: (latency as number | undefined) ?? DEFAULT_SLOW_LATENCY_MS };
      case 'partition':
        return {
          ...fault,
          peers: (peers as string[] | undefined) ?? this.members.filter((m) => m !== regionId),
        };
      case 'mcp_down':
        return { ...fault, servers: servers as string[] };
      default:
        return fault;
    }
  }
}
