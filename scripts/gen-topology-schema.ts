/**
 * Writes topology/topology.schema.json from the zod schema, for editor support in topology files
 * (`"$schema": "./topology.schema.json"`). Run after changing lib/core/topology/schema.ts:
 *   node scripts/gen-topology-schema.ts
 * A unit test fails when the checked-in file is stale.
 */

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
// The zod main entry is fine here (a build script); Lambda code imports only zod/mini.
import * as z from 'zod';
import { topologySchema } from '../lib/core/topology/schema.ts';

export const TOPOLOGY_SCHEMA_PATH = fileURLToPath(
  new URL('../topology/topology.schema.json', import.meta.url),
);

/** The JSON Schema of a topology file as written (input side: optional fields stay optional). */
export function topologyJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(topologySchema, { target: 'draft-2020-12', io: 'input' });
  return {
    $schema: generated.$schema,
    $id: 'https://cortex.internal/schemas/topology.schema.json',
    title: 'Cortex multi-region topology',
    description: 'Generated from lib/core/topology/schema.ts by scripts/gen-topology-schema.ts; do not edit.',
    ...generated,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(TOPOLOGY_SCHEMA_PATH, `${JSON.stringify(topologyJsonSchema(), null, 2)}\n`);
  // Format as `npm run lint` expects; the content is what the freshness test compares.
  const biome = fileURLToPath(new URL('../node_modules/.bin/biome', import.meta.url));
  execFileSync(biome, ['format', '--write', TOPOLOGY_SCHEMA_PATH], { stdio: 'ignore' });
  console.log(`wrote ${TOPOLOGY_SCHEMA_PATH}`);
}
