import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  dueAt,
  erasureDecision,
  grantedRight,
  isOverdue,
  jurisdictionsOf,
  legalHoldOf,
  needsProcessing,
  ownerOf,
  PROCESSING_LEASE_MS,
  regionsToSearch,
  SUBJECT_ID_PATTERN,
  statusAfter,
} from '../../lib/core/privacy/rules.ts';
import {
  ERASURE_EXCEPTIONS,
  type PrivacyRequestRecord,
  type RegionProof,
} from '../../lib/core/privacy/types.ts';
import type { RegionStatus } from '../../lib/core/state/records.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';

const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';
const TOPOLOGY = validateTopology(defaultTopologyJson());
const NOW = Date.parse('2026-11-26T12:00:00Z');

/** The default topology with a second European region whose GDPR policy is stricter. */
function withSecondEuRegion(days: number, exceptions: readonly string[]): Topology {
  const eu = TOPOLOGY.regions.find((r) => r.region_id === EU);
  const policy = TOPOLOGY.regional_compliance[EU];
  if (!eu || !policy?.individual_rights) throw new Error('fixture: eu-west-1 has no GDPR policy');
  return {
    ...TOPOLOGY,
    regions: [...TOPOLOGY.regions, { ...eu, region_id: 'eu-central-1' }],
    regional_compliance: {
      ...TOPOLOGY.regional_compliance,
      'eu-central-1': {
        ...policy,
        individual_rights: {
          ...policy.individual_rights,
          access: { max_response_days: days, format: 'structured' },
          erasure: { max_response_days: days, exceptions },
        },
      },
    },
  };
}

function proof(region: string, outcome: RegionProof['outcome']): RegionProof {
  return { region, outcome, at: '2026-11-26T12:00:00Z', attempts: 1, found: [], records: [] };
}

function request(overrides: Partial<PrivacyRequestRecord> = {}): PrivacyRequestRecord {
  return {
    request_id: 'dsr-00000000-0000-4000-8000-000000000001',
    type: 'erasure',
    subject_id: 'user-1',
    jurisdiction: 'european_union',
    received_in: EU,
    status: 'partially_completed',
    created_at: '2026-11-26T12:00:00Z',
    due_at: '2026-12-26T12:00:00Z',
    right: { max_response_days: 30, exceptions: ['legal_obligation'], policy_regions: [EU] },
    regions: {},
    updated_at: '2026-11-26T12:00:00Z',
    version: 2,
    ...overrides,
  };
}

describe('the rights a jurisdiction grants', () => {
  it('GDPR in the spec: access, erasure and portability within 30 days, erasure with its two exceptions', () => {
    expect(grantedRight(TOPOLOGY, 'european_union', 'access')).toEqual({
      granted: true,
      right: { max_response_days: 30, format: 'structured', exceptions: [], policy_regions: [EU] },
    });
    expect(grantedRight(TOPOLOGY, 'european_union', 'portability')).toMatchObject({
      granted: true,
      right: { max_response_days: 30, format: 'machine_readable' },
    });
    expect(grantedRight(TOPOLOGY, 'european_union', 'erasure')).toMatchObject({
      granted: true,
      right: { max_response_days: 30, exceptions: ['legal_obligation', 'public_interest'] },
    });
  });

  it('a jurisdiction without individual_rights grants none, and says which policy lacks it', () => {
    expect(grantedRight(TOPOLOGY, 'united_states', 'erasure')).toEqual({
      granted: false,
      problem: 'not_granted',
      reason: 'the united_states policy (us-east-1) has no individual_rights.erasure',
    });
  });

  it('an unknown jurisdiction is reported with the known ones', () => {
    expect(jurisdictionsOf(TOPOLOGY)).toEqual(['european_union', 'india', 'united_states']);
    expect(grantedRight(TOPOLOGY, 'atlantis', 'access')).toEqual({
      granted: false,
      problem: 'unknown_jurisdiction',
      known: ['european_union', 'india', 'united_states'],
    });
  });

  it('regions sharing a jurisdiction: the shortest deadline, and only the exceptions every policy lists', () => {
    const two = withSecondEuRegion(20, ['legal_obligation']);
    expect(grantedRight(two, 'european_union', 'erasure')).toEqual({
      granted: true,
      right: {
        max_response_days: 20,
        exceptions: ['legal_obligation'],
        policy_regions: [EU, 'eu-central-1'],
      },
    });
  });

  it('the answer is due max_response_days whole days after the request', () => {
    expect(dueAt(NOW, 30)).toBe('2026-12-26T12:00:00Z');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4e12 }), fc.integer({ min: 1, max: 3650 }), (at, days) => {
        const due = Date.parse(dueAt(at, days));
        return due - Math.floor(at / 1000) * 1000 === days * 86_400_000;
      }),
    );
  });
});

