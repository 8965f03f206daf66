import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type FieldIssue, TopologyError } from '../../lib/core/errors.ts';
import { COUNTRIES, greatCircleKm, isIsoCountry } from '../../lib/core/geo/countries.ts';
import { expandResidency, normalizeCountryCode, validateTopology } from '../../lib/core/topology/validate.ts';
import { DEFAULT_TOPOLOGY_PATH, loadTopologyFile, readTopologyJson } from '../../lib/topology/load.ts';
import { TOPOLOGY_SCHEMA_PATH, topologyJsonSchema } from '../../scripts/gen-topology-schema.ts';
import {
  defaultTopologyJson,
  specActivePassiveDeployment,
  syntheticTopologyJson,
} from '../fixtures/topologies.ts';

// biome-ignore lint/suspicious/noExplicitAny: raw topology JSON, mutated into invalid shapes on purpose.
type RawTopology = any;

/** The issues validateTopology reports for the default topology after `edit`. */
function issuesOf(edit: (json: RawTopology) => void): readonly FieldIssue[] {
  const json = defaultTopologyJson();
  edit(json);
  try {
    validateTopology(json);
  } catch (error) {
    if (error instanceof TopologyError) return error.details;
    throw error;
  }
  throw new Error('expected the topology to be rejected');
}

const region = (json: RawTopology, id: string) =>
  json.regions.find((r: { region_id: string }) => r.region_id === id);

describe('the default topology', () => {
  const topology = validateTopology(defaultTopologyJson());

  it('validates and keeps the spec regions in order with their tiers', () => {
    expect(topology.name).toBe('cortex');
    expect(topology.regions.map((r) => [r.region_id, r.tier])).toEqual([
      ['us-east-1', 'primary'],
      ['eu-west-1', 'secondary'],
      ['ap-south-1', 'tertiary'],
    ]);
    expect(topology.regions[0]?.geographic_location.coordinates).toEqual({ lat: 39.0438, lon: -77.4874 });
    expect(topology.witnesses).toEqual([{ witness_id: 'witness-us-west-2', region: 'us-west-2' }]);
  });

  it('expands country groups recursively (EU has DE, EEA has EU members and NO)', () => {
    expect(topology.expanded_groups.EU).toHaveLength(27);
    expect(topology.expanded_groups.EU).toContain('DE');
    expect(topology.expanded_groups.EEA).toEqual(expect.arrayContaining(['DE', 'FR', 'IS', 'LI', 'NO']));
    expect(topology.expanded_groups.EEA).toHaveLength(30);
    expect(topology.expanded_groups.APAC).toContain('IN');
    expect(topology.expanded_groups.APAC).not.toContain('CN');
  });

  it('normalizes country codes: lower case to upper, UK to GB, country names in adequacy lists', () => {
    const us = topology.regions[0];
    expect(us?.geographic_location.country).toBe('US');
    expect(us?.data_residency).toEqual(['US', 'CA', 'MX']);
    expect(us?.residency_countries).toEqual(['CA', 'MX', 'US']);
    const eu = topology.regions[1];
    expect(eu?.data_residency).toEqual(['EU', 'GB', 'EEA']);
    expect(eu?.residency_countries).toEqual(expect.arrayContaining(['DE', 'GB', 'IE', 'NO']));
    expect(eu?.residency_countries).not.toContain('UK');
    expect(eu?.residency_countries).toEqual([...new Set(eu?.residency_countries)].sort());
    const euPolicy = topology.regional_compliance['eu-west-1']?.data_residency;
    expect(euPolicy?.allowed_countries).toEqual(['EU', 'GB', 'EEA']);
    expect(euPolicy?.cross_border_transfer).toMatchObject({ adequacy_decisions: ['GB', 'CH'] });
    expect(topology.regional_mcp_deployment['eu-west-1']?.mcp_servers.postgres?.data_residency).toBe('EU');
  });

  it('normalizes framework spellings to the region-metadata form', () => {
    expect(Object.keys(topology.regional_compliance['us-east-1']?.frameworks ?? {})).toEqual([
      'soc2',
      'hipaa',
      'pci-dss',
    ]);
    expect(Object.keys(topology.regional_compliance['eu-west-1']?.frameworks ?? {})).toEqual([
      'gdpr',
      'iso27001',
    ]);
    const spelled = validateTopology(
      (() => {
        const json = defaultTopologyJson();
        region(json, 'us-east-1').compliance = ['soc2', 'hipaa', 'pci_dss'];
        return json;
      })(),
    );
    expect(spelled.regions[0]?.compliance).toEqual(['soc2', 'hipaa', 'pci-dss']);
  });

  it('fills the failover cooldown with 600 s when absent', () => {
    const json = defaultTopologyJson();
    delete json.failover_policies.automatic_failover.cooldown_seconds;
    expect(validateTopology(json).failover_policies.automatic_failover.cooldown_seconds).toBe(600);
  });

  it('is deeply frozen and shares nothing with the input', () => {
    const json = defaultTopologyJson();
    const frozen = validateTopology(json);
    expect(Object.isFrozen(frozen)).toBe(true);
    expect(Object.isFrozen(frozen.regions[0]?.geographic_location.coordinates)).toBe(true);
    expect(Object.isFrozen(frozen.latency.matrix['us-east-1'])).toBe(true);
    expect(Object.isFrozen(frozen.expanded_groups.EU)).toBe(true);
    expect(() => {
      (frozen.regions as unknown as unknown[]).push({});
    }).toThrow(TypeError);
    expect(Object.isFrozen(json.regions[0])).toBe(false);
    expect(json.regions[0].geographic_location.country).toBe('us');
  });

  it('accepts the spec active-passive configuration', () => {
    const json = defaultTopologyJson();
    json.deployment = specActivePassiveDeployment();
    expect(validateTopology(json).deployment.pattern).toBe('active-passive');
  });
});

