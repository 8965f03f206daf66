import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decideMrsc,
  EXPIRY_ATTRIBUTE,
  MRSC_REGION_SETS,
  matchesPattern,
  type PlacedTable,
  patternsOverlap,
  placeReplication,
  policyForKey,
  type ReplicationPlacement,
  resourcePoolTable,
  stateRecordTables,
  tableForKey,
} from '../../lib/core/replication/placement.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import {
  editedTopology,
  usRegionSetTopologyJson,
  withSelectivePolicies,
} from '../fixtures/replication-topologies.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';

const SYNC_TYPES = ['master_state', 'active_tasks', 'worker_assignments', 'routing_tables'];
const ASYNC_TYPES = ['logs', 'metrics', 'analytics', 'audit_trails'];

const COMPLIANCE_POLICY = {
  policy_id: 'compliance_data_replication',
  data_pattern: 'coordination/compliance/*',
  replication_trigger: 'on_create',
  target_regions: ['same_jurisdiction'],
  retention_days: 2555,
  immutable: true,
};

/** The placed table holding `dataType`, as the placement's data type map names it. */
function tableOfType(placement: ReplicationPlacement, dataType: string): PlacedTable | undefined {
  const name = placement.dataTypes[dataType];
  return name === undefined ? undefined : table(placement, name);
}

function table(placement: ReplicationPlacement, name: string): PlacedTable {
  const found = placement.tables.find((t) => t.name === name);
  if (!found) throw new Error(`no table ${name} in ${placement.tables.map((t) => t.name).join(', ')}`);
  return found;
}

function placementWith(policies: readonly object[]): ReplicationPlacement {
  return placeReplication(editedTopology((json) => withSelectivePolicies(json, policies)));
}

describe('placeReplication on the default topology (us-east-1, eu-west-1, ap-south-1)', () => {
  const topology = validateTopology(defaultTopologyJson());
  const placement = placeReplication(topology);

  it('places without errors', () => {
    expect(placement.errors).toEqual([]);
  });

  it('keeps synchronous and asynchronous data in the global table: three region sets rule out MRSC', () => {
    expect(placement.mrsc.allowed).toBe(false);
    expect(placement.tables.map((t) => t.name)).not.toContain('cortex-critical');
    const global = table(placement, 'cortex-state');
    expect(global).toMatchObject({
      role: 'global',
      regions: ['us-east-1', 'eu-west-1', 'ap-south-1'],
      homeRegion: 'us-east-1',
      consistency: 'MREC',
      immutable: false,
    });
    for (const type of [...SYNC_TYPES, ...ASYNC_TYPES]) {
      expect(tableOfType(placement, type)?.name).toBe('cortex-state');
    }
    expect(tableOfType(placement, 'no_such_type')).toBeUndefined();
  });

  it('warns which table holds synchronous data and why, naming each region set and the guard', () => {
    const warning = placement.warnings.find((w) => w.field === 'replication_strategies.synchronous');
    expect(warning?.reason).toContain('global table cortex-state (MREC');
    expect(warning?.reason).toContain('us-east-1 (US), eu-west-1 (EU), ap-south-1 (no set)');
    expect(warning?.reason).toContain('sync_critical_state');
  });

  it('gives the knowledge base (target all) one table with a replica in every region, no expiry', () => {
    const kb = table(placement, 'cortex-sel-knowledge_base_replication');
    expect(kb).toMatchObject({
      role: 'selective',
      regions: ['us-east-1', 'eu-west-1', 'ap-south-1'],
      consistency: 'MREC',
      immutable: false,
      policies: ['knowledge_base_replication'],
    });
    expect(kb.ttlAttribute).toBeUndefined();
  });

  it('warns that knowledge-base data written in a localizing region reaches other jurisdictions', () => {
    const reasons = placement.warnings
      .filter((w) => w.field === 'replication_strategies.selective.policies[0].target_regions')
      .map((w) => w.reason);
    expect(reasons).toHaveLength(2);
    expect(reasons[0]).toContain('eu-west-1 (european_union) sets data_localization');
    expect(reasons[1]).toContain('ap-south-1 (india) sets critical_data_localization');
  });

  it('gives compliance data (same_jurisdiction) one immutable table per jurisdiction, with retention', () => {
    const expected = [
      ['cortex-sel-compliance_data_replication-united_states', 'united_states', ['us-east-1']],
      ['cortex-sel-compliance_data_replication-european_union', 'european_union', ['eu-west-1']],
      ['cortex-sel-compliance_data_replication-india', 'india', ['ap-south-1']],
    ] as const;
    for (const [name, jurisdiction, regions] of expected) {
      expect(table(placement, name)).toMatchObject({
        role: 'selective',
        jurisdiction,
        regions,
        homeRegion: regions[0],
        consistency: 'single-region',
        immutable: true,
        retentionDays: 2555,
        ttlAttribute: EXPIRY_ATTRIBUTE,
      });
    }
  });

  it('routes a key to its policy table for the writing region', () => {
    const key = 'coordination/compliance/audit-1';
    expect(policyForKey(placement, key)?.policyId).toBe('compliance_data_replication');
    expect(tableForKey(placement, key, 'eu-west-1')?.name).toBe(
      'cortex-sel-compliance_data_replication-european_union',
    );
    expect(tableForKey(placement, key, 'us-east-1')?.name).toBe(
      'cortex-sel-compliance_data_replication-united_states',
    );
    expect(tableForKey(placement, 'coordination/t1/knowledge-base/doc', 'ap-south-1')?.name).toBe(
      'cortex-sel-knowledge_base_replication',
    );
    expect(tableForKey(placement, 'coordination/t1/other', 'ap-south-1')).toBeUndefined();
  });
});

