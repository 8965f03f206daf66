/**
 * `npm run bench:soak`: one simulated day of an idle local control plane at the default policy.
 * Starts `cortex local --fresh` as its own process (its RSS is the plane's alone), lets simulated
 * time run a day at `--speed` (default 60: 24 minutes; past the speed the machine keeps up with,
 * the replication queue shows it), and prints the process's resident memory and the data
 * directory's size at start, every `--every` simulated hours (default 2) and at the end, with the
 * replication links' queues (a backlog is memory too). Options: `--speed <n>`, `--hours <n>`,
 * `--every <hours>`, `--keep` (leave the data directory). Linux only (RSS from /proc).
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
  const args = ['bin/cortex.ts', 'local', '--fresh', '--data-dir', dataDir, '--port', String(port)];
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
    const take = async (hours: number) => {
      const sample: SoakSample = {
        hours,
        real_s: (performance.now() - realStart) / 1000,
        rss_mb: (await rssKb(child.pid ?? 0)) / 1024,
        data_mb: (await sizeOf(dataDir)) / 1_048_576,
        queued: await queued(gateway),
      };
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

async function layout(
  gateway: string,
): Promise<{ now: string; replication: { links: { queued: number }[] } }> {
  const answer = await fetch(`${gateway}/v1/sim`);
  return (await answer.json()) as { now: string; replication: { links: { queued: number }[] } };
}

async function simNow(gateway: string): Promise<number> {
  return Date.parse((await layout(gateway)).now);
}

async function queued(gateway: string): Promise<number> {
  return (await layout(gateway)).replication.links.reduce((sum, link) => sum + link.queued, 0);
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
  console.log('  sim h   real s   RSS MB   data MB   queued');
  const fmt = (n: number, width: number, digits = 1) => n.toFixed(digits).padStart(width);
  const report = await soak({
    speed,
    hours,
    everyHours: Number(values.every ?? 2),
    ...(values.keep ? { keep: true } : {}),
    onSample: (s) =>
      console.log(
        `  ${fmt(s.hours, 5, 1)}  ${fmt(s.real_s, 7, 0)}  ${fmt(s.rss_mb, 7)}  ${fmt(s.data_mb, 8, 2)}  ${fmt(s.queued, 7, 0)}`,
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