describe('expandResidency and normalizeCountryCode', () => {
  const topology = validateTopology(defaultTopologyJson());

  it('maps a code or group to ISO codes, and unknown ones to undefined', () => {
    expect(expandResidency(topology, 'us')).toEqual(['US']);
    expect(expandResidency(topology, 'UK')).toEqual(['GB']);
    expect(expandResidency(topology, 'el')).toEqual(['GR']);
    expect(expandResidency(topology, 'eu')).toContain('DE');
    expect(expandResidency(topology, 'EEA')).toContain('NO');
    expect(expandResidency(topology, 'XX')).toBeUndefined();
    expect(expandResidency(topology, 'LATAM')).toBeUndefined();
  });

  it('upper-cases, trims and applies the alias table', () => {
    expect(normalizeCountryCode(' us ')).toBe('US');
    expect(normalizeCountryCode('uk')).toBe('GB');
    expect(normalizeCountryCode('EL')).toBe('GR');
    expect(normalizeCountryCode('apac')).toBe('APAC');
  });
});

describe('countries', () => {
  it('knows all 249 ISO 3166-1 alpha-2 codes with sane coordinates', () => {
    expect(COUNTRIES.size).toBe(249);
    for (const [code, info] of COUNTRIES) {
      expect(code).toMatch(/^[A-Z]{2}$/);
      expect(info.name.length).toBeGreaterThan(0);
      expect(Math.abs(info.lat)).toBeLessThanOrEqual(90);
      expect(Math.abs(info.lon)).toBeLessThanOrEqual(180);
    }
    expect(isIsoCountry('GB')).toBe(true);
    expect(isIsoCountry('UK')).toBe(false);
    expect(isIsoCountry('de')).toBe(false);
  });

  it('measures great-circle distance (London to New York is about 5,570 km)', () => {
    const london = { lat: 51.5074, lon: -0.1278 };
    const newYork = { lat: 40.7128, lon: -74.006 };
    expect(greatCircleKm(london, newYork)).toBeCloseTo(5570, -1);
    expect(greatCircleKm(london, london)).toBe(0);
    expect(greatCircleKm({ lat: 0, lon: 0 }, { lat: 0, lon: 180 })).toBeCloseTo(Math.PI * 6371, 3);
  });
});

