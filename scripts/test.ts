/**
 * `npm test`: the type check, Biome, the layer rules and the tests, in two vitest runs at once: the
 * `wall-clock` project (vitest.config.ts) from the start, beside the checks, and the `logic` and
 * `infra` projects once the checks passed. The wall-clock files spend much of their time waiting on
 * scaled real time, one file at a time, so they overlap the CPU-bound work instead of following it
 * (docs/benchmarks.md, "Test suite"). Vitest cannot run them in one run that way: the projects of one
 * group share one worker count. Everything but the wall-clock run is niced: a plane on a scaled clock
 * that waits for the CPU sees its probes time out, a check or a unit test that waits only ends later.
 *
 * The type check and Biome gate the logic and infra run; the layer rules (the slowest check, and
 * one a type error does not make moot) run on beside it. Each check's output, and the wall-clock
 * run's, is printed whole when it ends, so their lines do not interleave with the live run's. A
 * failing check stops every run still going and starts nothing more; the exit code is the first
 * failure's. The two JSON reports are merged into .test-results.json, as
 * one `vitest run` writes it. With arguments, the checks run, then `vitest run <arguments>` alone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Checks the logic and infra run waits for. */
const GATES = ['typecheck', 'lint'] as const;
/** Checks that run on beside the logic and infra run. */
const BESIDE = ['deps'] as const;
const REPORT = '.test-results.json';
// Weight 335 against 1,024 for the wall-clock run: its planes get three times the CPU share of each
// niced worker, and the niced runs are not starved by other work on a shared machine as at 10 (110).
const NICE = ['nice', '-n', '5'];

interface Outcome {
  readonly code: number;
  readonly output: string;
  readonly seconds: number;
}

interface Running {
  readonly child: ChildProcess;
  readonly outcome: Promise<Outcome>;
}

/** Starts `command`; `capture` collects its output instead of showing it as it comes. */
function start([command, ...args]: readonly string[], capture: boolean): Running {
  const started = performance.now();
  const child = spawn(command as string, args, { stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
  const outcome = new Promise<Outcome>((resolve) => {
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
  return { child, outcome };
}

let failed = 0;
const fail = (code: number) => {
  if (code !== 0 && failed === 0) failed = code;
};

/** Prints a captured run's output and its verdict. */
function report(name: string, outcome: Outcome): void {
  process.stdout.write(outcome.output);
  console.log(`${outcome.code === 0 ? 'ok' : 'FAILED'}: ${name} (${outcome.seconds.toFixed(1)} s)`);
}

const vitest = (projects: readonly string[], reportFile: string) => [
  'vitest',
  'run',
  ...projects.flatMap((p) => ['--project', p]),
  `--outputFile.json=${reportFile}`,
];

const args = process.argv.slice(2);
const reports = await mkdtemp(join(tmpdir(), 'cortex-test-'));
const runs = [
  { projects: ['wall-clock'], report: join(reports, 'wall-clock.json') },
  { projects: ['logic', 'infra'], report: join(reports, 'cpu.json') },
] as const;
const [wallClockRun, cpuRun] = runs;
const wallClock =
  args.length === 0 ? start(vitest(wallClockRun.projects, wallClockRun.report), true) : undefined;

/** Runs still going, stopped when a check fails. */
const live = new Map<string, Running>();
if (wallClock) live.set('vitest wall-clock', wallClock);
const stopLive = async () => {
  const stopping = [...live];
  live.clear();
  for (const [, running] of stopping) running.child.kill('SIGTERM');
  for (const [name, running] of stopping) {
    await running.outcome;
    console.log(`stopped: ${name} (a check failed)`);
  }
};
const check = async (name: string) => {
  const outcome = await start([...NICE, 'npm', 'run', '--silent', name], true).outcome;
  report(`npm run ${name}`, outcome);
  fail(outcome.code);
  if (outcome.code !== 0) await stopLive();
};
const beside = Promise.all(BESIDE.map(check));
await Promise.all(GATES.map(check));

if (failed === 0 && !wallClock) {
  await beside;
  if (failed === 0) fail((await start(['vitest', 'run', ...args], false).outcome).code);
} else if (failed === 0 && wallClock) {
  const cpu = start([...NICE, ...vitest(cpuRun.projects, cpuRun.report)], false);
  live.set('vitest logic, infra', cpu);
  const cpuOutcome = await cpu.outcome;
  if (live.delete('vitest logic, infra')) {
    console.log(
      `${cpuOutcome.code === 0 ? 'ok' : 'FAILED'}: vitest logic, infra (${cpuOutcome.seconds.toFixed(1)} s)`,
    );
    fail(cpuOutcome.code);
  }
  await beside;
  if (live.delete('vitest wall-clock')) {
    const wallClockOutcome = await wallClock.outcome;
    report('vitest wall-clock', wallClockOutcome);
    fail(wallClockOutcome.code);
  }
  await mergeReports(runs.map((r) => r.report));
}
await beside;
await rm(reports, { recursive: true, force: true });
process.exitCode = failed;

/** Merges vitest JSON reports into REPORT: counts summed, files concatenated. */
async function mergeReports(paths: readonly string[]): Promise<void> {
  // biome-ignore lint/suspicious/noExplicitAny: vitest's JSON report, read and summed field by field
  const parsed: any[] = [];
  for (const path of paths) {
    try {
      parsed.push(JSON.parse(await readFile(path, 'utf8')));
    } catch {
      // A run that crashed before its report: its exit code already failed the suite.
    }
  }
  if (parsed.length === 0) {
    await rm(REPORT, { force: true });
    return;
  }
  const merged = { ...parsed[0] };
  for (const key of Object.keys(merged)) {
    if (key.startsWith('num')) merged[key] = parsed.reduce((sum, r) => sum + (r[key] ?? 0), 0);
  }
  merged.startTime = Math.min(...parsed.map((r) => r.startTime));
  merged.success = parsed.length === paths.length && parsed.every((r) => r.success);
  merged.testResults = parsed.flatMap((r) => r.testResults);
  await writeFile(REPORT, JSON.stringify(merged));
}
