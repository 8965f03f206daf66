import { describe, expect, it } from 'vitest';
import {
  AWS_DEPLOYMENT_FACTS,
  LOCAL_DEPLOYMENT_FACTS,
  parseDeploymentFacts,
} from '../../lib/core/compliance/facts.ts';
import {
  assessCompliance,
  type ComplianceQuery,
  originOf,
  queryOfTask,
  type RegionVerdict,
} from '../../lib/core/compliance/rules.ts';
import type { DataClassification, DeploymentFacts } from '../../lib/core/compliance/types.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';

function topology(edit: (json: ReturnType<typeof defaultTopologyJson>) => void = () => {}): Topology {
  const json = defaultTopologyJson();
  edit(json);
  return validateTopology(json);
}

const t = topology();
const US = 'us-east-1';
const EU = 'eu-west-1';
const IN = 'ap-south-1';

function query(
  location: string,
  data_classification: DataClassification,
  extra: Partial<ComplianceQuery> = {},
  on: Topology = t,
): ComplianceQuery {
  const origin = originOf(on, location);
  if (!origin) throw new Error(`no origin ${location}`);
  return { data_classification, origin, ...extra };
}

function verdicts(
  q: ComplianceQuery,
  facts: DeploymentFacts | undefined = AWS_DEPLOYMENT_FACTS,
  on: Topology = t,
): Map<string, RegionVerdict> {
  return new Map(assessCompliance(on, q, facts));
}

const compliantRegions = (q: ComplianceQuery, facts?: DeploymentFacts, on?: Topology) =>
  [...verdicts(q, facts, on).values()].filter((v) => v.compliant).map((v) => v.region);

const rulesOf = (v: RegionVerdict | undefined) => (v?.reasons ?? []).map((r) => r.rule);

describe('compliant regions by jurisdiction and classification (AWS deployment)', () => {
  const ALL = [US, EU, IN];
  // location (as the spec and callers write it) -> classification -> the regions that may hold the data
  const cases: [string, Record<DataClassification, string[]>][] = [
    ['US', { public: ALL, internal: ALL, sensitive: [US], pii: [US] }],
    ['us', { public: ALL, internal: ALL, sensitive: [US], pii: [US] }],
    ['CA', { public: ALL, internal: ALL, sensitive: [US], pii: [US] }],
    ['mx', { public: ALL, internal: ALL, sensitive: [US], pii: [US] }],
    ['DE', { public: ALL, internal: ALL, sensitive: [EU], pii: [EU] }],
    ['de', { public: ALL, internal: ALL, sensitive: [EU], pii: [EU] }],
    ['UK', { public: ALL, internal: ALL, sensitive: [EU], pii: [EU] }],
    ['uk', { public: ALL, internal: ALL, sensitive: [EU], pii: [EU] }],
    ['GB', { public: ALL, internal: ALL, sensitive: [EU], pii: [EU] }],
    ['EU', { public: ALL, internal: ALL, sensitive: [EU], pii: [EU] }],
    ['EEA', { public: ALL, internal: ALL, sensitive: [EU], pii: [EU] }],
    ['eea', { public: ALL, internal: ALL, sensitive: [EU], pii: [EU] }],
    ['NO', { public: ALL, internal: ALL, sensitive: [EU], pii: [EU] }],
    ['IN', { public: ALL, internal: ALL, sensitive: [IN], pii: [IN] }],
    ['in', { public: ALL, internal: ALL, sensitive: [IN], pii: [IN] }],
    // No policy governs Japan: regulated data may go where the topology declares APAC residency.
    ['JP', { public: ALL, internal: ALL, sensitive: [IN], pii: [IN] }],
    // Switzerland has an EU adequacy decision as a destination, but no policy governs its data here.
    ['CH', { public: ALL, internal: ALL, sensitive: [], pii: [] }],
  ];
  for (const [location, expected] of cases) {
    for (const classification of ['public', 'internal', 'sensitive', 'pii'] as const) {
      it(`${classification} data from ${location} may be in ${expected[classification].join(', ') || 'no region'}`, () => {
        expect(compliantRegions(query(location, classification))).toEqual(expected[classification]);
      });
    }
  }
});

