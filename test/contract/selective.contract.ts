import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, ValidationError } from '../../lib/core/errors.ts';
import type { SelectivePort } from '../../lib/ports.ts';

/**
 * A SelectivePort serving us-east-1 of the default topology: a knowledge-base table replicated
 * everywhere (`coordination/<team>/knowledge-base/<doc>`, mutable) and the US compliance table
 * (`coordination/compliance/<id>`, immutable, 2555 days), on a clock the test moves.
 */
export interface SelectiveFixture {
  readonly store: SelectivePort;
  /** Moves the store's clock by `ms`. */
  advance(ms: number): void;
  /** Empties the store between tests. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

const KB = (doc: string) => `coordination/team-1/knowledge-base/${doc}`;
const EVIDENCE = (id: string) => `coordination/compliance/${id}`;
const DAY_MS = 86_400_000;

/** The SelectivePort contract (STYLE 4): every adapter's test file runs this suite. */
export function selectiveContract(name: string, setup: () => Promise<SelectiveFixture>): void {
  describe(`SelectivePort contract: ${name}`, () => {
    let fixture: SelectiveFixture;
    let store: SelectivePort;

    beforeEach(async () => {
      fixture ??= await setup();
      await fixture.reset();
      store = fixture.store;
    });
    afterAll(async () => {
      await fixture?.close();
    });

    it('writes a key to its policy table, reads it back, replaces and deletes it where mutable', async () => {
      const written = await store.put(KB('a'), { v: 1 });
      expect(written).toMatchObject({
        key: KB('a'),
        policy_id: 'knowledge_base_replication',
        table: 'cortex-sel-knowledge_base_replication',
        region: 'us-east-1',
        value: { v: 1 },
      });
      expect(written.expires_at).toBeUndefined();
      expect(await store.get(KB('a'))).toEqual(written);
      await store.put(KB('a'), { v: 2 });
      expect((await store.get(KB('a')))?.value).toEqual({ v: 2 });
      expect(await store.delete(KB('a'))).toBe(true);
      expect(await store.get(KB('a'))).toBeUndefined();
      expect(await store.delete(KB('a'))).toBe(false);
    });

    it('writes an immutable record once: a rewrite and a delete conflict, carrying the stored record', async () => {
      const first = await store.put(EVIDENCE('e1'), { ok: true });
      expect(first.table).toBe('cortex-sel-compliance_data_replication-united_states');
      const rewrite = await store.put(EVIDENCE('e1'), { ok: false }).catch((e: unknown) => e);
      expect(rewrite).toBeInstanceOf(ConflictError);
      expect((rewrite as ConflictError).code).toBe('IMMUTABLE_RECORD');
      expect((rewrite as ConflictError).current).toEqual(first);
      const deleted = await store.delete(EVIDENCE('e1')).catch((e: unknown) => e);
      expect((deleted as ConflictError).code).toBe('IMMUTABLE_RECORD');
      expect(await store.get(EVIDENCE('e1'))).toEqual(first);
    });

    it('lets exactly one of two concurrent writers of an immutable key win', async () => {
      const results = await Promise.allSettled([
        store.put(EVIDENCE('race'), { writer: 'a' }),
        store.put(EVIDENCE('race'), { writer: 'b' }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(lost?.reason).toBeInstanceOf(ConflictError);
      const winner = results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<unknown>;
      expect(await store.get(EVIDENCE('race'))).toEqual(winner.value);
    });

    it('expires a record after its policy retention: absent to readers, listed to the audit, writable again', async () => {
      const written = await store.put(EVIDENCE('old'), { v: 1 });
      expect(written.expires_at).toBe(Math.floor(Date.parse(written.written_at) / 1000) + 2555 * 86_400);
      fixture.advance(2556 * DAY_MS);
      expect(await store.get(EVIDENCE('old'))).toBeUndefined();
      expect((await store.list('coordination/compliance/', 10)).records).toEqual([]);
      expect((await store.listRecords()).map((r) => r.key)).toContain(EVIDENCE('old'));
      expect((await store.put(EVIDENCE('old'), { v: 2 })).value).toEqual({ v: 2 });
    });

    it('lists keys under a prefix in key order across its tables, a page at a time', async () => {
      for (const key of [KB('c'), EVIDENCE('b'), KB('a'), KB('b')]) await store.put(key, {});
      const all = await store.list('coordination/', 10);
      expect(all.records.map((r) => r.key)).toEqual([EVIDENCE('b'), KB('a'), KB('b'), KB('c')]);
      expect(all.more).toBe(false);
      const first = await store.list('coordination/team-1/', 2);
      expect(first.records.map((r) => r.key)).toEqual([KB('a'), KB('b')]);
      expect(first.more).toBe(true);
      const next = await store.list('coordination/team-1/', 2, KB('b'));
      expect(next).toMatchObject({ more: false });
      expect(next.records.map((r) => r.key)).toEqual([KB('c')]);
      // A start before the prefix starts at the prefix; one after it leaves nothing.
      expect((await store.list('coordination/team-1/', 10, 'a')).records).toHaveLength(3);
      expect((await store.list('coordination/team-1/', 10, 'z')).records).toEqual([]);
    });

    it('refuses a key no policy places in this region, naming the key', async () => {
      for (const key of ['notes/unplaced', '']) {
        const error = await store.put(key, {}).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).details[0]?.field).toBe('key');
      }
      expect(await store.listRecords()).toEqual([]);
    });
  });
}
