import { hash as digest } from 'node:crypto';
import {
  ConflictError,
  type FieldIssue,
  NoEligibleRegionError,
  RegionNotServingError,
  ValidationError,
} from '../core/errors.ts';
import { isIsoCountry } from '../core/geo/countries.ts';
import { measuredOverrides, tunnelOverrides } from '../core/latency/stats.ts';
import { holdRef, isSameHold, type Reservation } from '../core/resources/pool.ts';
import {
  decideRoute,
  normalizeFramework,
  type RouteDecision,
  type RouteInput,
  type RouteOptions,
  type TaskRequirements,
} from '../core/routing.ts';
import { taskOwner } from '../core/state/handoff-owner.ts';
import { type Handoff, isServing } from '../core/state/records.ts';
import { expandResidency, normalizeCountryCode } from '../core/topology/residency.ts';
import { CAPABILITIES, COMPLIANCE_FRAMEWORKS } from '../core/topology/types.ts';
import type { Handoffs, HealthViews, Heartbeats, RegionStatuses } from '../ports.ts';
import type { Ports, RegionBasics, WithState } from './deps.ts';
import { readEffectiveMatrix } from './latency/matrix.ts';
import { catchingUp, defaultStatus, readStatuses } from './live-state.ts';
import { cancelReservation, decideAndReserve } from './resources/accounting.ts';
import { spreadOption } from './resources/weights.ts';

export interface RouteRequest {
  readonly task_id: string;
  readonly priority?: 'low' | 'normal' | 'high' | 'critical';
  readonly subject_id?: string;
  readonly legal_hold?: { readonly basis: string; readonly reason: string };
  readonly source?: { readonly region?: string; readonly country?: string };
  readonly requirements?: TaskRequirements;
}

interface RouteResponse {
  readonly task_id: string;
  readonly region: string;
  readonly score: number;
  readonly candidates: Handoff['decision']['candidates'];
  readonly excluded: Handoff['decision']['excluded'];
  readonly handoff: Omit<Handoff, 'decision' | 'request_hash' | 'task'>;
}

const handoffIdFor = (taskId: string) => `cross-region-${taskId}`;

/**
 * What routing uses: the basics and the ports it reads, each when wired (the router function is
 * wired with every one: FUNCTION_PORTS); without one it still has a real answer (capacity from the
 * topology without a pool, latency from the mesh and the topology without the matrix, the claim in
 * this replica without the others). Of the shared state: statuses, the health views and heartbeats
 * that say whether this replica is catching up, and the handoffs.
 */
export type RouteDeps = WithState<
  RegionBasics & Partial<Pick<Ports, 'deployment' | 'compliance' | 'latency' | 'resources' | 'replica'>>,
  RegionStatuses & Handoffs & HealthViews & Heartbeats
>;

/**
 * Checks the request against the topology (the schema has already checked shapes) and resolves
 * the source. Every problem is reported at once, naming its field.
 */
export function resolveRouteInput(
  deps: Pick<RegionBasics, 'regionId' | 'topology'>,
  request: RouteRequest,
): RouteInput {
  const { topology } = deps;
  const issues: FieldIssue[] = [];
  const regionIds = new Set(topology.regions.map((r) => r.region_id));
  let source: RouteInput['source'] = { region: deps.regionId };
  const src = request.source;
  if (src) {
    if ((src.region === undefined) === (src.country === undefined)) {
      issues.push({ field: 'source', reason: 'give exactly one of region or country' });
    } else if (src.region !== undefined) {
      if (!regionIds.has(src.region)) {
        issues.push({
          field: 'source.region',
          reason: `unknown region "${src.region}"; known: ${[...regionIds].join(', ')}`,
        });
      } else {
        source = { region: src.region };
      }
    } else if (src.country !== undefined) {
      const country = normalizeCountryCode(src.country);
      if (!isIsoCountry(country)) {
        issues.push({
          field: 'source.country',
          reason: `"${src.country}" is not an ISO 3166-1 alpha-2 country code`,
        });
      } else {
        source = { country };
      }
    }
  }
  const req = request.requirements ?? {};
  (req.compliance ?? []).forEach((name, i) => {
    const framework = normalizeFramework(name);
    if (!(COMPLIANCE_FRAMEWORKS as readonly string[]).includes(framework)) {
      issues.push({
        field: `requirements.compliance[${i}]`,
        reason: `unknown compliance framework "${name}"; known: ${COMPLIANCE_FRAMEWORKS.join(', ')}`,
      });
    }
  });
  (req.capabilities ?? []).forEach((name, i) => {
    if (!(CAPABILITIES as readonly string[]).includes(name)) {
      issues.push({
        field: `requirements.capabilities[${i}]`,
        reason: `unknown capability "${name}"; known: ${CAPABILITIES.join(', ')}`,
      });
    }
  });
  if (req.data_residency !== undefined && expandResidency(topology, req.data_residency) === undefined) {
    issues.push({
      field: 'requirements.data_residency',
      reason: `"${req.data_residency}" is neither an ISO 3166-1 alpha-2 code nor a group of the topology (${Object.keys(
        topology.country_groups,
      ).join(', ')})`,
    });
  }
  if (issues.length > 0) throw new ValidationError('invalid route request', issues);
  return {
    task_id: request.task_id,
    source,
    requirements: req,
    ...(request.priority === undefined ? {} : { priority: request.priority }),
  };
}

