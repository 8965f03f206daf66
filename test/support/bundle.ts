import { join } from 'node:path';
import { build } from 'esbuild';
import { compileTopology } from '../../lib/core/topology/compiled.ts';
import { loadTopologyFile } from '../../lib/topology/load.ts';

/**
 * Bundles `functions/<name>/index.ts` the way lib/infra does (ESM, node24, minified, the compiled topology
 * defined as CORTEX_TOPOLOGY) into `dir/<name>.mjs`; returns the file. The SDK is bundled in, so the
 * file runs outside the project without the Lambda runtime's copy.
 */
export async function bundleFunction(name: string, dir: string): Promise<string> {
  const outfile = join(dir, `${name}.mjs`);
  await build({
    entryPoints: [`functions/${name}/index.ts`],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    define: { CORTEX_TOPOLOGY: JSON.stringify(compileTopology(loadTopologyFile())) },
    banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
    logLevel: 'error',
  });
  return outfile;
}

/**
 * The environment a bundled function reads in eu-west-1 with its table on a local DynamoDB-compatible
 * server (`table.endpoint`) and local credentials; `extra` adds or overrides variables.
 */
export function bundleEnvironment(
  table: { readonly tableName: string; readonly endpoint: string },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    CORTEX_REGION_ID: 'eu-west-1',
    CORTEX_TABLE_NAME: table.tableName,
    AWS_REGION: 'eu-west-1',
    AWS_ENDPOINT_URL_DYNAMODB: table.endpoint,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    ...extra,
  };
}
