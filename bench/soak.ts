/**
 * `npm run bench:soak`: one simulated day of an idle local control plane at the default policy.
 * Starts `cortex local --fresh` as its own process (its RSS is the plane's alone), lets simulated
 * time run a day at `--speed` (default 60: 24 minutes; past the speed the machine keeps up with,
 * the replication queue shows it), and prints the process's resident memory and the data
 * directory's size at start, every `--every` simulated hours (default 2) and at the end, with the
 * replication links' queues (a backlog is memory too), the CPU the plane used, and the share of its
 * scheduled probe rounds it ran (below 100 %, its jobs run late: the machine does not keep up with the
 * speed, and the plane is busy, not idle). The plane starts with the Node flags of `npm start`.
 * Options: `--speed <n>`, `--hours <n>`, `--every <hours>`, `--keep` (leave the data directory).
 * Linux only (RSS and CPU from /proc).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = new URL('..', import.meta.url).pathname;
const HOUR_MS = 3_600_000;

export interface SoakSample {
  /** Simulated hours since the plane was ready. */
  readonly hours: number;
  readonly real_s: number;
  readonly rss_mb: number;
  readonly data_mb: number;
  /** Changes waiting on every replication link together. */
  readonly queued: number;
  /** The plane's CPU since the previous sample, in % of one core (undefined at the first). */
  readonly cpu_pct: number | undefined;
  /** Probe rounds run since the previous sample, in % of those scheduled (undefined at the first). */
  readonly rounds_pct: number | undefined;
}

export interface SoakReport {
  readonly speed: number;
  readonly samples: readonly SoakSample[];
}

/** Runs the plane for `hours` simulated hours and samples it every `everyHours`. */
export async function soak(options: {
  readonly speed: number;
  readonly hours: number;
  readonly everyHours?: number;
  readonly keep?: boolean;
  readonly onSample?: (sample: SoakSample) => void;
}): Promise<SoakReport> {
  const dir = await mkdtemp(join(tmpdir(), 'cortex-bench-soak-'));
  const dataDir = join(dir, 'data');
  const port = 30_000 + Math.floor(Math.random() * 20_000);
  const args = [...(await startFlags()), 'bin/cortex.ts', 'local', '--fresh', '--data-dir', dataDir];
  args.push('--port', String(port));
  args.push('--dns-port', String(port + 1), '--speed', String(options.speed));
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  // The plane never outlives the bench, however the bench ends (Ctrl-C included).
  const killChild = () => child.kill('SIGKILL');
  const interrupted = () => {
    killChild();
    process.exit(130);
  };
  process.once('exit', killChild);
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  let errors = '';
  child.stderr?.on('data', (chunk) => {
    errors = `${errors}${chunk}`.slice(-4000);
  });
  const gateway = `http://127.0.0.1:${port}`;
  try {
    await ready(child, gateway, () => errors);
    const realStart = performance.now();
    const simStart = await simNow(gateway);
    const samples: SoakSample[] = [];
    const every = options.everyHours ?? 2;
    let last: { real_s: number; cpu_s: number; sim_s: number; rounds: number } | undefined;
    const take = async (hours: number) => {
      const pid = child.pid ?? 0;
      const now = await layout(gateway);
      const real_s = (performance.now() - realStart) / 1000;
      const cpu_s = await cpuSeconds(pid);
      const sim_s = Date.parse(now.now) / 1000;
      const rounds = now.scheduler.jobs.reduce((sum, job) => sum + job.runs, 0);
      const scheduled = last
        ? ((sim_s - last.sim_s) / now.scheduler.interval_seconds) * now.scheduler.jobs.length
        : 0;
      const sample: SoakSample = {
        hours,
        real_s,
        rss_mb: (await rssKb(pid)) / 1024,
        data_mb: (await sizeOf(dataDir)) / 1_048_576,
        queued: now.replication.links.reduce((sum, link) => sum + link.queued, 0),
        cpu_pct: last ? ((cpu_s - last.cpu_s) / (real_s - last.real_s)) * 100 : undefined,
        rounds_pct: last && scheduled > 0 ? ((rounds - last.rounds) / scheduled) * 100 : undefined,
      };
      last = { real_s, cpu_s, sim_s, rounds };
      samples.push(sample);
      options.onSample?.(sample);
    };
    await take(0);
    for (let next = every; next <= options.hours; next += every) {
      // Simulated time runs on the plane's clock: wait until it has passed the next mark.
      for (;;) {
        if (child.exitCode !== null) throw new Error(`cortex local exited ${child.exitCode}: ${errors}`);
        const hours = ((await simNow(gateway)) - simStart) / HOUR_MS;
        if (hours >= next) break;
        await sleep(Math.min(2_000, Math.max(50, ((next - hours) * HOUR_MS) / options.speed)));
      }
      await take(next);
    }
    return { speed: options.speed, samples };
  } finally {
    process.off('exit', killChild);
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    child.kill('SIGTERM');
    if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    if (!options.keep) await rm(dir, { recursive: true, force: true });
  }
}

