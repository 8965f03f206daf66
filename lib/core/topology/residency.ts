/**
 * Country codes and residency groups after a topology is validated. Kept apart from the validator
 * so the routing path (and its Lambda bundles) does not carry the schema.
 */
import { isIsoCountry } from '../geo/countries.ts';
import type { Topology } from './types.ts';

/** Codes in use that are not ISO 3166-1 alpha-2: the EU writes UK and EL for GB and GR. */
const COUNTRY_ALIASES: Readonly<Record<string, string>> = { UK: 'GB', EL: 'GR' };

/** Upper-cases a country code or group name and maps the aliases (`uk` -> `GB`). */
export function normalizeCountryCode(code: string): string {
  const upper = code.trim().toUpperCase();
  return COUNTRY_ALIASES[upper] ?? upper;
}

/**
 * The ISO codes a country code or group stands for (sorted), after normalization; `undefined` when
 * it is neither an ISO code nor a group of this topology.
 */
export function expandResidency(topology: Topology, code: string): string[] | undefined {
  const normalized = normalizeCountryCode(code);
  if (isIsoCountry(normalized)) return [normalized];
  const group = topology.expanded_groups[normalized];
  return group ? [...group] : undefined;
}