interface BadCase {
  readonly name: string;
  readonly edit: (json: RawTopology) => void;
  readonly field: string;
  readonly reason: RegExp;
}

const BAD_CASES: readonly BadCase[] = [
  // structure
  {
    name: 'an unknown field',
    edit: (json) => {
      json.regions[0].colour = 'red';
    },
    field: 'regions[0].colour',
    reason: /unknown field "colour"/,
  },
  {
    name: 'a missing required field',
    edit: (json) => {
      delete json.regions[0].cost_index;
    },
    field: 'regions[0].cost_index',
    reason: /required field is missing \(expected a number\)/,
  },
  {
    name: 'a field of the wrong type',
    edit: (json) => {
      json.failover_policies.health_check.interval_seconds = '30';
    },
    field: 'failover_policies.health_check.interval_seconds',
    reason: /expected a number, got "30"/,
  },
  {
    name: 'an unsupported version',
    edit: (json) => {
      json.version = 2;
    },
    field: 'version',
    reason: /unsupported version 2; expected 1/,
  },
  // regions
  {
    name: 'a duplicate region_id',
    edit: (json) => {
      json.regions[2].region_id = 'us-east-1';
    },
    field: 'regions[2].region_id',
    reason: /duplicate region_id "us-east-1" \(first at regions\[0\]\.region_id\)/,
  },
  {
    name: 'an unknown tier',
    edit: (json) => {
      json.regions[1].tier = 'platinum';
    },
    field: 'regions[1].tier',
    reason: /^unknown tier "platinum"; expected one of primary, secondary, tertiary, edge$/,
  },
  {
    name: 'an unknown capability',
    edit: (json) => {
      json.regions[0].capabilities.push('gpus');
    },
    field: 'regions[0].capabilities[4]',
    reason: /unknown capability "gpus"; expected one of masters, workers, mcp-servers, data-storage/,
  },
  {
    name: 'an unknown compliance framework in region metadata',
    edit: (json) => {
      json.regions[2].compliance.push('fedramp');
    },
    field: 'regions[2].compliance[1]',
    reason: /unknown compliance framework "fedramp"; expected one of soc2, hipaa, pci-dss, gdpr, iso27001/,
  },
  {
    name: 'a region country that is not an ISO code',
    edit: (json) => {
      json.regions[0].geographic_location.country = 'XX';
    },
    field: 'regions[0].geographic_location.country',
    reason: /unknown country "XX"; expected an ISO 3166-1 alpha-2 code/,
  },
  {
    name: 'a region country that is a group',
    edit: (json) => {
      json.regions[1].geographic_location.country = 'EU';
    },
    field: 'regions[1].geographic_location.country',
    reason: /not a group/,
  },
  {
    name: 'a residency entry that is neither country nor group',
    edit: (json) => {
      json.regions[0].data_residency.push('LATAM');
    },
    field: 'regions[0].data_residency[3]',
    reason: /unknown country or group "LATAM"/,
  },
  {
    name: 'a framework listed twice under two spellings',
    edit: (json) => {
      json.regions[0].compliance = ['soc2', 'pci_dss', 'pci-dss'];
    },
    field: 'regions[0].compliance[2]',
    reason: /duplicate compliance framework "pci-dss" \(first at regions\[0\]\.compliance\[1\]\)/,
  },
  {
    name: 'a residency country listed twice (UK is GB)',
    edit: (json) => {
      json.regions[1].data_residency = ['XX', 'UK', 'GB'];
    },
    field: 'regions[1].data_residency[2]',
    reason: /duplicate entry "GB" \(first at regions\[1\]\.data_residency\[1\]\)/,
  },
  // witnesses
  {
    name: 'a witness whose id collides with a region',
    edit: (json) => {
      json.witnesses.push({ witness_id: 'eu-west-1', region: 'us-west-1' });
    },
    field: 'witnesses[1].witness_id',
    reason: /collides with the region/,
  },
  {
    name: 'a witness running in a region of the topology',
    edit: (json) => {
      json.witnesses[0].region = 'ap-south-1';
    },
    field: 'witnesses[0].region',
    reason: /must fail independently/,
  },
  // country groups
  {
    name: 'a group member that is neither country nor group',
    edit: (json) => {
      json.country_groups.EEA.push('XY');
    },
    field: 'country_groups.EEA[4]',
    reason: /unknown country or group "XY"/,
  },
  {
    name: 'a group cycle',
    edit: (json) => {
      json.country_groups.NORDIC = ['DK', 'SCANDI'];
      json.country_groups.SCANDI = ['NO', 'nordic'];
    },
    field: 'country_groups.NORDIC',
    reason: /group cycle: NORDIC -> SCANDI -> NORDIC/,
  },
  {
    name: 'a group that contains itself',
    edit: (json) => {
      json.country_groups.APAC.push('APAC');
    },
    field: 'country_groups.APAC',
    reason: /group cycle: APAC -> APAC/,
  },
  {
    name: 'a group named like a country',
    edit: (json) => {
      json.country_groups.de = ['DE'];
    },
    field: 'country_groups.de',
    reason: /is a country code/,
  },
  // latency
  {
    name: 'a latency matrix missing an ordered pair',
    edit: (json) => {
      delete json.latency.matrix['eu-west-1']['ap-south-1'];
    },
    field: 'latency.matrix.eu-west-1.ap-south-1',
    reason: /missing latency from eu-west-1 to ap-south-1/,
  },
  {
    name: 'a latency matrix missing a region to itself',
    edit: (json) => {
      delete json.latency.matrix['ap-south-1']['ap-south-1'];
    },
    field: 'latency.matrix.ap-south-1.ap-south-1',
    reason: /missing latency/,
  },
  {
    name: 'a latency matrix missing a row',
    edit: (json) => {
      delete json.latency.matrix['ap-south-1'];
    },
    field: 'latency.matrix.ap-south-1',
    reason: /no latencies from region "ap-south-1"/,
  },
  {
    name: 'a negative latency',
    edit: (json) => {
      json.latency.matrix['us-east-1']['eu-west-1'] = -5;
    },
    field: 'latency.matrix.us-east-1.eu-west-1',
    reason: /latency must not be negative, got -5/,
  },
  {
    name: 'a latency row for an unknown region',
    edit: (json) => {
      json.latency.matrix['eu-central-1'] = { 'us-east-1': 90 };
    },
    field: 'latency.matrix.eu-central-1',
    reason: /unknown region "eu-central-1"/,
  },
  {
    name: 'a latency to an unknown region',
    edit: (json) => {
      json.latency.matrix['us-east-1']['eu-central-1'] = 90;
    },
    field: 'latency.matrix.us-east-1.eu-central-1',
    reason: /unknown region "eu-central-1"/,
  },
  {
    name: 'latency SLA percentiles out of order',
    edit: (json) => {
      json.latency.sla.p99_target_ms = 200;
    },
    field: 'latency.sla.p99_target_ms',
    reason: /below the p95 target/,
  },
  // routing and deployment weights
  {
    name: 'default routing weights not adding up to 100',
    edit: (json) => {
      json.routing.weights.default.cost = 20;
    },
    field: 'routing.weights.default',
    reason: /weights add up to 110 .*must add up to 100/,
  },
  {
    name: 'latency-sensitive routing weights not adding up to 100',
    edit: (json) => {
      json.routing.weights.latency_sensitive.latency = 60;
    },
    field: 'routing.weights.latency_sensitive',
    reason: /add up to 90/,
  },
  {
    name: 'active-active traffic weights not adding up to 100',
    edit: (json) => {
      json.deployment.regions['ap-south-1'].traffic_weight = 20;
    },
    field: 'deployment.regions',
    reason: /traffic weights add up to 95; they must add up to 100/,
  },
  {
    name: 'active-passive with more than one active region',
    edit: (json) => {
      json.deployment.pattern = 'active-passive';
    },
    field: 'deployment.regions',
    reason: /exactly one active region, found 3/,
  },
  {
    name: 'active-passive whose active region does not take all traffic',
    edit: (json) => {
      json.deployment.pattern = 'active-passive';
      json.deployment.regions['us-east-1'].traffic_weight = 90;
      json.deployment.regions['eu-west-1'] = {
        role: 'passive-warm',
        traffic_weight: 0,
        capabilities: [],
        failover_priority: 1,
      };
      json.deployment.regions['ap-south-1'] = {
        role: 'passive-cold',
        traffic_weight: 0,
        capabilities: [],
        failover_priority: 2,
      };
    },
    field: 'deployment.regions.us-east-1.traffic_weight',
    reason: /expected 100, got 90/,
  },
  {
    name: 'a passive region taking traffic',
    edit: (json) => {
      json.deployment.regions['ap-south-1'].role = 'passive-cold';
    },
    field: 'deployment.regions.ap-south-1.traffic_weight',
    reason: /takes no traffic; expected 0, got 25/,
  },
  {
    name: 'a deployment naming an unknown region',
    edit: (json) => {
      json.deployment.regions['eu-central-1'] = {
        role: 'active',
        traffic_weight: 0,
        capabilities: ['read'],
        failover_priority: 3,
      };
    },
    field: 'deployment.regions.eu-central-1',
    reason: /unknown region "eu-central-1"/,
  },
  {
    name: 'a deployment missing a region',
    edit: (json) => {
      delete json.deployment.regions['ap-south-1'];
      json.deployment.regions['us-east-1'].traffic_weight = 65;
    },
    field: 'deployment.regions',
    reason: /region "ap-south-1" has no deployment entry/,
  },
  {
    name: 'two regions with the same failover priority',
    edit: (json) => {
      json.deployment.regions['ap-south-1'].failover_priority = 1;
    },
    field: 'deployment.regions.ap-south-1.failover_priority',
    reason: /also used by eu-west-1/,
  },
  // resource pool
  {
    name: 'an allocation for an unknown region',
    edit: (json) => {
      const pool = json.global_resource_pool;
      pool.regional_allocation['eu-central-1'] = { ...pool.regional_allocation['ap-south-1'], workers: 0 };
    },
    field: 'global_resource_pool.regional_allocation.eu-central-1',
    reason: /unknown region "eu-central-1"/,
  },
  {
    name: 'a region without an allocation',
    edit: (json) => {
      delete json.global_resource_pool.regional_allocation['eu-west-1'];
    },
    field: 'global_resource_pool.regional_allocation',
    reason: /region "eu-west-1" has no allocation/,
  },
  {
    name: 'allocations above the total capacity',
    edit: (json) => {
      json.global_resource_pool.regional_allocation['us-east-1'].workers = 30;
    },
    field: 'global_resource_pool.regional_allocation',
    reason: /allocated workers add up to 55, above total_capacity.workers 50/,
  },
  {
    name: 'an overload threshold above 1',
    edit: (json) => {
      json.global_resource_pool.dynamic_rebalancing.thresholds.overload = 1.5;
    },
    field: 'global_resource_pool.dynamic_rebalancing.thresholds.overload',
    reason: /must be at most 1, got 1.5/,
  },
  {
    name: 'a negative underutilized threshold',
    edit: (json) => {
      json.global_resource_pool.dynamic_rebalancing.thresholds.underutilized = -0.1;
    },
    field: 'global_resource_pool.dynamic_rebalancing.thresholds.underutilized',
    reason: /must be at least 0/,
  },
  {
    name: 'underutilized not below overload',
    edit: (json) => {
      json.global_resource_pool.dynamic_rebalancing.thresholds.underutilized = 0.9;
    },
    field: 'global_resource_pool.dynamic_rebalancing.thresholds.underutilized',
    reason: /underutilized \(0.9\) must be below overload \(0.85\)/,
  },
  // failover policy
  {
    name: 'a failure threshold below 1',
    edit: (json) => {
      json.failover_policies.health_check.failure_threshold = 0;
    },
    field: 'failover_policies.health_check.failure_threshold',
    reason: /must be greater than 0, got 0/,
  },
  {
    name: 'a success threshold that is not an integer',
    edit: (json) => {
      json.failover_policies.health_check.success_threshold = 1.5;
    },
    field: 'failover_policies.health_check.success_threshold',
    reason: /expected an integer, got 1.5/,
  },
  {
    name: 'a zero probe interval',
    edit: (json) => {
      json.failover_policies.health_check.interval_seconds = 0;
    },
    field: 'failover_policies.health_check.interval_seconds',
    reason: /must be greater than 0/,
  },
  {
    name: 'a probe timeout not shorter than the interval',
    edit: (json) => {
      json.failover_policies.health_check.timeout_seconds = 30;
    },
    field: 'failover_policies.health_check.timeout_seconds',
    reason: /timeout \(30 s\) must be shorter than the interval \(30 s\)/,
  },
  {
    name: 'an error-rate threshold above 1',
    edit: (json) => {
      json.failover_policies.automatic_failover.conditions.error_rate_threshold = 10;
    },
    field: 'failover_policies.automatic_failover.conditions.error_rate_threshold',
    reason: /must be at most 1/,
  },
  {
    name: 'failover steps out of order',
    edit: (json) => {
      json.failover_policies.failover_sequence.reverse();
    },
    field: 'failover_policies.failover_sequence[1].step',
    reason: /out of order/,
  },
  {
    name: 'a failover step missing',
    edit: (json) => {
      json.failover_policies.failover_sequence.pop();
    },
    field: 'failover_policies.failover_sequence',
    reason: /missing step "validation"/,
  },
  {
    name: 'failover step timeouts beyond the RTO target',
    edit: (json) => {
      json.failover_policies.failover_sequence[2].timeout_seconds = 800;
    },
    field: 'failover_policies.failover_sequence',
    reason: /add up to 1010 s, above the RTO target of 900 s/,
  },
  // replication
  {
    name: 'a selective policy targeting an unknown region',
    edit: (json) => {
      json.replication_strategies.selective.policies[0].target_regions = ['mars-1'];
    },
    field: 'replication_strategies.selective.policies[0].target_regions[0]',
    reason: /unknown target "mars-1"/,
  },
  {
    name: 'a data type in two strategies',
    edit: (json) => {
      json.replication_strategies.asynchronous.data_types.push('active_tasks');
    },
    field: 'replication_strategies.asynchronous.data_types[4]',
    reason: /also replicated synchronously/,
  },
  {
    name: 'more synchronous acknowledgements than regions',
    edit: (json) => {
      json.replication_strategies.synchronous.replication_flow.min_replicas_ack = 4;
    },
    field: 'replication_strategies.synchronous.replication_flow.min_replicas_ack',
    reason: /4 acknowledgements cannot be had from 3 regions/,
  },
  // compliance
  {
    name: 'compliance for an unknown region',
    edit: (json) => {
      json.regional_compliance['eu-central-1'] = json.regional_compliance['eu-west-1'];
    },
    field: 'regional_compliance.eu-central-1',
    reason: /unknown region "eu-central-1"/,
  },
  {
    name: 'an unknown framework in a compliance policy',
    edit: (json) => {
      json.regional_compliance['us-east-1'].frameworks.fedramp = { enabled: true };
    },
    field: 'regional_compliance.us-east-1.frameworks.fedramp',
    reason: /unknown compliance framework "fedramp"/,
  },
  {
    name: 'a framework enabled in policy but missing from the region metadata',
    edit: (json) => {
      json.regional_compliance['ap-south-1'].frameworks.hipaa = { enabled: true };
    },
    field: 'regional_compliance.ap-south-1.frameworks.hipaa',
    reason: /regions\[2\]\.compliance does not list it/,
  },
  {
    name: 'an allowed country that is not a code',
    edit: (json) => {
      json.regional_compliance['ap-south-1'].data_residency.allowed_countries = ['IN', 'QQ'];
    },
    field: 'regional_compliance.ap-south-1.data_residency.allowed_countries[1]',
    reason: /unknown country or group "QQ"/,
  },
  {
    name: 'an adequacy decision naming no country',
    edit: (json) => {
      json.regional_compliance['eu-west-1'].data_residency.cross_border_transfer.adequacy_decisions.push(
        'Atlantis',
      );
    },
    field: 'regional_compliance.eu-west-1.data_residency.cross_border_transfer.adequacy_decisions[2]',
    reason: /unknown country or group "Atlantis"/,
  },
  {
    name: 'an unknown cross-border transfer rule',
    edit: (json) => {
      json.regional_compliance['us-east-1'].data_residency.cross_border_transfer = 'whenever';
    },
    field: 'regional_compliance.us-east-1.data_residency.cross_border_transfer',
    reason: /unknown cross-border transfer rule "whenever"/,
  },
  // MCP
  {
    name: 'an MCP deployment for an unknown region',
    edit: (json) => {
      json.regional_mcp_deployment['eu-central-1'] = json.regional_mcp_deployment['eu-west-1'];
    },
    field: 'regional_mcp_deployment.eu-central-1',
    reason: /unknown region "eu-central-1"/,
  },
  {
    name: 'an MCP server replicating to an unknown region',
    edit: (json) => {
      json.regional_mcp_deployment['us-east-1'].mcp_servers.filesystem.replication.targets[0] =
        'eu-central-1';
    },
    field: 'regional_mcp_deployment.us-east-1.mcp_servers.filesystem.replication.targets[0]',
    reason: /unknown region "eu-central-1"/,
  },
  {
    name: 'a region with the mcp-servers capability but no MCP deployment',
    edit: (json) => {
      delete json.regional_mcp_deployment['ap-south-1'];
    },
    field: 'regional_mcp_deployment',
    reason: /"ap-south-1" has the mcp-servers capability but no MCP deployment/,
  },
  {
    name: 'an MCP compliance mode the region does not hold',
    edit: (json) => {
      json.regional_mcp_deployment['ap-south-1'].mcp_servers.filesystem.compliance_mode = 'gdpr';
    },
    field: 'regional_mcp_deployment.ap-south-1.mcp_servers.filesystem.compliance_mode',
    reason: /does not list compliance framework gdpr/,
  },
  // networking and monitoring
  {
    name: 'a VPN mesh missing a pair',
    edit: (json) => {
      json.cross_region_networking.vpn_mesh.tunnels.pop();
    },
    field: 'cross_region_networking.vpn_mesh.tunnels',
    reason: /no tunnel between eu-west-1 and ap-south-1/,
  },
  {
    name: 'a tunnel to an unknown region',
    edit: (json) => {
      json.cross_region_networking.vpn_mesh.tunnels[0].destination.region = 'eu-central-1';
    },
    field: 'cross_region_networking.vpn_mesh.tunnels[0].destination.region',
    reason: /unknown region "eu-central-1"/,
  },
  {
    name: 'overlapping VPC ranges in two regions',
    edit: (json) => {
      json.cross_region_networking.vpn_mesh.tunnels[2].destination.allowed_ips = ['10.2.128.0/17'];
    },
    field: 'cross_region_networking.vpn_mesh.tunnels[2].destination.allowed_ips[0]',
    reason: /10.2.128.0\/17 of ap-south-1 overlaps 10.2.0.0\/16 of eu-west-1/,
  },
  {
    name: 'an allowed_ips entry that is not a CIDR block',
    edit: (json) => {
      json.cross_region_networking.vpn_mesh.tunnels[0].source.allowed_ips = ['10.1.0.0'];
    },
    field: 'cross_region_networking.vpn_mesh.tunnels[0].source.allowed_ips[0]',
    reason: /IPv4 CIDR block/,
  },
  {
    name: 'QoS guarantees above 100 %',
    edit: (json) => {
      json.cross_region_networking.qos.traffic_classes[2].guaranteed_bandwidth_percent = 50;
    },
    field: 'cross_region_networking.qos.traffic_classes',
    reason: /adds up to 120 %/,
  },
  {
    name: 'a utilization warning not below critical',
    edit: (json) => {
      json.monitoring.capacity.regional_utilization.warning_threshold = 90;
    },
    field: 'monitoring.capacity.regional_utilization.warning_threshold',
    reason: /must be below the critical threshold/,
  },
];