/** The router's options from the deps: the deployment facts the compliance rules check. */
export function routeOptions(deps: Pick<RouteDeps, 'deployment'>): RouteOptions {
  return deps.deployment === undefined ? {} : { deployment: deps.deployment };
}

/**
 * The sampler's fresh figures from this region's replica, and for every other pair the declared
 * latency of its mesh path; without a latency store, or when it cannot be read, the mesh paths
 * alone. A pair with neither uses the topology's static matrix (each candidate says which it used).
 */
async function measuredLatency(
  deps: Omit<RouteDeps, 'state'>,
): Promise<Pick<RouteOptions, 'latency' | 'tunnelLatency'>> {
  const matrix = await readEffectiveMatrix(deps);
  return { latency: measuredOverrides(matrix), tunnelLatency: tunnelOverrides(matrix) };
}

/**
 * Records the use of the task's approval when the chosen region is reachable only through it
 * (before the handoff: a transfer is never recorded without its approval). Idempotent per task.
 */
async function recordApprovalUse(
  deps: Omit<RouteDeps, 'state'>,
  input: RouteInput,
  decision: RouteDecision,
  region: string,
): Promise<void> {
  const use = decision.approvals.find((a) => a.region === region);
  const ref = input.requirements.approval_ref;
  if (!use || ref === undefined) return;
  if (!deps.compliance) throw new Error('no compliance store to record the approval in (deps.compliance)');
  const req = input.requirements;
  await deps.compliance.recordApproval({
    approval_ref: ref,
    use_id: `route:${input.task_id}`,
    task_id: input.task_id,
    data_classification: req.data_classification ?? 'internal',
    user_location:
      'country' in input.source
        ? input.source.country
        : (req.data_residency ?? `region ${input.source.region}`),
    jurisdictions: use.jurisdictions,
    target_region: region,
    recorded_at: new Date(deps.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    recorded_by: deps.regionId,
  });
}

/** Canonical JSON (sorted keys) so the same request hashes the same whatever its key order. */
export function requestHash(request: RouteRequest): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.keys(value)
          .sort()
          .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
      );
    }
    return value;
  };
  // One-shot hashing: a Hash object per route cost more than the SHA-256 itself.
  return digest('sha256', JSON.stringify(canonical(request)), 'hex');
}

function toResponse(handoff: Handoff): RouteResponse {
  const { decision, request_hash: _hash, task: _task, ...record } = handoff;
  return {
    task_id: handoff.task_id,
    region: handoff.target_region,
    score: handoff.routing_score,
    candidates: decision.candidates,
    excluded: decision.excluded,
    handoff: record,
  };
}

function replay(existing: Handoff, hash: string): RouteResponse {
  if (existing.request_hash !== hash) {
    throw new ConflictError(
      'TASK_ID_REUSED',
      `task ${existing.task_id} was already routed with a different request; use a new task_id`,
    );
  }
  return toResponse(existing);
}

/** The replica holding the task's claim: its owner's, when this region reaches it. */
function claimReplica(deps: RouteDeps, owner: string): Handoffs {
  return owner === deps.regionId || !deps.replica ? deps.state : deps.replica(owner);
}

/** The task's handoff as the owner's replica holds it, or this replica when the owner is out of reach. */
async function readClaim(deps: RouteDeps, owner: string, handoffId: string): Promise<Handoff | undefined> {
  const remote = claimReplica(deps, owner);
  if (remote !== deps.state) {
    try {
      const found = await remote.getHandoff(handoffId);
      if (found) return found;
    } catch {
      // Out of reach: this replica answers (what it holds may be behind).
    }
  }
  return deps.state.getHandoff(handoffId);
}

/**
 * Routes a task and records its handoff with one conditional write. Idempotent per task_id: the
 * same request answers the recorded decision; a different request with the same id is a conflict.
 *
 * One decision per task, whichever region is asked: the handoff is created in the task's
 * owner region's replica (lib/core/state/handoff-owner.ts), so every router's conditional write for
 * one task meets the same condition; and the claim is journaled in this region's replica before it
 * is written. When the owner is out of reach the router claims in its own replica, and a duplicate
 * can then slip through; replication keeps one of the two records, and the loser's router finds its
 * claim gone from its journal's replica and releases what it reserved (lib/app/handoffs/claims.ts).
 */