describe('placeReplication with three regions in one MRSC region set', () => {
  const placement = placeReplication(validateTopology(usRegionSetTopologyJson()));

  it('puts synchronous data types in the MRSC table cortex-critical, asynchronous in the global table', () => {
    expect(placement.errors).toEqual([]);
    expect(placement.mrsc).toMatchObject({ allowed: true, regionSet: 'US' });
    expect(table(placement, 'cortex-critical')).toMatchObject({
      role: 'critical',
      regions: ['us-east-1', 'us-east-2', 'us-west-2'],
      consistency: 'MRSC',
      dataTypes: SYNC_TYPES,
    });
    expect(table(placement, 'cortex-critical').ttlAttribute).toBeUndefined();
    for (const type of SYNC_TYPES) expect(tableOfType(placement, type)?.name).toBe('cortex-critical');
    for (const type of ASYNC_TYPES) expect(tableOfType(placement, type)?.name).toBe('cortex-state');
    expect(table(placement, 'cortex-state').dataTypes).toEqual(ASYNC_TYPES);
  });

  it('warns that synchronous data is strongly consistent, and why MRSC applies', () => {
    const warning = placement.warnings.find((w) => w.field === 'replication_strategies.synchronous');
    expect(warning?.reason).toContain('MRSC table cortex-critical');
    expect(warning?.reason).toContain('all in the US region set');
    expect(warning?.reason).toContain(
      'keeps its region status, failover, handoff records in cortex-critical',
    );
    expect(warning?.reason).toContain('The resource pools (worker_assignments) are there too');
    expect(resourcePoolTable(validateTopology(usRegionSetTopologyJson()))).toBe('cortex-critical');
    expect(resourcePoolTable(validateTopology(defaultTopologyJson()))).toBe('cortex-state');
  });

  it('sends the state records of synchronous data types to cortex-critical, the others to cortex-state', () => {
    expect(stateRecordTables(validateTopology(usRegionSetTopologyJson()))).toEqual({
      region_status: 'cortex-critical',
      failover: 'cortex-critical',
      handoff: 'cortex-critical',
      target_health: 'cortex-state',
      heartbeat: 'cortex-state',
    });
  });

  it('keeps a record type in the state table when its data type is not synchronous', () => {
    const topology = editedTopology((json) => {
      json.replication_strategies.synchronous.data_types = ['master_state'];
      json.replication_strategies.asynchronous.data_types.push('active_tasks');
    }, usRegionSetTopologyJson());
    const tables = stateRecordTables(topology);
    expect(tables.region_status).toBe('cortex-critical');
    expect(tables.handoff).toBe('cortex-state');
  });
});

describe('stateRecordTables without an MRSC table', () => {
  it('keeps every state record in the global table', () => {
    const tables = stateRecordTables(validateTopology(defaultTopologyJson()));
    expect(new Set(Object.values(tables))).toEqual(new Set(['cortex-state']));
  });
});

describe('decideMrsc', () => {
  it('allows exactly three regions of one set, and nothing else', () => {
    expect(decideMrsc(['eu-west-1', 'eu-west-3', 'eu-central-1'])).toMatchObject({
      allowed: true,
      regionSet: 'EU',
    });
    expect(decideMrsc(['ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3']).allowed).toBe(true);
    expect(decideMrsc(['us-east-1', 'us-east-2']).allowed).toBe(false);
    expect(decideMrsc(['eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1']).allowed).toBe(false);
    expect(decideMrsc(['us-east-1', 'us-east-2', 'eu-west-1']).allowed).toBe(false);
    expect(decideMrsc(['us-east-1', 'eu-west-1', 'ap-south-1']).reason).toContain('ap-south-1 (no set)');
  });

  it('knows the three region sets of the DynamoDB documentation', () => {
    expect(MRSC_REGION_SETS).toEqual({
      US: ['us-east-1', 'us-east-2', 'us-west-2'],
      EU: ['eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1'],
      AP: ['ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3'],
    });
  });
});