async function ready(child: ChildProcess, gateway: string, output: () => string): Promise<void> {
  const end = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`cortex local exited ${child.exitCode}: ${output()}`);
    const ok = await fetch(`${gateway}/api/v1/ping`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > end) throw new Error(`cortex local did not answer in 60 s: ${output()}`);
    await sleep(100);
  }
}

/** What the bench reads of `GET /v1/sim`. */
interface Layout {
  readonly now: string;
  readonly replication: { readonly links: readonly { readonly queued: number }[] };
  readonly scheduler: {
    readonly interval_seconds: number;
    readonly jobs: readonly { readonly runs: number }[];
  };
}

async function layout(gateway: string): Promise<Layout> {
  const answer = await fetch(`${gateway}/v1/sim`);
  return (await answer.json()) as Layout;
}

async function simNow(gateway: string): Promise<number> {
  return Date.parse((await layout(gateway)).now);
}

/** The Node flags `npm start` gives the plane (package.json), so the bench measures the same process. */
export async function startFlags(): Promise<string[]> {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const words = pkg.scripts.start.split(/\s+/);
  const script = words.indexOf('bin/cortex.ts');
  if (words[0] !== 'node' || script === -1) throw new Error(`unexpected start script: ${pkg.scripts.start}`);
  return words.slice(1, script);
}

/** User and system CPU seconds of a process (Linux clock ticks are 1/100 s). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The fields after the command name (which may hold spaces) start with the state, field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
}

/** Bytes of every file under `path`. */
async function sizeOf(path: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) total += await sizeOf(full);
    else if (entry.isFile()) total += (await stat(full).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      speed: { type: 'string' },
      hours: { type: 'string' },
      every: { type: 'string' },
      keep: { type: 'boolean' },
    },
  });
  const speed = Number(values.speed ?? 60);
  const hours = Number(values.hours ?? 24);
  console.log(
    `soak: an idle local control plane, default topology and policy, ${hours} simulated h at speed ${speed}`,
  );
  console.log('  sim h   real s   RSS MB   data MB   queued   CPU %   rounds %');
  const fmt = (n: number, width: number, digits = 1) => n.toFixed(digits).padStart(width);
  const pct = (n: number | undefined, width: number) =>
    (n === undefined ? '-' : n.toFixed(0)).padStart(width);
  const report = await soak({
    speed,
    hours,
    everyHours: Number(values.every ?? 2),
    ...(values.keep ? { keep: true } : {}),
    onSample: (s) =>
      console.log(
        `  ${fmt(s.hours, 5, 1)}  ${fmt(s.real_s, 7, 0)}  ${fmt(s.rss_mb, 7)}  ${fmt(s.data_mb, 8, 2)}  ${fmt(s.queued, 7, 0)}` +
          `  ${pct(s.cpu_pct, 6)}  ${pct(s.rounds_pct, 9)}`,
      ),
  });
  const first = report.samples[0];
  const last = report.samples[report.samples.length - 1];
  if (first && last) {
    console.log(
      `soak: RSS ${fmt(first.rss_mb, 0)} -> ${fmt(last.rss_mb, 0)} MB, data dir ${first.data_mb.toFixed(2)} -> ` +
        `${last.data_mb.toFixed(2)} MB over ${last.hours} simulated h (${last.real_s.toFixed(0)} s real)`,
    );
  }
}
