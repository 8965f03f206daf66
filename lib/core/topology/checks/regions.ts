/** The `regions` and `witnesses` sections: ids, countries, capabilities, compliance and residency of each region. */
import { isIsoCountry } from '../../geo/countries.ts';
import { normalizeCountryCode } from '../residency.ts';
import type { ParsedTopology } from '../schema.ts';
import type { Region, Witness } from '../types.ts';
import { normalizeFramework, unknownFramework } from './frameworks.ts';
import type { PlaceResolver } from './places.ts';
import { type KnownRegions, type Report, reportDuplicates } from './report.ts';

export function checkRegions(data: ParsedTopology, places: PlaceResolver, report: Report): Region[] {
  reportDuplicates(
    data.regions.map((r) => r.region_id),
    (index) => `regions[${index}].region_id`,
    'region_id',
    report,
  );
  return data.regions.map((raw, index) => checkRegion(raw, `regions[${index}]`, places, report));
}

function checkRegion(
  raw: ParsedTopology['regions'][number],
  field: string,
  places: PlaceResolver,
  report: Report,
): Region {
  const country = normalizeCountryCode(raw.geographic_location.country);
  if (!isIsoCountry(country)) {
    report(
      `${field}.geographic_location.country`,
      `unknown country "${raw.geographic_location.country}"; expected an ISO 3166-1 alpha-2 code (a region is in one country, not a group)`,
    );
  }
  reportDuplicates(raw.capabilities, (i) => `${field}.capabilities[${i}]`, 'capability', report);
  const frameworks = raw.compliance.map((name, i) => {
    const framework = normalizeFramework(name);
    if (!framework) report(`${field}.compliance[${i}]`, unknownFramework(name));
    return framework;
  });
  reportDuplicates(frameworks, (i) => `${field}.compliance[${i}]`, 'compliance framework', report);
  const compliance = frameworks.filter((framework) => framework !== undefined);
  const data_residency = places.places(raw.data_residency, `${field}.data_residency`, report);
  return {
    region_id: raw.region_id,
    display_name: raw.display_name,
    provider: raw.provider,
    geographic_location: { ...raw.geographic_location, country },
    tier: raw.tier,
    capabilities: raw.capabilities,
    compliance,
    data_residency,
    residency_countries: places.countries(data_residency),
    cost_index: raw.cost_index,
  };
}

export function checkWitnesses(witnesses: Witness[], known: KnownRegions, report: Report): Witness[] {
  reportDuplicates(
    witnesses.map((w) => w.witness_id),
    (index) => `witnesses[${index}].witness_id`,
    'witness_id',
    report,
  );
  witnesses.forEach((witness, index) => {
    if (known.ids.has(witness.witness_id)) {
      report(
        `witnesses[${index}].witness_id`,
        `witness id "${witness.witness_id}" collides with the region of the same id`,
      );
    }
    if (known.ids.has(witness.region)) {
      report(
        `witnesses[${index}].region`,
        `witness runs in "${witness.region}", a region of this topology; a witness must fail independently of the regions it judges`,
      );
    }
  });
  return witnesses;
}
