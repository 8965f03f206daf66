/**
 * A topology validated at build time (`cdk synth`), shipped inside each Lambda bundle. Validation
 * happens once, where a bad file can still stop a deployment (principle 9); a function's cold start
 * then only checks the envelope instead of carrying the schema and re-validating.
 */
import type { Topology } from './types.ts';

const COMPILED_TOPOLOGY_FORMAT = 'cortex-topology/validated-v1';

interface CompiledTopology {
  readonly format: typeof COMPILED_TOPOLOGY_FORMAT;
  readonly topology: Topology;
}

export function compileTopology(topology: Topology): CompiledTopology {
  return { format: COMPILED_TOPOLOGY_FORMAT, topology };
}

/** Opens a compiled topology; anything else (a raw file, another format) is refused by name. */
export function openCompiledTopology(value: unknown): Topology {
  const envelope = value as Partial<CompiledTopology> | null;
  if (envelope === null || typeof envelope !== 'object' || envelope.format !== COMPILED_TOPOLOGY_FORMAT) {
    throw new Error(`bundled topology is not a ${COMPILED_TOPOLOGY_FORMAT} document; rebuild with cdk synth`);
  }
  const topology = envelope.topology;
  if (!topology || !Array.isArray(topology.regions) || typeof topology.expanded_groups !== 'object') {
    throw new Error('bundled topology has no regions or groups; rebuild with cdk synth');
  }
  return deepFreeze(topology);
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