describe('the residency rule', () => {
  it('fails a compliance-data (immutable) policy targeting all while a region localizes its data', () => {
    const placement = placementWith([{ ...COMPLIANCE_POLICY, target_regions: ['all'] }]);
    expect(placement.errors.map((e) => e.field)).toEqual([
      'replication_strategies.selective.policies[0].target_regions',
      'replication_strategies.selective.policies[0].target_regions',
    ]);
    expect(placement.errors[0]?.reason).toContain('eu-west-1 (european_union) sets data_localization');
    expect(placement.errors[1]?.reason).toContain('ap-south-1 (india) sets critical_data_localization');
  });

  it('fails an immutable policy listing regions of two jurisdictions when one localizes', () => {
    const placement = placementWith([{ ...COMPLIANCE_POLICY, target_regions: ['us-east-1', 'eu-west-1'] }]);
    expect(placement.errors).toHaveLength(1);
    expect(placement.errors[0]).toMatchObject({
      field: 'replication_strategies.selective.policies[0].target_regions',
      reason: expect.stringContaining('replicas in us-east-1 would take eu-west-1'),
    });
  });

  it('lets data that is not jurisdiction-bound span jurisdictions, with a warning', () => {
    const placement = placementWith([
      { ...COMPLIANCE_POLICY, immutable: false, target_regions: ['us-east-1', 'eu-west-1'] },
    ]);
    expect(placement.errors).toEqual([]);
    expect(placement.warnings.map((w) => w.reason).join('\n')).toContain(
      'must not hold data eu-west-1 localizes',
    );
    expect(table(placement, 'cortex-sel-compliance_data_replication').regions).toEqual([
      'us-east-1',
      'eu-west-1',
    ]);
  });

  it('lets an immutable policy list several regions of one jurisdiction', () => {
    const topology = editedTopology((json) => {
      json.regional_compliance['ap-south-1'].jurisdiction = 'european_union';
      withSelectivePolicies(json, [{ ...COMPLIANCE_POLICY, target_regions: ['eu-west-1', 'ap-south-1'] }]);
    });
    const placement = placeReplication(topology);
    expect(placement.errors).toEqual([]);
    expect(table(placement, 'cortex-sel-compliance_data_replication').regions).toEqual([
      'eu-west-1',
      'ap-south-1',
    ]);
  });

  it('fails any policy whose keys overlap a same_jurisdiction pattern and whose replicas span jurisdictions', () => {
    const placement = placementWith([
      COMPLIANCE_POLICY,
      {
        policy_id: 'everything',
        data_pattern: 'coordination/*/*',
        replication_trigger: 'on_update',
        target_regions: ['all'],
      },
    ]);
    expect(placement.errors).toHaveLength(1);
    expect(placement.errors[0]).toMatchObject({
      field: 'replication_strategies.selective.policies[1].target_regions',
      reason: expect.stringContaining(
        'also match "coordination/compliance/*" of compliance_data_replication',
      ),
    });
  });

  it('fails all or same_jurisdiction combined with other targets', () => {
    const placement = placementWith([
      { ...COMPLIANCE_POLICY, target_regions: ['same_jurisdiction', 'eu-west-1'] },
      { ...COMPLIANCE_POLICY, policy_id: 'other', target_regions: ['all', 'us-east-1'] },
    ]);
    expect(placement.errors).toEqual([
      {
        field: 'replication_strategies.selective.policies[0].target_regions',
        reason: expect.stringContaining('same_jurisdiction stands alone'),
      },
      {
        field: 'replication_strategies.selective.policies[1].target_regions',
        reason: expect.stringContaining('all stands alone'),
      },
    ]);
  });

  it('groups regions of one jurisdiction into one same_jurisdiction table', () => {
    const topology = editedTopology((json) => {
      json.regional_compliance['ap-south-1'].jurisdiction = 'european_union';
    });
    const placement = placeReplication(topology);
    expect(placement.errors).toEqual([]);
    expect(table(placement, 'cortex-sel-compliance_data_replication-european_union')).toMatchObject({
      regions: ['eu-west-1', 'ap-south-1'],
      homeRegion: 'eu-west-1',
      consistency: 'MREC',
    });
    expect(placement.tables.map((t) => t.name)).not.toContain('cortex-sel-compliance_data_replication-india');
  });

  it('keeps a region without a compliance policy alone, and says so', () => {
    const topology = editedTopology((json) => {
      delete json.regional_compliance['ap-south-1'];
    });
    const placement = placeReplication(topology);
    expect(placement.errors).toEqual([]);
    expect(table(placement, 'cortex-sel-compliance_data_replication-ap-south-1').regions).toEqual([
      'ap-south-1',
    ]);
    expect(placement.warnings).toContainEqual({
      field: 'regional_compliance.ap-south-1',
      reason: expect.stringContaining("keeps ap-south-1's data in ap-south-1 alone"),
    });
  });

  it('fails two jurisdictions that would name the same table', () => {
    const topology = editedTopology((json) => {
      json.regional_compliance['us-east-1'].jurisdiction = 'European Union';
      json.regional_compliance['eu-west-1'].jurisdiction = 'european-union';
    });
    const placement = placeReplication(topology);
    expect(placement.errors).toContainEqual({
      field: 'regional_compliance',
      reason: expect.stringContaining('cortex-sel-compliance_data_replication-european-union'),
    });
  });

  it('never gives a same_jurisdiction table a replica outside its jurisdiction (any assignment)', () => {
    const base = validateTopology(defaultTopologyJson());
    const jurisdictions = fc.constantFrom('united_states', 'european_union', 'india', undefined);
    fc.assert(
      fc.property(fc.tuple(jurisdictions, jurisdictions, jurisdictions), (assigned) => {
        const compliance: Record<string, Topology['regional_compliance'][string]> = {};
        base.regions.forEach((region, i) => {
          const policy = base.regional_compliance[region.region_id];
          const jurisdiction = assigned[i];
          if (policy && jurisdiction !== undefined)
            compliance[region.region_id] = { ...policy, jurisdiction };
        });
        const placement = placeReplication({ ...base, regional_compliance: compliance });
        expect(placement.errors).toEqual([]);
        const policy = placement.policies.find((p) => p.target === 'same_jurisdiction');
        for (const region of base.regions) {
          const name = policy?.tableByRegion[region.region_id];
          const held = placement.tables.find((t) => t.name === name);
          expect(held?.regions).toContain(region.region_id);
          const own = compliance[region.region_id]?.jurisdiction;
          for (const replica of held?.regions ?? []) {
            if (own === undefined) expect(replica).toBe(region.region_id);
            else expect(compliance[replica]?.jurisdiction).toBe(own);
          }
        }
      }),
    );
  });
});

