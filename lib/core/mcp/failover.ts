/**
 * MCP failover: when a region fails over, its servers become unavailable, and each regional server
 * whose rule allows a move is taken over by the same kind of server in a target region where its
 * residency and compliance mode allow; a failback undoes it. Pure: answers the records to write.
 */
import { type DiscoveryContext, moveReasons } from './discovery.ts';
import type { McpServerRecord } from './registry.ts';

export interface McpMove {
  readonly server: string;
  readonly from: string;
  /** Where its work went; absent when nothing may take it. */
  readonly to?: string;
  readonly reasons: readonly string[];
}

interface McpFailoverPlan {
  /** Records to write (the failed region's servers and the counterparts that take over). */
  readonly writes: readonly McpServerRecord[];
  readonly moves: readonly McpMove[];
}

/** `failed`'s servers moved to the first of `targets` (in order) that may take each. */
export function planMcpFailover(
  failed: string,
  targets: readonly string[],
  servers: readonly McpServerRecord[],
  context: Pick<DiscoveryContext, 'topology' | 'frameworks'>,
  now: number,
): McpFailoverPlan {
  const at = new Date(now).toISOString();
  const writes = new Map<string, McpServerRecord>();
  const keyOf = (s: McpServerRecord) => `${s.region}#${s.server}`;
  const current = (s: McpServerRecord) => writes.get(keyOf(s)) ?? s;
  const moves: McpMove[] = [];
  for (const server of servers.filter((s) => s.region === failed)) {
    if (server.scope === 'global' || server.failover === 'none') {
      writes.set(keyOf(server), unavailable(server, `${failed} failed over`, at));
      moves.push({
        server: server.server,
        from: failed,
        reasons: [
          server.scope === 'global' ? 'global: discovery serves it from another region' : 'failover: none',
        ],
      });
      continue;
    }
    const reasons: string[] = [];
    let taken: McpServerRecord | undefined;
    for (const target of targets) {
      const counterpart = servers.find((s) => s.region === target && s.type === server.type);
      if (!counterpart) {
        reasons.push(`${target} runs no ${server.type} server`);
        continue;
      }
      const refused = moveReasons(server, counterpart, context);
      if (refused.length > 0) {
        reasons.push(...refused);
        continue;
      }
      taken = counterpart;
      break;
    }
    if (taken) {
      const before = current(taken);
      writes.set(keyOf(taken), {
        ...before,
        serving_for: [...new Set([...(before.serving_for ?? []), failed])],
        updated_at: at,
      });
      writes.set(keyOf(server), {
        ...unavailable(server, `${failed} failed over to ${taken.region}`, at),
        failed_over_to: taken.region,
      });
      moves.push({ server: server.server, from: failed, to: taken.region, reasons: [] });
    } else {
      writes.set(
        keyOf(server),
        unavailable(server, `${failed} failed over; no region may take ${server.server}`, at),
      );
      moves.push({ server: server.server, from: failed, reasons });
    }
  }
  return { writes: [...writes.values()], moves };
}

/** `region` back in service: its servers available again, nobody standing in for them. */
export function planMcpFailback(
  region: string,
  servers: readonly McpServerRecord[],
  now: number,
): McpServerRecord[] {
  const at = new Date(now).toISOString();
  const writes: McpServerRecord[] = [];
  for (const server of servers) {
    if (server.region === region && server.status !== 'available') {
      const { reason: _r, failed_over_to: _f, ...rest } = server;
      writes.push({ ...rest, status: 'available', updated_at: at });
    } else if (server.serving_for?.includes(region)) {
      const rest = server.serving_for.filter((r) => r !== region);
      const { serving_for: _s, ...record } = server;
      writes.push({ ...record, ...(rest.length > 0 ? { serving_for: rest } : {}), updated_at: at });
    }
  }
  return writes;
}

function unavailable(server: McpServerRecord, reason: string, at: string): McpServerRecord {
  const { failed_over_to: _f, ...rest } = server;
  return { ...rest, status: 'unavailable', reason, updated_at: at };
}
