/**
 * Import time of the Lambda bundles: each function's bundle (functions/<name>/index.ts, bundled the
 * way lib/infra does) against bare middy plus the DynamoDB client, imported in fresh processes with
 * the two interleaved, so drift in the machine's load falls on both sides alike. Import time is
 * cold-start time: module evaluation plus the deps each entry point builds at module scope.
 *
 * `npm run bench` prints the router's line; alone, `node bench/import-time.ts [--runs N] [--inputs]
 * [function ...]` (default: the router; `all`: every function) also lists the largest inputs of each
 * bundle (esbuild's metafile), the figures to read when a bundle grows.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { compileTopology } from '../lib/core/topology/compiled.ts';
import { validateTopology } from '../lib/core/topology/validate.ts';
import { readTopologyJson } from '../lib/topology/load.ts';
import { INFRA_LIKE_BUNDLE } from '../test/support/bundle.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'bench', 'out');

/** The bound: a function's bundle imports within 20 % of the bare middy + DynamoDB bundle. */
export const IMPORT_RATIO_TARGET = 1.2;

export interface BundleFigures {
  readonly name: string;
  readonly bytes: number;
  readonly baseline_bytes: number;
  readonly import_ms: number;
  readonly baseline_ms: number;
  /** import_ms / baseline_ms, medians of the interleaved runs. */
  readonly ratio: number;
  /**
   * The same for the importing thread's CPU time: on a loaded machine the wall time also holds the
   * waits for a core, which fall on both sides but not in proportion.
   */
  readonly cpu_ms: number;
  readonly baseline_cpu_ms: number;
  readonly cpu_ratio: number;
  readonly runs: number;
  /** The machine's 1-minute load average before and after the runs, and its cores. */
  readonly load: readonly [number, number];
  readonly cores: number;
  /** The bundle's inputs by bytes in the output, largest first (node_modules grouped by package). */
  readonly inputs: readonly { readonly input: string; readonly bytes: number }[];
}

/** Bundles the way lib/infra does (INFRA_LIKE_BUNDLE), SDK included so both sides carry it. */
async function bundle(entry: string, outfile: string, define: Record<string, string> = {}) {
  const result = await build({
    ...INFRA_LIKE_BUNDLE,
    entryPoints: [entry],
    outfile,
    define,
    metafile: true,
  });
  return { bytes: statSync(outfile).size, metafile: result.metafile };
}

function inputsBySize(metafile: Metafile): { input: string; bytes: number }[] {
  const bytes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
      const key = pkg ?? path;
      bytes.set(key, (bytes.get(key) ?? 0) + input.bytesInOutput);
    }
  }
  return [...bytes]
    .map(([input, n]) => ({ input, bytes: n }))
    .filter((i) => i.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes);
}

/** One fresh process importing `file`: milliseconds from the import's start to its end, wall and CPU. */
function importOnce(file: string): { wall: number; cpu: number } {
  const script =
    'const c=process.threadCpuUsage();const t=performance.now();' +
    `await import(${JSON.stringify(file)});` +
    'const w=performance.now()-t;const u=process.threadCpuUsage(c);' +
    'process.stdout.write(JSON.stringify({wall:w,cpu:(u.user+u.system)/1000}));';
  const text = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      ...process.env,
      CORTEX_REGION_ID: 'us-east-1',
      CORTEX_TABLE_NAME: 'cortex-state',
      // What the functions with more ports read at init; never called here.
      CORTEX_EVENT_BUS: 'cortex-events',
      CORTEX_FAILOVER_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:cortex-failover',
      CORTEX_REGION_ENDPOINTS: JSON.stringify({ 'us-east-1': 'https://api.us-east-1.example.com' }),
      AWS_REGION: 'us-east-1',
    },
    encoding: 'utf8',
  });
  return JSON.parse(text) as { wall: number; cpu: number };
}