describe('patterns', () => {
  it('match one segment per *', () => {
    expect(matchesPattern('coordination/*/knowledge-base/*', 'coordination/t1/knowledge-base/doc')).toBe(
      true,
    );
    expect(matchesPattern('coordination/*/knowledge-base/*', 'coordination/a/b/knowledge-base/doc')).toBe(
      false,
    );
    expect(matchesPattern('coordination/compliance/*', 'coordination/compliance/audit-7')).toBe(true);
    expect(matchesPattern('coordination/compliance/*', 'coordination/compliance/a/b')).toBe(false);
    expect(matchesPattern('logs/app-*.json', 'logs/app-1.json')).toBe(true);
    expect(matchesPattern('logs/app-*.json', 'logs/app-1xjson')).toBe(false);
  });

  it('overlap when some key matches both', () => {
    expect(patternsOverlap('coordination/*/*', 'coordination/compliance/*')).toBe(true);
    expect(patternsOverlap('coordination/*/knowledge-base/*', 'coordination/compliance/*')).toBe(false);
    expect(patternsOverlap('a/x*', 'a/*y')).toBe(true);
    expect(patternsOverlap('a/x*', 'a/y*')).toBe(false);
    expect(patternsOverlap('a/*b*', 'a/*c*')).toBe(true);
  });

  it('overlap exactly when a witness key matches both (property)', () => {
    const glob = fc.array(fc.constantFrom('a', 'b', '*'), { maxLength: 4 }).map((chars) => chars.join(''));
    fc.assert(
      fc.property(glob, glob, (a, b) => {
        // Every key over {a, b} of length <= 8 is a witness candidate: enough for globs of length <= 4.
        const keys = ['']
          .concat(...Array.from({ length: 8 }, (_, n) => words(n + 1)))
          .filter((k) => matchesPattern(a, k) && matchesPattern(b, k));
        expect(patternsOverlap(a, b)).toBe(keys.length > 0);
      }),
      { numRuns: 200 },
    );
  });
});

function words(length: number): string[] {
  if (length === 0) return [''];
  return words(length - 1).flatMap((w) => [`${w}a`, `${w}b`]);
}
