import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { HandoffClaim, ResourcesPort } from '../../lib/ports.ts';

/**
 * The claim journal of the ResourcesPort (`recordClaim`, `listClaims`, `dropClaim`): what a router
 * writes before it claims a task, so the probe round can release a claim that lost to another
 * (lib/app/handoffs/claims.ts). A suite of its own beside resources.contract.ts; every adapter's
 * test file runs it.
 */
export interface ClaimsFixture {
  /** A port on one store whose claims are `writer`'s (each region journals in its own partition). */
  resourcesAs(writer: string): ResourcesPort;
  /** Empties the store between tests. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export function claim(overrides: Partial<HandoffClaim> = {}): HandoffClaim {
  return {
    handoff_id: 'cross-region-task-1',
    claim_id: 'claim-a',
    claimed_in: 'eu-west-1',
    created_at: '2026-11-26T12:00:00Z',
    reservation: { region: 'eu-west-1', hour: '2026-11-26T12', workers: 1, tokens: 100, compute_units: 5 },
    ...overrides,
  };
}

const byHandoff = (claims: readonly HandoffClaim[]) =>
  [...claims].sort((a, b) => a.handoff_id.localeCompare(b.handoff_id));

export function claimsContract(name: string, setup: () => Promise<ClaimsFixture>): void {
  describe(`ResourcesPort claim journal contract: ${name}`, () => {
    let fixture: ClaimsFixture;
    let us: ResourcesPort;
    let eu: ResourcesPort;

    beforeEach(async () => {
      fixture ??= await setup();
      await fixture.reset();
      us = fixture.resourcesAs('us-east-1');
      eu = fixture.resourcesAs('eu-west-1');
    });
    afterAll(async () => {
      await fixture?.close();
    });

    it('answers an empty journal when nothing was claimed', async () => {
      expect(await us.listClaims()).toEqual([]);
    });

    it('records claims and lists them back whole, with or without a reservation', async () => {
      const unreserved = claim({ handoff_id: 'cross-region-task-2', claim_id: 'claim-b' });
      delete (unreserved as { reservation?: unknown }).reservation;
      await us.recordClaim(claim());
      await us.recordClaim(unreserved);
      expect(byHandoff(await us.listClaims())).toEqual([claim(), unreserved]);
    });

    // One entry per handoff and writer: a router that claims the same task again (a retried route
    // that claimed anew) keeps only its latest claim, whose reservation is the one still held.
    it('keeps one claim per handoff for a writer, the latest recorded', async () => {
      await us.recordClaim(claim());
      await us.recordClaim(claim({ claim_id: 'claim-b', created_at: '2026-11-26T12:00:05Z' }));
      expect(await us.listClaims()).toEqual([
        claim({ claim_id: 'claim-b', created_at: '2026-11-26T12:00:05Z' }),
      ]);
    });

    // Invariant: each region reads back and settles only its own claims (its journal is written in
    // its own replica only), even when two regions claimed the same task.
    it("lists each writer's claims only, the same handoff claimed by two writers included", async () => {
      await us.recordClaim(claim({ claim_id: 'claim-us', claimed_in: 'us-east-1' }));
      await eu.recordClaim(claim({ claim_id: 'claim-eu' }));
      await eu.recordClaim(claim({ handoff_id: 'cross-region-task-2', claim_id: 'claim-eu-2' }));
      expect(await us.listClaims()).toEqual([claim({ claim_id: 'claim-us', claimed_in: 'us-east-1' })]);
      expect(byHandoff(await eu.listClaims())).toEqual([
        claim({ claim_id: 'claim-eu' }),
        claim({ handoff_id: 'cross-region-task-2', claim_id: 'claim-eu-2' }),
      ]);
      expect(await fixture.resourcesAs('ap-south-1').listClaims()).toEqual([]);
    });

    // Invariant: a journal entry is removed only while it is still the claim that was judged, so a
    // newer claim of the same task is never forgotten (and its reservation never leaked).
    it('drops a claim only while its claim id still matches', async () => {
      await us.recordClaim(claim({ claim_id: 'claim-b' }));
      expect(await us.dropClaim('cross-region-task-1', 'claim-a')).toBe(false);
      expect(await us.listClaims()).toEqual([claim({ claim_id: 'claim-b' })]);
      expect(await us.dropClaim('cross-region-task-1', 'claim-b')).toBe(true);
      expect(await us.listClaims()).toEqual([]);
      expect(await us.dropClaim('cross-region-task-1', 'claim-b')).toBe(false);
      expect(await us.dropClaim('cross-region-none', 'claim-b')).toBe(false);
    });

    it("drops only the writer's own claim, leaving another writer's claim of the same handoff", async () => {
      await us.recordClaim(claim());
      await eu.recordClaim(claim());
      expect(await us.dropClaim('cross-region-task-1', 'claim-a')).toBe(true);
      expect(await us.listClaims()).toEqual([]);
      expect(await eu.listClaims()).toEqual([claim()]);
    });

    // Invariant: a lost claim's reservation is released once: of concurrent drops of one claim
    // (two rounds looking at once), exactly one removes it.
    it('lets exactly one of several concurrent drops of a claim remove it', async () => {
      await us.recordClaim(claim());
      const dropped = await Promise.all(
        Array.from({ length: 4 }, () => us.dropClaim('cross-region-task-1', 'claim-a')),
      );
      expect(dropped.filter(Boolean)).toHaveLength(1);
      expect(await us.listClaims()).toEqual([]);
    });
  });
}