function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** The baseline: middy and a DynamoDB document client built at module scope, one Get in the handler. */
async function baselineBundle() {
  mkdirSync(out, { recursive: true });
  const entry = join(out, 'baseline-entry.mjs');
  writeFileSync(
    entry,
    [
      "import middy from '@middy/core';",
      "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';",
      "import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';",
      'const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));',
      "export const handler = middy().handler(async () => client.send(new GetCommand({ TableName: 't', Key: { pk: 'x' } })));",
    ].join('\n'),
  );
  const file = join(out, 'baseline.mjs');
  return { file, ...(await bundle(entry, file)) };
}

/** Every function with an entry point under functions/. */
export function functionNames(): string[] {
  return readdirSync(join(root, 'functions'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'shared')
    .map((d) => d.name)
    .sort();
}

/** Bundles `names` and the baseline, then imports each beside the baseline `runs` times. */
export async function measureImportTimes(names: readonly string[], runs = 31): Promise<BundleFigures[]> {
  const topology = JSON.stringify(compileTopology(validateTopology(readTopologyJson())));
  const baseline = await baselineBundle();
  const figures: BundleFigures[] = [];
  for (const name of names) {
    const file = join(out, `${name}.mjs`);
    const built = await bundle(join(root, 'functions', name, 'index.ts'), file, {
      CORTEX_TOPOLOGY: topology,
    });
    for (let i = 0; i < 3; i++) {
      importOnce(baseline.file);
      importOnce(file);
    }
    const before = loadavg()[0] ?? 0;
    const baselineSamples: { wall: number; cpu: number }[] = [];
    const samples: { wall: number; cpu: number }[] = [];
    for (let i = 0; i < runs; i++) {
      baselineSamples.push(importOnce(baseline.file));
      samples.push(importOnce(file));
    }
    const importMs = median(samples.map((s) => s.wall));
    const baselineMs = median(baselineSamples.map((s) => s.wall));
    const cpuMs = median(samples.map((s) => s.cpu));
    const baselineCpuMs = median(baselineSamples.map((s) => s.cpu));
    figures.push({
      name,
      bytes: built.bytes,
      baseline_bytes: baseline.bytes,
      import_ms: importMs,
      baseline_ms: baselineMs,
      ratio: importMs / baselineMs,
      cpu_ms: cpuMs,
      baseline_cpu_ms: baselineCpuMs,
      cpu_ratio: cpuMs / baselineCpuMs,
      runs,
      load: [before, loadavg()[0] ?? 0],
      cores: cpus().length,
      inputs: inputsBySize(built.metafile),
    });
  }
  return figures;
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);
const kib = (n: number) => `${fmt(n / 1024)} KiB`;

export function formatImportTime(f: BundleFigures): string {
  return (
    `${f.name} bundle: ${kib(f.bytes)} vs baseline (middy + DynamoDB client) ${kib(f.baseline_bytes)}; ` +
    `import time (median of ${f.runs} fresh processes, interleaved): ${fmt(f.import_ms)} ms vs ${fmt(f.baseline_ms)} ms: ` +
    `ratio ${fmt(f.ratio, 2)} (target <= ${fmt(IMPORT_RATIO_TARGET, 2)}); ` +
    `its thread's CPU ${fmt(f.cpu_ms)} ms vs ${fmt(f.baseline_cpu_ms)} ms: ratio ${fmt(f.cpu_ratio, 2)}; ` +
    `load ${fmt(f.load[0], 2)} -> ${fmt(f.load[1], 2)} on ${f.cores} cores`
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const runsAt = args.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 31;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  const listed = args.filter((a, i) => !a.startsWith('--') && (runsAt < 0 || i !== runsAt + 1));
  const known = functionNames();
  const names = listed.includes('all') ? known : listed.length > 0 ? listed : ['router'];
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) throw new Error(`no function ${unknown.join(', ')} (functions/<name>/index.ts)`);
  for (const f of await measureImportTimes(names, runs)) {
    console.log(formatImportTime(f));
    if (args.includes('--inputs')) {
      for (const i of f.inputs.slice(0, 25)) console.log(`  ${kib(i.bytes).padStart(10)}  ${i.input}`);
    }
  }
}
