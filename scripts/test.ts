/**
 * `npm test`: the type check, Biome and the layer rules side by side, then the tests in two vitest
 * runs at once: the `logic` and `infra` projects, and the `wall-clock` project (vitest.config.ts).
 * The wall-clock files spend much of their time waiting on scaled real time, so they overlap the
 * CPU-bound projects instead of following them (docs/benchmarks.md, "Test suite"). Vitest cannot run
 * them in one run that way: the projects of one group share one worker count, and the wall-clock
 * files run one at a time. The CPU-bound run is niced: a plane on a scaled clock that waits for the
 * CPU sees its probes time out, a unit test that waits only ends later.
 *
 * Each check's output, and the wall-clock run's, is printed whole when it ends, so their lines do not
 * interleave with the live run's. The tests run only when every check passed; the exit code is the
 * first failure's. The two JSON reports are merged into .test-results.json, as one `vitest run`
 * writes it. With arguments, the checks run as before and then `vitest run <arguments>` alone.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CHECKS = ['typecheck', 'lint', 'deps'] as const;
const REPORT = '.test-results.json';

interface Outcome {
  readonly code: number;
  readonly output: string;
  readonly seconds: number;
}

/** Runs `command`; `capture` collects its output instead of showing it as it comes. */
function run(command: string, args: readonly string[], capture: boolean): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk;
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const done = (code: number) => resolve({ code, output, seconds: (performance.now() - started) / 1000 });
    child.on('error', (error) => {
      output += `${command}: ${error.message}\n`;
      done(1);
    });
    // Killed by a signal, it has no exit code: a failure all the same.
    child.on('close', (code) => done(code ?? 1));
  });
}

let failed = 0;
const fail = (code: number) => {
  if (code !== 0 && failed === 0) failed = code;
};

await Promise.all(
  CHECKS.map(async (name) => {
    const outcome = await run('npm', ['run', '--silent', name], true);
    process.stdout.write(outcome.output);
    console.log(`${outcome.code === 0 ? 'ok' : 'FAILED'}: npm run ${name} (${outcome.seconds.toFixed(1)} s)`);
    fail(outcome.code);
  }),
);

const args = process.argv.slice(2);
if (failed !== 0) {
  process.exitCode = failed;
} else if (args.length > 0) {
  process.exitCode = (await run('vitest', ['run', ...args], false)).code;
} else {
  const reports = await mkdtemp(join(tmpdir(), 'cortex-test-'));
  const runs = [
    { projects: ['logic', 'infra'], report: join(reports, 'cpu.json'), capture: false, nice: true },
    { projects: ['wall-clock'], report: join(reports, 'wall-clock.json'), capture: true, nice: false },
  ];
  await Promise.all(
    runs.map(async ({ projects, report, capture, nice }) => {
      const vitest = [
        'vitest',
        'run',
        ...projects.flatMap((p) => ['--project', p]),
        `--outputFile.json=${report}`,
      ];
      const [command, ...rest] = nice ? ['nice', '-n', '10', ...vitest] : vitest;
      const outcome = await run(command as string, rest, capture);
      if (capture) process.stdout.write(outcome.output);
      console.log(
        `${outcome.code === 0 ? 'ok' : 'FAILED'}: vitest ${projects.join(', ')} (${outcome.seconds.toFixed(1)} s)`,
      );
      fail(outcome.code);
    }),
  );
  await mergeReports(runs.map((r) => r.report));
  await rm(reports, { recursive: true, force: true });
  process.exitCode = failed;
}

/** Merges vitest JSON reports into REPORT: counts summed, files concatenated. */
async function mergeReports(paths: readonly string[]): Promise<void> {
  // biome-ignore lint/suspicious/noExplicitAny: vitest's JSON report, read and summed field by field
  const reports: any[] = [];
  for (const path of paths) {
    try {
      reports.push(JSON.parse(await readFile(path, 'utf8')));
    } catch {
      // A run that crashed before its report: its exit code already failed the suite.
    }
  }
  if (reports.length === 0) {
    await rm(REPORT, { force: true });
    return;
  }
  const merged = { ...reports[0] };
  for (const key of Object.keys(merged)) {
    if (key.startsWith('num')) merged[key] = reports.reduce((sum, r) => sum + (r[key] ?? 0), 0);
  }
  merged.startTime = Math.min(...reports.map((r) => r.startTime));
  merged.success = reports.length === paths.length && reports.every((r) => r.success);
  merged.testResults = reports.flatMap((r) => r.testResults);
  await writeFile(REPORT, JSON.stringify(merged));
}
