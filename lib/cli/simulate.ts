/**
 * `cortex simulate`: random fault schedules against the whole control plane on the virtual clock
 * (lib/sim), one line per invariant at the end; `--replay <file>` runs one written schedule again,
 * printing every action and what the control plane did. Exit 1 on any violation.
 */
import { writeFileSync } from 'node:fs';
import { INVARIANTS } from '../sim/invariants.ts';
import { parallelCampaign } from '../sim/parallel.ts';
import { campaignDigest, type SimulationResult, simulate } from '../sim/run.ts';
import { generateSchedule, type Schedule } from '../sim/schedule.ts';
import { loadTopologyFile } from '../topology/load.ts';
import {
  type CliIo,
  FileArgumentError,
  integerOption,
  parse,
  readInput,
  requireReadable,
  UsageError,
} from './common.ts';

export async function simulateCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, {
    schedules: { type: 'string' },
    seed: { type: 'string' },
    topology: { type: 'string' },
    minutes: { type: 'string' },
    workers: { type: 'string' },
    replay: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean' },
    digest: { type: 'boolean' },
  });
  if (values.topology !== undefined) requireReadable(values.topology, '--topology');
  const topology = loadTopologyFile(values.topology);
  if (values.replay !== undefined) return replay(values.replay, topology, io, values.json === true);

  const schedules = integerOption('schedules', values.schedules, 1, 1_000_000) ?? 100;
  const seed = integerOption('seed', values.seed, 0, 2 ** 32 - 1) ?? Date.now() % 2 ** 32;
  const minutes = integerOption('minutes', values.minutes, 2, 24 * 60) ?? 20;
  const workers = integerOption('workers', values.workers, 1, 64);
  const started = performance.now();
  let lastReport = started;
  const summary = await parallelCampaign(topology, {
    schedules,
    seed,
    schedule: { activeMs: minutes * 60_000 },
    ...(workers === undefined ? {} : { workers }),
    ...(values.digest ? { digest: true } : {}),
    onProgress: (done) => {
      const now = performance.now();
      if (!values.json && (now - lastReport > 2_000 || done === schedules)) {
        lastReport = now;
        io.err(`simulate: ${done}/${schedules} schedules`);
      }
    },
  });
  const wallMs = performance.now() - started;
  const digest = summary.digests ? campaignDigest(summary.digests) : undefined;
  const firstFailure = summary.failed[0];
  let written: string | undefined;
  if (firstFailure) {
    written = values.out ?? `simulate-failure-${firstFailure.seed}.json`;
    const schedule = generateSchedule(topology, firstFailure.seed, { activeMs: minutes * 60_000 });
    writeFileSync(written, `${JSON.stringify(schedule, null, 2)}\n`);
  }
  if (values.json) {
    io.out(
      JSON.stringify(
        {
          topology: topology.name,
          seed,
          schedules,
          wall_ms: Math.round(wallMs),
          events: summary.events,
          simulated_hours: Math.round((summary.simulated_ms / 3_600_000) * 10) / 10,
          invariants: summary.invariants,
          failed: summary.failed.map(failedEntry),
          ...(digest ? { digest } : {}),
          ...(written ? { failing_schedule: written } : {}),
        },
        null,
        2,
      ),
    );
  } else {
    io.out(
      `${schedules} schedules of ${topology.name} from seed ${seed}: ${summary.events} events, ` +
        `${(summary.simulated_ms / 3_600_000).toFixed(1)} simulated hours in ${(wallMs / 1000).toFixed(1)} s`,
    );
    for (const name of INVARIANTS) {
      const entry = summary.invariants[name];
      const v = entry.first_violation;
      io.out(
        v
          ? `  ${name}: BROKEN first by seed ${v.seed} at ${(v.at_ms / 1000).toFixed(1)} s: ${v.detail}`
          : `  ${name}: held in ${entry.held} schedules`,
      );
    }
    if (summary.failed.length > 0) {
      io.out(
        `${summary.failed.length} failing schedule(s): ${summary.failed
          .map((r) => `${r.seed} (${failedEntry(r).invariants.join(', ')})`)
          .join('; ')}`,
      );
    }
    if (digest) io.out(`digest ${digest}`);
    if (written) io.out(`the first failing schedule is in ${written}: cortex simulate --replay ${written}`);
  }
  return summary.failed.length > 0 ? 1 : 0;
}

/** One failing schedule of a campaign: its seed, the invariants it broke, the first break's time. */
function failedEntry(result: SimulationResult): { seed: number; invariants: string[]; first_at_ms: number } {
  return {
    seed: result.seed,
    invariants: [...new Set(result.violations.map((v) => v.invariant))],
    first_at_ms: Math.min(...result.violations.map((v) => v.at_ms)),
  };
}

async function replay(
  file: string,
  topology: ReturnType<typeof loadTopologyFile>,
  io: CliIo,
  json: boolean,
): Promise<number> {
  let schedule: Schedule;
  try {
    schedule = JSON.parse(readInput(file, io)) as Schedule;
  } catch (error) {
    throw new FileArgumentError(`--replay ${file}: not a readable schedule (${(error as Error).message})`);
  }
  if (
    !Array.isArray(schedule.actions) ||
    typeof schedule.seed !== 'number' ||
    typeof schedule.duration_ms !== 'number'
  ) {
    throw new UsageError(
      `--replay ${file}: a schedule needs seed, duration_ms and actions (write one with cortex simulate)`,
    );
  }
  if (schedule.topology !== topology.name) {
    throw new UsageError(
      `--replay ${file}: the schedule is for topology ${schedule.topology}, not ${topology.name}: pass its --topology`,
    );
  }
  const result = await simulate(topology, schedule, {
    stopAtFirst: false,
    onAction: (at, what) => {
      if (!json) io.out(`${(at / 1000).toFixed(1).padStart(8)} s  ${what}`);
    },
  });
  if (json) {
    io.out(JSON.stringify(result, null, 2));
  } else {
    for (const entry of result.log) io.out(`${(entry.at / 1000).toFixed(1).padStart(8)} s    ${entry.what}`);
    for (const v of result.violations)
      io.out(`VIOLATION ${v.invariant} at ${(v.at_ms / 1000).toFixed(1)} s: ${v.detail}`);
    io.out(
      result.violations.length === 0 ? 'every invariant held' : `${result.violations.length} violation(s)`,
    );
  }
  return result.violations.length > 0 ? 1 : 0;
}