export async function routeTask(deps: RouteDeps, request: RouteRequest): Promise<RouteResponse> {
  const { topology, state, clock, regionId } = deps;
  const input = resolveRouteInput(deps, request);
  const hash = requestHash(request);
  const handoffId = handoffIdFor(request.task_id);
  const owner = taskOwner(
    topology.regions.map((r) => r.region_id),
    request.task_id,
  );

  const existing = await readClaim(deps, owner, handoffId);
  if (existing) return replay(existing, hash);

  const statuses = await readStatuses(topology, state);
  const own = statuses.get(regionId) ?? defaultStatus(topology, regionId);
  // A fenced, draining or failed region must not place work: its view of the others may be stale.
  if (!isServing(own.status)) throw new RegionNotServingError(regionId, own.status);
  // Back from an outage: the others may have failed it over, which its replica may not show yet.
  const behind = await catchingUp(deps, statuses);
  if (behind !== undefined) throw new RegionNotServingError(regionId, behind);

  const options: RouteOptions = {
    ...routeOptions(deps),
    ...(await measuredLatency(deps)),
    ...spreadOption(topology, statuses),
  };
  // Live usage from the resource pool; the chosen region's share is reserved before the handoff.
  const { decision, reservation } = await decideAndReserve(
    deps,
    input,
    statuses,
    (live) => decideRoute(topology, input, live, options),
    // Two different requests for one task in the same millisecond get two holds.
    (region, now) => holdRef(handoffId, region, regionId, now, hash.slice(0, 12)),
  );
  if (decision.region === undefined || decision.score === undefined) {
    throw new NoEligibleRegionError(decision.excluded);
  }
  try {
    await recordApprovalUse(deps, input, decision, decision.region);
  } catch (error) {
    // No handoff will hold the reservation: give it back.
    await cancelReservation(deps, reservation);
    throw error;
  }
  const now = clock.now();
  const createdAt = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const claimId = `${regionId}@${now}`;
  const handoff: Handoff = {
    handoff_id: handoffId,
    task_id: request.task_id,
    source_region: 'region' in input.source ? input.source.region : regionId,
    target_region: decision.region,
    routing_score: decision.score,
    status: 'pending',
    created_at: createdAt,
    owner_region: owner,
    claimed_in: owner,
    claim_id: claimId,
    task: { ...request },
    request_hash: hash,
    decision: { candidates: decision.candidates, excluded: decision.excluded },
    ...(reservation ? { reservation } : {}),
  };
  const journal = async (claimedIn: string) =>
    deps.resources?.recordClaim({
      handoff_id: handoffId,
      claim_id: claimId,
      claimed_in: claimedIn,
      created_at: createdAt,
      ...(reservation ? { reservation } : {}),
    });
  // Nothing recorded will hold the reservation: forget the claim, then give the reservation back,
  // unless the record that won names its very hold (an identical request of this region in the
  // same millisecond reserved under the same hold, counted once).
  let withdrawn = false;
  const withdraw = async (winner?: Handoff) => {
    if (withdrawn) return;
    withdrawn = true;
    await deps.resources?.dropClaim(handoffId, claimId);
    const kept = (winner as { reservation?: Reservation } | undefined)?.reservation?.hold;
    if (!isSameHold(kept, reservation?.hold)) await cancelReservation(deps, reservation);
  };
  const create = async (where: Handoffs, claimedIn: string): Promise<RouteResponse> => {
    const record = { ...handoff, claimed_in: claimedIn };
    try {
      await where.createHandoff(record);
    } catch (error) {
      if (error instanceof ConflictError && error.current) {
        // Another request for the same task won the conditional write between our read and write.
        await withdraw(error.current as Handoff);
        return replay(error.current as Handoff, hash);
      }
      throw error;
    }
    return toResponse(record);
  };
  try {
    await journal(owner);
    const ownerState = claimReplica(deps, owner);
    if (ownerState === state) return await create(state, regionId === owner ? owner : regionId);
    try {
      const answer = await create(ownerState, owner);
      // The same record in this region's replica too, so whoever asked reads it back here at once
      // (read-your-writes); the same claim, so replication of either copy changes nothing.
      if (answer.handoff.claimed_in === owner && !withdrawn) {
        // Best effort: the claim stands in the owner's replica whatever happens here.
        await state.createHandoff({ ...handoff, claimed_in: owner }).catch(() => undefined);
      }
      return answer;
    } catch (error) {
      if (error instanceof ConflictError) throw error;
      // The owner is out of reach: claim in this replica (a duplicate may slip through; see above).
      await journal(regionId);
      return await create(state, regionId);
    }
  } catch (error) {
    await withdraw();
    throw error;
  }
}