describe('the subject and the legal hold a task carries', () => {
  it('takes a subject id the router and the privacy requests accept, and task.legal_hold; anything malformed is absent', () => {
    expect(SUBJECT_ID_PATTERN.test('user-1@example.com')).toBe(true);
    expect(SUBJECT_ID_PATTERN.test('has space')).toBe(false);
    expect(
      legalHoldOf({ legal_hold: { basis: 'legal_obligation', reason: 'tax records, 10 years' } }),
    ).toEqual({
      basis: 'legal_obligation',
      reason: 'tax records, 10 years',
    });
    expect(legalHoldOf({ legal_hold: { basis: 'because', reason: 'x' } })).toBeUndefined();
    expect(legalHoldOf({ legal_hold: { basis: 'legal_obligation', reason: ' ' } })).toBeUndefined();
    expect(legalHoldOf({ legal_hold: true })).toBeUndefined();
  });
});

describe('erasure decisions', () => {
  const hold = (basis: string) => ({ legal_hold: { basis, reason: 'invoice retained under tax law' } });

  it('erases a record without a hold', () => {
    expect(erasureDecision({ task_id: 't' }, ['legal_obligation'])).toEqual({ erase: true });
  });

  it('keeps a record under a hold whose basis the jurisdiction lists, naming the exception and why', () => {
    expect(erasureDecision(hold('legal_obligation'), ['legal_obligation', 'public_interest'])).toEqual({
      erase: false,
      exception: 'legal_obligation',
      reason: 'invoice retained under tax law',
    });
  });

  it('erases despite a hold the jurisdiction does not recognize, and says so', () => {
    expect(erasureDecision(hold('public_interest'), ['legal_obligation'])).toEqual({
      erase: true,
      note: 'legal hold on public_interest ignored: not an erasure exception of this jurisdiction',
    });
  });

  it('never erases a record whose hold basis is listed (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ERASURE_EXCEPTIONS),
        fc.subarray([...ERASURE_EXCEPTIONS]),
        fc.string({ minLength: 1 }).filter((s) => s.trim() !== ''),
        (basis, listed, reason) => {
          const decision = erasureDecision({ legal_hold: { basis, reason } }, listed);
          return decision.erase === !listed.includes(basis);
        },
      ),
    );
  });
});

describe('request status and ownership', () => {
  const regions = [US, EU, AP];

  it('is completed once every region was searched, partially completed while one is unreachable', () => {
    const partial = {
      [US]: proof(US, 'searched'),
      [EU]: proof(EU, 'searched'),
      [AP]: proof(AP, 'unreachable'),
    };
    expect(regionsToSearch(regions, partial)).toEqual([AP]);
    expect(statusAfter(regions, partial)).toBe('partially_completed');
    expect(statusAfter(regions, { ...partial, [AP]: proof(AP, 'searched') })).toBe('completed');
    expect(regionsToSearch(regions, {})).toEqual(regions);
  });

  it('is overdue only after its due time and while not finished', () => {
    const due = Date.parse('2026-12-26T12:00:00Z');
    expect(isOverdue(request(), due)).toBe(false);
    expect(isOverdue(request(), due + 1)).toBe(true);
    expect(isOverdue(request({ status: 'completed' }), due + 1)).toBe(false);
    expect(isOverdue(request({ status: 'rejected' }), due + 1)).toBe(false);
  });

  it('a processing claim is respected until its lease runs out', () => {
    const claimed = request({ status: 'processing', updated_at: '2026-11-26T12:00:00Z' });
    expect(needsProcessing(claimed, NOW + PROCESSING_LEASE_MS)).toBe(false);
    expect(needsProcessing(claimed, NOW + PROCESSING_LEASE_MS + 1)).toBe(true);
    expect(needsProcessing(request({ status: 'received' }), NOW)).toBe(true);
    expect(needsProcessing(request({ status: 'completed' }), NOW)).toBe(false);
  });

  it('belongs to the region that received it while it serves, then to the first serving region in failover order', () => {
    const statuses = (overrides: Record<string, RegionStatus>) =>
      new Map<string, RegionStatus>(regions.map((r) => [r, overrides[r] ?? 'healthy']));
    expect(ownerOf(TOPOLOGY, AP, statuses({}))).toBe(AP);
    expect(ownerOf(TOPOLOGY, AP, statuses({ [AP]: 'failed' }))).toBe(US);
    expect(ownerOf(TOPOLOGY, US, statuses({ [US]: 'fenced' }))).toBe(EU);
    expect(
      ownerOf(TOPOLOGY, US, statuses({ [US]: 'failed', [EU]: 'draining', [AP]: 'failed' })),
    ).toBeUndefined();
  });
});
