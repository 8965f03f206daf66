/**
 * Versioned documents on the local runtime: concurrent updates in two regions are both kept after
 * replication (siblings, with an event), never one silently overwriting the other as last-writer-wins
 * would; a write based on a stale version is detected at once; a merge resolves the siblings everywhere.
 */
import { describe, expect, it } from 'vitest';
import { runReplicationRound } from '../../lib/app/replication/monitor.ts';
import { getDocument, mergeDocument, putDocument } from '../../lib/app/replication/versioned-store.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../lib/core/errors.ts';
import { useManualRuntime } from '../support/manual-time.ts';

const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';

const local = useManualRuntime('cortex-replication-docs-');
const { deps, tick } = local;

const conflictEvents = () =>
  local.runtime.events
    .list()
    .map((e) => e.event)
    .filter((e) => e.type === 'replication.conflict_detected');

describe('versioned documents', () => {
  it('keeps both of two concurrent updates in two regions as siblings, detected after replication', async () => {
    await putDocument(deps(US), 'routing-notes', { content: { owner: 'ops' } });
    await tick(1_000);
    const base = await getDocument(deps(EU), 'routing-notes');
    expect(base).toMatchObject({ conflict: false, content: { owner: 'ops' }, version: { [US]: 1 } });

    // Both regions update before either sees the other's write (the replication lag).
    const inUs = await putDocument(deps(US), 'routing-notes', {
      content: { owner: 'us-team' },
      version: base.version,
    });
    const inEu = await putDocument(deps(EU), 'routing-notes', {
      content: { owner: 'eu-team' },
      version: base.version,
    });
    expect(inUs).toMatchObject({ stale: false, document: { conflict: false, version: { [US]: 2 } } });
    expect(inEu).toMatchObject({
      stale: false,
      document: { conflict: false, version: { [EU]: 1, [US]: 1 } },
    });
    expect(conflictEvents()).toEqual([]);

    await tick(1_000);
    // A global table would keep one of them (last writer wins); here every region keeps both.
    for (const region of [US, EU, AP]) {
      const seen = await getDocument(deps(region), 'routing-notes');
      expect(seen.conflict).toBe(true);
      expect(seen.content).toBeUndefined();
      expect(
        seen.siblings
          .map((s) => s.content)
          .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      ).toEqual([{ owner: 'eu-team' }, { owner: 'us-team' }]);
      expect(seen.version).toEqual({ [EU]: 1, [US]: 2 });
    }
    // Detected with an event, once per replica that saw it; every region names the same conflict.
    const events = conflictEvents();
    expect(events.map((e) => e.source_region).sort()).toEqual([AP, EU, US].sort());
    expect(new Set(events.map((e) => e.detail.conflict_id)).size).toBe(1);
    expect(events[0]?.detail).toMatchObject({ key: 'routing-notes', kind: 'concurrent_writes' });
    await getDocument(deps(US), 'routing-notes');
    expect(conflictEvents()).toHaveLength(3);
    expect(await deps(US).documents.listConflicts('routing-notes')).toHaveLength(1);
  });

  it('finds a conflict in the monitor scan without anyone reading the document', async () => {
    await putDocument(deps(US), 'kb-entry', { content: 'a' });
    await putDocument(deps(AP), 'kb-entry', { content: 'b' });
    await tick(1_000);
    const round = await runReplicationRound(deps(EU), { intervalMs: 5_000 });
    expect(round.conflicts).toEqual(['kb-entry']);
    expect(conflictEvents().map((e) => e.source_region)).toEqual([EU]);
    // The next round has nothing new to say.
    expect((await runReplicationRound(deps(EU), { intervalMs: 5_000 })).conflicts).toEqual([]);
  });

  it('detects a write based on a stale version at once, in the writing region', async () => {
    await putDocument(deps(US), 'limits', { content: { max: 1 } });
    const first = await getDocument(deps(US), 'limits');
    await putDocument(deps(US), 'limits', { content: { max: 2 }, version: first.version });
    // A client that read before the second write sends its old version.
    const stale = await putDocument(deps(US), 'limits', { content: { max: 3 }, version: first.version });
    expect(stale.stale).toBe(true);
    expect(stale.document.conflict).toBe(true);
    expect(stale.document.siblings.map((s) => s.content)).toEqual(
      expect.arrayContaining([{ max: 2 }, { max: 3 }]),
    );
    expect(conflictEvents().map((e) => e.detail.kind)).toEqual(['stale_write']);
    expect(stale.conflict_id).toBe(conflictEvents()[0]?.detail.conflict_id);
  });

  it('a merge that saw every sibling resolves them in every region; one that did not is refused', async () => {
    await putDocument(deps(US), 'plan', { content: 'us' });
    await putDocument(deps(EU), 'plan', { content: 'eu' });
    await tick(1_000);
    const conflicted = await getDocument(deps(EU), 'plan');
    expect(conflicted.siblings).toHaveLength(2);

    await expect(
      mergeDocument(deps(EU), 'plan', { content: 'x', version: { [EU]: 1 } }),
    ).rejects.toMatchObject({
      code: 'MERGE_CONTEXT_STALE',
    });
    const merged = await mergeDocument(deps(EU), 'plan', { content: 'us+eu', version: conflicted.version });
    expect(merged).toMatchObject({ conflict: false, content: 'us+eu', version: { [EU]: 2, [US]: 1 } });
    await tick(1_000);
    for (const region of [US, EU, AP]) {
      expect(await getDocument(deps(region), 'plan')).toMatchObject({ conflict: false, content: 'us+eu' });
    }
    // And the next write anywhere goes on from the merge.
    const next = await putDocument(deps(AP), 'plan', { content: 'later' });
    expect(next.document).toMatchObject({ conflict: false, version: { [AP]: 1, [EU]: 2, [US]: 1 } });
  });

  it('rejects bad keys and content and answers not found for a document nobody wrote', async () => {
    await expect(getDocument(deps(US), 'nothing-here')).rejects.toBeInstanceOf(NotFoundError);
    await expect(putDocument(deps(US), 'bad key!', { content: 1 })).rejects.toBeInstanceOf(ValidationError);
    await expect(putDocument(deps(US), 'big', { content: 'x'.repeat(40_000) })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(mergeDocument(deps(US), 'nothing-here', { content: 1, version: {} })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect(ConflictError).toBeDefined();
  });
});