describe('validateTopology rejects a bad file, naming the field and why', () => {
  it.each(BAD_CASES)('$name', ({ edit, field, reason }) => {
    expect(issuesOf(edit)).toContainEqual({ field, reason: expect.stringMatching(reason) });
  });

  it('collects every issue of a pass before throwing', () => {
    const issues = issuesOf((json) => {
      json.routing.weights.default.cost = 20;
      delete json.latency.matrix['eu-west-1']['ap-south-1'];
      json.regions[0].data_residency.push('ZZ');
    });
    expect(issues.map((i) => i.field)).toEqual(
      expect.arrayContaining([
        'routing.weights.default',
        'latency.matrix.eu-west-1.ap-south-1',
        'regions[0].data_residency[3]',
      ]),
    );
  });

  it('throws a TopologyError with a stable code and a readable message', () => {
    const json = defaultTopologyJson();
    json.regions[1].tier = 'platinum';
    expect(() => validateTopology(json)).toThrow(
      /topology is invalid: regions\[1\]\.tier: unknown tier "platinum"/,
    );
    try {
      validateTopology(json);
    } catch (error) {
      expect(error).toBeInstanceOf(TopologyError);
      expect((error as TopologyError).code).toBe('TOPOLOGY_INVALID');
    }
  });

  it('rejects what is not an object at all', () => {
    for (const raw of [null, 42, 'topology', []]) {
      expect(() => validateTopology(raw)).toThrow(TopologyError);
    }
  });
});

