/**
 * A deployment's generation (`-c generation=<g>`, lib/infra/deploy-options.ts): the topology deployed
 * under the name `<name>-<g>`. Without CDK, so the CLI (`cortex doctor --ssm --generation`) finds
 * the same names the app deploys.
 */
import { TopologyError } from '../core/errors.ts';
import type { Topology } from '../core/topology/types.ts';

/** Lower-case letters and digits: it becomes part of table names, KMS aliases and SSM paths. */
const GENERATION = /^[a-z0-9]{1,8}$/;

/**
 * The topology renamed for `generation` (`cortex` -> `cortex-g2` for `g2`); the same topology when
 * none is given. Throws a TopologyError naming the context key for a bad value.
 */
export function withGeneration(topology: Topology, generation: string | undefined): Topology {
  if (generation === undefined) return topology;
  if (!GENERATION.test(generation)) {
    throw new TopologyError([
      {
        field: 'context generation',
        reason: `must be 1-8 lower-case letters or digits (it suffixes every physical name), got ${JSON.stringify(generation)}`,
      },
    ]);
  }
  return Object.freeze({ ...topology, name: `${topology.name}-${generation}` });
}
