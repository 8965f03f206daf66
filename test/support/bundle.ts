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