describe('cross-border transfer rules', () => {
  it('united_states restricts regulated data to US, CA, MX but lets internal data travel', () => {
    const pii = verdicts(query('US', 'pii'));
    expect(rulesOf(pii.get(EU))).toEqual(['transfer:restricted']);
    expect(pii.get(EU)?.reasons[0]?.reason).toBe(
      'united_states restricts cross-border transfers: pii data from US may not leave US, CA, MX for eu-west-1 (IE)',
    );
    expect(pii.get(US)).toMatchObject({ compliant: true, basis: 'in_jurisdiction', factor: 100 });
    expect(verdicts(query('US', 'internal')).get(EU)).toMatchObject({
      compliant: true,
      basis: 'unrestricted',
    });
  });

  it('european_union localizes regulated data: no transfer outside the adequacy list, even with an approval', () => {
    const pii = verdicts(query('DE', 'pii', { approval_ref: 'SCC-2026-001' }));
    expect(rulesOf(pii.get(US))).toEqual(['data_localization']);
    expect(pii.get(US)?.reasons[0]?.reason).toMatch(
      /^european_union localizes pii data from DE in EU, GB, EEA; it may go only to countries with an adequacy decision \(GB, CH\), not us-east-1 \(US\)$/,
    );
  });

  it('an adequacy decision lets regulated data go to that country, as a transfer (compliance factor 50)', () => {
    const withUs = topology((json) => {
      json.regional_compliance['eu-west-1'].data_residency.cross_border_transfer.adequacy_decisions.push(
        'us',
      );
    });
    const us = verdicts(query('DE', 'sensitive', {}, withUs), AWS_DEPLOYMENT_FACTS, withUs).get(US);
    expect(us).toMatchObject({ compliant: true, basis: 'adequacy', factor: 50, approval_for: [] });
  });

  it('without data localization, standard contractual clauses need an approval reference', () => {
    const open = topology((json) => {
      json.regional_compliance['eu-west-1'].data_residency.data_localization = false;
    });
    const refused = verdicts(query('FR', 'pii', {}, open), AWS_DEPLOYMENT_FACTS, open).get(US);
    expect(rulesOf(refused)).toEqual(['transfer:standard_contractual_clauses']);
    expect(refused?.reasons[0]?.reason).toMatch(/needs an approval_ref, and none was given$/);
    const approved = verdicts(
      query('FR', 'pii', { approval_ref: 'SCC-7' }, open),
      AWS_DEPLOYMENT_FACTS,
      open,
    );
    expect(approved.get(US)).toMatchObject({
      compliant: true,
      basis: 'approval',
      approval_for: ['european_union'],
    });
  });

  it('india requires an approval for sensitive data to leave, and keeps pii home (critical data localization)', () => {
    const without = verdicts(query('IN', 'sensitive'));
    expect(rulesOf(without.get(US))).toEqual(['transfer:approval_required']);
    expect(without.get(US)?.reasons[0]?.reason).toBe(
      'india requires an approval for cross-border transfers: sensitive data from IN to us-east-1 (US) needs an approval_ref, and none was given',
    );
    const approved = verdicts(query('IN', 'sensitive', { approval_ref: 'MEITY-2026-17' }));
    expect(approved.get(US)).toMatchObject({
      compliant: true,
      basis: 'approval',
      approval_for: ['india'],
      factor: 50,
    });
    expect(approved.get(IN)).toMatchObject({ compliant: true, basis: 'in_jurisdiction', approval_for: [] });
    const pii = verdicts(query('IN', 'pii', { approval_ref: 'MEITY-2026-17' }));
    expect(rulesOf(pii.get(US))).toEqual(['critical_data_localization']);
    expect(pii.get(US)?.reasons[0]?.reason).toMatch(/even with an approval$/);
  });

  it('localization outranks a transfer the rule itself allows', () => {
    const open = topology((json) => {
      json.regional_compliance['ap-south-1'].data_residency.cross_border_transfer = 'allowed';
    });
    const sensitive = verdicts(query('IN', 'sensitive', {}, open), AWS_DEPLOYMENT_FACTS, open).get(US);
    expect(sensitive).toMatchObject({ compliant: true, basis: 'transfer_allowed', factor: 50 });
    const pii = verdicts(query('IN', 'pii', {}, open), AWS_DEPLOYMENT_FACTS, open).get(US);
    expect(rulesOf(pii)).toEqual(['critical_data_localization']);
  });

  it('a prohibited transfer keeps internal data home too; public data is never restricted', () => {
    const closed = topology((json) => {
      json.regional_compliance['ap-south-1'].data_residency.cross_border_transfer = 'prohibited';
    });
    expect(compliantRegions(query('IN', 'internal', {}, closed), AWS_DEPLOYMENT_FACTS, closed)).toEqual([IN]);
    expect(
      rulesOf(verdicts(query('IN', 'internal', {}, closed), AWS_DEPLOYMENT_FACTS, closed).get(EU)),
    ).toEqual(['transfer:prohibited']);
    expect(compliantRegions(query('IN', 'public', {}, closed), undefined, closed)).toEqual([US, EU, IN]);
  });

  it('data of a group is judged for every member country', () => {
    const eea = verdicts(query('EEA', 'pii'));
    expect(eea.get(EU)?.compliant).toBe(true);
    expect(eea.get(US)?.reasons[0]?.reason).toMatch(/pii data from EEA in EU, GB, EEA/);
  });

  it('names the residency gap when no policy governs the origin', () => {
    expect(verdicts(query('CH', 'pii')).get(EU)?.reasons).toEqual([
      {
        type: 'data_residency',
        rule: 'residency',
        reason:
          "no compliance policy governs pii data from CH, and eu-west-1's residency (EU, GB, EEA) does not include it",
      },
    ]);
    expect(verdicts(query('JP', 'pii')).get(IN)).toMatchObject({ compliant: true, basis: 'residency' });
  });
});

