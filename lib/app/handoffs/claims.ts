/**
 * Settling duplicate claims. A router journals each handoff claim in its own
 * replica (ResourcesPort.recordClaim) before writing it. Where the claim was written in another
 * replica than the owner's (the owner was out of reach), two routers may each have created the task's
 * handoff; replication keeps one record everywhere (last writer wins) and the other router's claim is
 * gone. Each region reads back its own claims where it wrote them:
 *
 * - the record there carries another claim: ours lost (a replica replaces an item only with a newer
 *   write, so once the replica we wrote in holds another claim, it holds it for good): release what
 *   our claim reserved, once (the journal entry is removed conditionally first);
 * - the record is ours and has ended (completed, failed): its settlement released it; forget the claim;
 * - the record is missing (erased: the erasure released it; or never written): forget the claim;
 * - the record is ours and open: look again next round.
 *
 * Claims younger than CLAIM_SETTLE_MS are left alone: their route may still be on its way.
 */
import { isOpenHandoff } from '../../core/state/records.ts';
import type { HandoffClaim, Handoffs } from '../../ports.ts';
import type { RegionalDeps, WithState } from '../deps.ts';

/** Longer than any route takes between journaling a claim and writing it. */
const CLAIM_SETTLE_MS = 60_000;

interface ClaimsReport {
  /** Claims that lost to another claim of the same task: their reservations were released. */
  readonly released: readonly string[];
  /** Claims forgotten (won and ended, or the record is gone). */
  readonly forgotten: number;
  /** Claims still open (or whose replica was out of reach). */
  readonly open: number;
}

export async function settleClaims(deps: WithState<RegionalDeps, Handoffs>): Promise<ClaimsReport> {
  const { resources } = deps;
  if (!resources) return { released: [], forgotten: 0, open: 0 };
  const now = deps.clock.now();
  const released: string[] = [];
  let forgotten = 0;
  let open = 0;
  for (const claim of await resources.listClaims()) {
    if (now - Date.parse(claim.created_at) < CLAIM_SETTLE_MS) {
      open += 1;
      continue;
    }
    const outcome = await outcomeOf(deps, claim);
    if (outcome === 'open' || outcome === 'unknown') {
      open += 1;
      continue;
    }
    // Removing the journal entry first makes the release happen once, whoever else looks.
    if (!(await resources.dropClaim(claim.handoff_id, claim.claim_id))) continue;
    if (outcome === 'lost' && claim.reservation) {
      await resources.release(claim.reservation, -claim.reservation.tokens);
      released.push(claim.handoff_id);
    } else {
      forgotten += 1;
    }
  }
  return { released, forgotten, open };
}

async function outcomeOf(
  deps: WithState<RegionalDeps, Handoffs>,
  claim: HandoffClaim,
): Promise<'lost' | 'ended' | 'gone' | 'open' | 'unknown'> {
  const where =
    claim.claimed_in === deps.regionId || !deps.replica ? deps.state : deps.replica(claim.claimed_in);
  let record: Awaited<ReturnType<typeof where.getHandoff>>;
  try {
    record = await where.getHandoff(claim.handoff_id);
  } catch {
    return 'unknown';
  }
  if (!record) return 'gone';
  if (record.claim_id !== undefined && record.claim_id !== claim.claim_id) return 'lost';
  return isOpenHandoff(record.status) ? 'open' : 'ended';
}
