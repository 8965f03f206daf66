/**
 * The `regional_compliance` section: known regions and frameworks, frameworks enabled only where the
 * region lists them, and the residency's countries and adequacy decisions resolved to places.
 */
import type { ParsedTopology } from '../schema.ts';
import type { ComplianceFrameworkPolicy, RegionalCompliance } from '../sections.ts';
import type { ComplianceFramework, Region } from '../types.ts';
import { normalizeFramework, unknownFramework } from './frameworks.ts';
import type { PlaceResolver } from './places.ts';
import { checkRegionKeys, type KnownRegions, type Report } from './report.ts';

type RawPolicy = ParsedTopology['regional_compliance'][string];

export function checkCompliance(
  raw: ParsedTopology['regional_compliance'],
  regions: readonly Region[],
  known: KnownRegions,
  places: PlaceResolver,
  report: Report,
): Record<string, RegionalCompliance> {
  checkRegionKeys(raw, 'regional_compliance', known, report, undefined);
  const out: Record<string, RegionalCompliance> = {};
  for (const [id, policy] of Object.entries(raw)) {
    const field = `regional_compliance.${id}`;
    const frameworks = checkFrameworks(policy.frameworks, field, id, regions, report);
    out[id] = {
      ...policy,
      frameworks,
      data_residency: resolveResidency(policy.data_residency, field, places, report),
    };
  }
  return out;
}

/** Framework names normalized, each once, and enabled only where `regions[i].compliance` lists it. */
function checkFrameworks(
  raw: RawPolicy['frameworks'],
  field: string,
  regionId: string,
  regions: readonly Region[],
  report: Report,
): Partial<Record<ComplianceFramework, ComplianceFrameworkPolicy>> {
  const region = regions.find((r) => r.region_id === regionId);
  const frameworks: Partial<Record<ComplianceFramework, ComplianceFrameworkPolicy>> = {};
  for (const [name, settings] of Object.entries(raw)) {
    const at = `${field}.frameworks.${name}`;
    const framework = normalizeFramework(name);
    if (!framework) {
      report(at, unknownFramework(name));
      continue;
    }
    if (frameworks[framework]) {
      report(at, `framework ${framework} appears twice (spellings ${framework} and ${name})`);
      continue;
    }
    if (settings.enabled && region && !region.compliance.includes(framework)) {
      const index = regions.indexOf(region);
      report(at, `framework ${framework} is enabled here but regions[${index}].compliance does not list it`);
    }
    frameworks[framework] = settings;
  }
  return frameworks;
}

/** The allowed countries and the adequacy decisions (which may name countries in English) as places. */
function resolveResidency(
  residency: RawPolicy['data_residency'],
  field: string,
  places: PlaceResolver,
  report: Report,
): RegionalCompliance['data_residency'] {
  const allowed_countries = places.places(
    residency.allowed_countries,
    `${field}.data_residency.allowed_countries`,
    report,
  );
  const transfer = residency.cross_border_transfer;
  const cross_border_transfer =
    typeof transfer === 'string'
      ? transfer
      : {
          ...transfer,
          adequacy_decisions: places.places(
            transfer.adequacy_decisions,
            `${field}.data_residency.cross_border_transfer.adequacy_decisions`,
            report,
            { names: true },
          ),
        };
  return { ...residency, allowed_countries, cross_border_transfer };
}
