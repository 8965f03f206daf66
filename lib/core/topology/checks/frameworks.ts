/** Compliance framework names as a topology may write them (any case, aliases such as `pci-dss`). */
import { COMPLIANCE_FRAMEWORK_ALIASES } from '../schema.ts';
import { COMPLIANCE_FRAMEWORKS, type ComplianceFramework } from '../types.ts';

/** The framework a name means, or undefined when it names none. */
export function normalizeFramework(name: string): ComplianceFramework | undefined {
  const lower = name.trim().toLowerCase();
  const alias = COMPLIANCE_FRAMEWORK_ALIASES[lower];
  if (alias) return alias;
  return COMPLIANCE_FRAMEWORKS.find((framework) => framework === lower);
}

export const unknownFramework = (name: string) =>
  `unknown compliance framework "${name}"; expected one of ${COMPLIANCE_FRAMEWORKS.join(', ')}`;