describe('the synthetic topology fixture', () => {
  it('validates at 35 regions with every ordered latency pair and a full mesh', () => {
    const topology = validateTopology(syntheticTopologyJson(35));
    expect(topology.regions).toHaveLength(35);
    expect(topology.regions[34]?.region_id).toBe('syn-35');
    expect(Object.keys(topology.latency.matrix)).toHaveLength(35);
    for (const row of Object.values(topology.latency.matrix)) expect(Object.keys(row)).toHaveLength(35);
    expect(topology.cross_region_networking.vpn_mesh.tunnels).toHaveLength((35 * 34) / 2);
    expect(new Set(topology.regions.map((r) => r.tier))).toEqual(
      new Set(['primary', 'secondary', 'tertiary', 'edge']),
    );
  });

  it('validates at every small size too', () => {
    for (let n = 1; n <= 8; n++) expect(validateTopology(syntheticTopologyJson(n)).regions).toHaveLength(n);
  });
});

describe('loading topology files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cortex-topology-'));

  it('loads and validates the default file', () => {
    expect(loadTopologyFile().regions).toHaveLength(3);
    expect(readTopologyJson(DEFAULT_TOPOLOGY_PATH)).toEqual(defaultTopologyJson());
  });

  it('reports a missing file on (file)', () => {
    const missing = join(dir, 'missing.json');
    expect(() => readTopologyJson(missing)).toThrow(TopologyError);
    try {
      readTopologyJson(missing);
    } catch (error) {
      expect((error as TopologyError).details).toEqual([
        { field: '(file)', reason: `cannot read ${missing}: no such file` },
      ]);
    }
  });

  it('reports bad JSON on (file) with the parse position', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{\n  "name": "cortex",\n  "version": 1,,\n}\n');
    try {
      loadTopologyFile(bad);
      expect.unreachable('bad JSON must be rejected');
    } catch (error) {
      expect(error).toBeInstanceOf(TopologyError);
      const [issue] = (error as TopologyError).details;
      expect(issue?.field).toBe('(file)');
      expect(issue?.reason).toMatch(/is not valid JSON: .*position \d+/);
    }
  });
});

describe('topology.schema.json', () => {
  it('is up to date with the zod schema (regenerate with node scripts/gen-topology-schema.ts)', () => {
    const checkedIn = JSON.parse(readFileSync(TOPOLOGY_SCHEMA_PATH, 'utf8'));
    expect(checkedIn).toEqual(topologyJsonSchema());
  });

  it('is what the default file points editors at', () => {
    expect(defaultTopologyJson().$schema).toBe('./topology.schema.json');
  });
});
