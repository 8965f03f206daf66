import { describe, expect, it } from 'vitest';
import {
  chooseWinner,
  copiesAgree,
  inFlight,
  reservationAccounting,
} from '../../lib/core/replication/consistency.ts';
import { ruleForRecord } from '../../lib/core/replication/data-types.ts';
import type { CopyReport } from '../../lib/core/replication/records.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';

const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';
const topology = validateTopology(defaultTopologyJson());

const copy = (checksum: string, write_time?: number, write_region?: string): CopyReport => ({
  present: true,
  checksum,
  ...(write_time === undefined ? {} : { write_time }),
  ...(write_region === undefined ? {} : { write_region }),
});
const missing: CopyReport = { present: false };

describe('record types map to the spec data types and their rules', () => {
  it('critical state is synchronous (primary wins, 1 s target), views asynchronous (last write wins, 30 s)', () => {
    expect(ruleForRecord(topology, 'region_status')).toMatchObject({
      data_type: 'master_state',
      strategy: 'synchronous',
      conflict_resolution: 'primary_wins',
      target_seconds: 1,
    });
    expect(ruleForRecord(topology, 'handoff')).toMatchObject({
      data_type: 'active_tasks',
      strategy: 'synchronous',
    });
    expect(ruleForRecord(topology, 'heartbeat')).toMatchObject({
      data_type: 'metrics',
      strategy: 'asynchronous',
      conflict_resolution: 'last_write_wins',
      target_seconds: 30,
    });
    expect(ruleForRecord(topology, 'document_slot')).toMatchObject({
      strategy: 'active_active',
      conflict_resolution: 'vector_clock',
    });
  });

  it('leaves record types nobody mapped unreconciled', () => {
    expect(ruleForRecord(topology, 'something_new')).toMatchObject({
      data_type: 'unclassified',
      conflict_resolution: undefined,
    });
    expect(ruleForRecord(topology, undefined).conflict_resolution).toBeUndefined();
  });
});