describe('encryption and access control for regulated data', () => {
  it('refuses pii and sensitive data where the deployment does not encrypt or authenticate (local stores)', () => {
    const local = verdicts(query('US', 'pii'), LOCAL_DEPLOYMENT_FACTS).get(US);
    expect(local?.compliant).toBe(false);
    expect(local?.basis).toBe('in_jurisdiction');
    expect(rulesOf(local)).toEqual([
      'encryption_at_rest',
      'encryption_in_transit',
      'authentication',
      'access_logging',
    ]);
    expect(local?.reasons[0]?.reason).toBe(
      'encryption at rest is required (regulated data; united_states data_residency.encryption_required; soc2 encryption_at_rest) but the deployment (local) does not encrypt at rest',
    );
    expect(compliantRegions(query('DE', 'sensitive'), LOCAL_DEPLOYMENT_FACTS)).toEqual([]);
  });

  it("accepts them under the AWS deployment's controls, and internal data on any deployment", () => {
    expect(compliantRegions(query('US', 'pii'), AWS_DEPLOYMENT_FACTS)).toEqual([US]);
    expect(compliantRegions(query('US', 'internal'), LOCAL_DEPLOYMENT_FACTS)).toEqual([US, EU, IN]);
  });

  it('confirms nothing without deployment facts', () => {
    const unknown = assessCompliance(t, query('IN', 'sensitive'), undefined).get(IN);
    expect(unknown?.compliant).toBe(false);
    expect(unknown?.reasons[0]?.reason).toMatch(
      /the deployment declares no controls, so it cannot be confirmed$/,
    );
  });

  it("applies a data-scoped framework's controls only to data subject to it (PCI DSS demands MFA)", () => {
    const pci = verdicts(query('US', 'pii', { frameworks: ['pci-dss'] })).get(US);
    expect(rulesOf(pci)).toEqual(['mfa']);
    expect(pci?.reasons[0]?.reason).toBe(
      'multi-factor authentication is required (pci-dss access_control) but the deployment (aws) does not enforce multi-factor authentication',
    );
    expect(verdicts(query('US', 'pii', { frameworks: ['hipaa'] })).get(US)?.compliant).toBe(true);
    const mfa: DeploymentFacts = {
      ...AWS_DEPLOYMENT_FACTS,
      access_control: { ...AWS_DEPLOYMENT_FACTS.access_control, mfa_enforced: true },
    };
    expect(verdicts(query('US', 'pii', { frameworks: ['pci-dss'] }), mfa).get(US)?.compliant).toBe(true);
  });

  it('requires the frameworks the data is subject to', () => {
    const gdpr = verdicts(query('DE', 'internal', { frameworks: ['gdpr'] }));
    expect(rulesOf(gdpr.get(US))).toEqual(['framework:gdpr']);
    expect(gdpr.get(US)?.reasons[0]?.reason).toBe('lacks compliance framework gdpr');
    expect(gdpr.get(EU)?.compliant).toBe(true);
  });
});

describe('compliance queries', () => {
  it('reads a stored task: unclassified is internal; origin from country, then residency, then source region', () => {
    expect(queryOfTask(t, { task_id: 'a' }, EU)).toEqual({
      query: { data_classification: 'internal', origin: { label: 'IE', countries: ['IE'] }, frameworks: [] },
    });
    const task = {
      source: { region: US },
      requirements: {
        data_residency: 'uk',
        data_classification: 'pii',
        compliance: ['PCI_DSS'],
        approval_ref: 'A-1',
      },
    };
    expect(queryOfTask(t, task, US)).toEqual({
      query: {
        data_classification: 'pii',
        origin: { label: 'GB', countries: ['GB'] },
        frameworks: ['pci-dss'],
        approval_ref: 'A-1',
      },
    });
    expect(
      queryOfTask(t, { source: { country: 'in' }, requirements: { data_residency: 'US' } }, US),
    ).toMatchObject({
      query: { origin: { label: 'IN' } },
    });
    expect(queryOfTask(t, { requirements: { data_residency: 'Atlantis' } }, US)).toEqual({
      error: 'its origin (Atlantis) is unknown',
    });
  });

  it('answers the same assessment for the same query (memoized per topology and facts)', () => {
    const q = query('DE', 'pii');
    expect(assessCompliance(t, q, AWS_DEPLOYMENT_FACTS)).toBe(
      assessCompliance(t, { ...q }, AWS_DEPLOYMENT_FACTS),
    );
    expect(assessCompliance(t, q, LOCAL_DEPLOYMENT_FACTS)).not.toBe(
      assessCompliance(t, q, AWS_DEPLOYMENT_FACTS),
    );
  });

  it('reads deployment facts from JSON and names every bad field', () => {
    expect(parseDeploymentFacts(JSON.parse(JSON.stringify(AWS_DEPLOYMENT_FACTS)))).toEqual(
      AWS_DEPLOYMENT_FACTS,
    );
    expect(() =>
      parseDeploymentFacts({
        source: 'x',
        description: 'y',
        encryption_at_rest: { enabled: 'yes' },
        access_control: {},
      }),
    ).toThrow(
      /access_control.authentication must be iam or none; encryption_at_rest.enabled must be true or false; encryption_in_transit must be true or false/,
    );
  });
});
