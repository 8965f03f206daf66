/**
 * Compliance frameworks the platform knows; names are the spec's region-metadata spelling. A module
 * of its own because both the topology (types.ts) and its sections (sections.ts) name them, and
 * types.ts builds on sections.ts: neither may import the other back.
 */
export type ComplianceFramework = 'soc2' | 'hipaa' | 'pci-dss' | 'gdpr' | 'iso27001';

export const COMPLIANCE_FRAMEWORKS: readonly ComplianceFramework[] = [
  'soc2',
  'hipaa',
  'pci-dss',
  'gdpr',
  'iso27001',
];