describe('consistency decisions', () => {
  it('agrees only when every readable copy has the same content (or is missing everywhere)', () => {
    expect(copiesAgree({ [US]: copy('a'), [EU]: copy('a') })).toBe(true);
    expect(copiesAgree({ [US]: missing, [EU]: missing })).toBe(true);
    expect(copiesAgree({ [US]: copy('a'), [EU]: missing })).toBe(false);
    expect(copiesAgree({ [US]: copy('a'), [EU]: copy('b') })).toBe(false);
  });

  it('holds back keys written within the settle window', () => {
    expect(inFlight({ [US]: copy('a', 1_000), [EU]: copy('b', 500) }, 20_000, 30_000)).toBe(true);
    expect(inFlight({ [US]: copy('a', 1_000), [EU]: missing }, 40_000, 30_000)).toBe(false);
  });

  it('primary_wins takes the primary copy, even its absence', () => {
    expect(
      chooseWinner({
        rule: 'primary_wins',
        copies: { [US]: missing, [EU]: copy('b') },
        primary: US,
        owner: undefined,
      }),
    ).toMatchObject({
      winner: US,
    });
    expect(
      chooseWinner({ rule: 'primary_wins', copies: { [EU]: copy('b') }, primary: US, owner: undefined }),
    ).toMatchObject({
      skipped: expect.stringMatching(/primary us-east-1's replica was not read/),
    });
  });

  // Invariant: a repair never lowers a region status slot's epoch: only its writer's copy is the truth.
  it('an item one region alone writes (a status slot) takes its owner copy, whatever the rule', () => {
    for (const rule of ['primary_wins', 'last_write_wins'] as const) {
      expect(
        chooseWinner({
          rule,
          copies: { [US]: copy('old', 900), [EU]: copy('new', 100) },
          primary: US,
          owner: EU,
        }),
      ).toMatchObject({ winner: EU });
      expect(chooseWinner({ rule, copies: { [US]: copy('a') }, primary: US, owner: EU })).toMatchObject({
        skipped: expect.stringMatching(/owner eu-west-1's replica was not read/),
      });
    }
  });

  it('last_write_wins takes the latest write; a tie of different contents goes to the writing region', () => {
    const newest = chooseWinner({
      rule: 'last_write_wins',
      copies: { [US]: copy('a', 100, US), [EU]: copy('b', 200, EU), [AP]: missing },
      primary: US,
      owner: undefined,
    });
    expect(newest).toMatchObject({ winner: EU });
    // A copy changed outside replication keeps the stamp of the write it came from.
    const corrupted = chooseWinner({
      rule: 'last_write_wins',
      copies: { [US]: copy('a', 100, US), [EU]: copy('x', 100, US), [AP]: copy('a', 100, US) },
      primary: US,
      owner: undefined,
    });
    expect(corrupted).toMatchObject({
      winner: US,
      reason: expect.stringMatching(/us-east-1 made the write/),
    });
    const byMajority = chooseWinner({
      rule: 'last_write_wins',
      copies: { [US]: copy('x', 100), [EU]: copy('a', 100), [AP]: copy('a', 100) },
      primary: US,
      owner: undefined,
    });
    // ap-south-1 and eu-west-1 hold the same content: the first in region order stands for it.
    expect(byMajority).toMatchObject({ winner: AP, reason: expect.stringMatching(/most replicas/) });
    expect(
      chooseWinner({
        rule: 'last_write_wins',
        copies: { [US]: copy('a'), [EU]: copy('b', 5) },
        primary: US,
        owner: undefined,
      }),
    ).toMatchObject({ skipped: expect.stringMatching(/no write time/) });
  });

  it('vector_clock takes the owner copy of a single-writer slot, and applies to documents only', () => {
    expect(
      chooseWinner({
        rule: 'vector_clock',
        copies: { [US]: copy('a'), [EU]: copy('b') },
        primary: US,
        owner: EU,
      }),
    ).toMatchObject({
      winner: EU,
    });
    expect(
      chooseWinner({ rule: 'vector_clock', copies: { [US]: copy('a') }, primary: US, owner: undefined }),
    ).toMatchObject({
      skipped: expect.stringMatching(/versioned documents only/),
    });
    expect(chooseWinner({ rule: undefined, copies: {}, primary: US, owner: undefined })).toMatchObject({
      skipped: 'no conflict rule for this data type',
    });
  });
});

describe('reservation accounting', () => {
  const hold = (id: string) => ({ id, by: 'us-east-1', handoff_id: `h-${id}` });
  const reservation = (id: string) => ({ region: 'eu-west-1', workers: 1, compute_units: 5, hold: hold(id) });
  const handoff = (id: string, status: string) => ({
    handoff_id: `h-${id}`,
    status,
    reservation: reservation(id),
  });
  const kept = (id: string, released_by?: string) => ({
    reservation: reservation(id),
    ...(released_by === undefined ? {} : { released_by }),
  });
  const pools = (workers: number) => [{ region: 'eu-west-1', held: { workers, compute_units: 5 * workers } }];

  // Invariant: what pools hold equals what open handoffs reserved, and a hold is held exactly while
  // an open handoff names it.
  it('matches when each open handoff holds its hold and every other hold is released', () => {
    const handoffs = [handoff('a', 'pending'), handoff('b', 'accepted'), handoff('c', 'completed')];
    const holds = [kept('a'), kept('b'), kept('c', 'eu-west-1'), kept('d', 'ap-south-1')];
    expect(reservationAccounting(pools(2), handoffs, holds)).toEqual([]);
  });

  it('names a pool whose held counters differ from the open reservations', () => {
    expect(reservationAccounting(pools(0), [handoff('a', 'redirected')])).toEqual([
      'eu-west-1 holds 0 worker(s) and 0 compute unit(s) for reservations; its 1 open handoff(s) reserved 1 and 5',
    ]);
  });

  it('names an open handoff whose hold is released or missing, and a held hold no open handoff names', () => {
    const handoffs = [handoff('a', 'pending'), handoff('b', 'pending'), handoff('c', 'failed')];
    expect(reservationAccounting(pools(2), handoffs, [kept('a', 'eu-west-1'), kept('c')])).toEqual([
      'open handoff h-a names hold us-east-1/a, released by eu-west-1',
      'open handoff h-b names hold us-east-1/b, which is missing',
      'hold us-east-1/c on eu-west-1 is held, but no open handoff names it (handoff h-c)',
    ]);
  });
});
