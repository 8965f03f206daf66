import { join } from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import { compileTopology } from '../../lib/core/topology/compiled.ts';
import { loadTopologyFile } from '../../lib/topology/load.ts';

/**
 * esbuild as lib/infra bundles a function (ESM, node24, minified, module entry points first, a
 * `require` shim for CommonJS dependencies), except that the SDK is bundled in: the file runs outside
 * the Lambda runtime and its copy of the SDK.
 */
export const INFRA_LIKE_BUNDLE = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  minify: true,
  mainFields: ['module', 'main'],
  banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
  logLevel: 'error',
} as const satisfies BuildOptions;

/**
 * Bundles `functions/<name>/index.ts` as INFRA_LIKE_BUNDLE, the compiled topology defined as
 * CORTEX_TOPOLOGY, into `dir/<name>.mjs`; returns the file.
 */
export async function bundleFunction(name: string, dir: string): Promise<string> {
  const outfile = join(dir, `${name}.mjs`);
  await build({
    ...INFRA_LIKE_BUNDLE,
    entryPoints: [`functions/${name}/index.ts`],
    outfile,
    define: { CORTEX_TOPOLOGY: JSON.stringify(compileTopology(loadTopologyFile())) },
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
