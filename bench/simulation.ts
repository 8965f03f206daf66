/**
 * The simulator's speed on the default topology: schedules per second, simulated hours per wall
 * second, events per second, and what 10,000 schedules take (`npx cortex simulate --schedules
 * 10000`), in one worker and over every core (lib/sim/parallel.ts).
 *
 * Wall time depends on what else the machine runs; the CPU time a schedule takes (every thread of
 * the process) much less: it is the figure to compare between commits on a shared machine, and
 * 10,000 schedules need that much CPU shared among the cores. The load average is printed with it.
 *
 * `node bench/simulation.ts [schedules]` prints the figures alone (default 400 schedules from seed
 * 1); `npm run bench` prints them with the rest.
 */
import { availableParallelism, loadavg } from 'node:os';
import { validateTopology } from '../lib/core/topology/validate.ts';
import { parallelCampaign } from '../lib/sim/parallel.ts';
import { readTopologyJson } from '../lib/topology/load.ts';

export interface SimulationSpeed {
  readonly schedules: number;
  /** Worker threads the campaign ran on (1: in this thread). */
  readonly workers: number;
  readonly wall_seconds: number;
  /** User and system CPU of the whole process (its workers included) during the campaign. */
  readonly cpu_seconds: number;
  readonly events: number;
  readonly simulated_hours: number;
  /** Every invariant held in every schedule. */
  readonly held: boolean;
  /** The one-minute load average when the campaign started. */
  readonly load: number;
}

export async function measureSimulation(schedules: number, workers?: number): Promise<SimulationSpeed> {
  const topology = validateTopology(readTopologyJson());
  const used = Math.max(1, Math.min(workers ?? availableParallelism(), schedules));
  const load = loadavg()[0] ?? 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const summary = await parallelCampaign(topology, { schedules, seed: 1, workers: used });
  const cpu = process.cpuUsage(cpuBefore);
  return {
    schedules,
    workers: used,
    wall_seconds: (performance.now() - started) / 1000,
    cpu_seconds: (cpu.user + cpu.system) / 1e6,
    events: summary.events,
    simulated_hours: summary.simulated_ms / 3_600_000,
    held: Object.values(summary.invariants).every((v) => v.held === schedules),
    load,
  };
}

export function formatSimulation(s: SimulationSpeed): string {
  const fmt = (n: number, digits = 1) => n.toFixed(digits);
  const scale = 10_000 / s.schedules;
  return (
    `simulation, default topology, ${s.workers} worker${s.workers === 1 ? '' : 's'}: ${s.schedules} schedules in ` +
    `${fmt(s.wall_seconds)} s (${fmt(s.schedules / s.wall_seconds)} schedules/s, ` +
    `${fmt(s.simulated_hours / s.wall_seconds)} simulated hours per wall second, ` +
    `${fmt(s.events / s.wall_seconds / 1000)}k events/s; invariants ${s.held ? 'held' : 'BROKEN'}); ` +
    `10,000 schedules about ${fmt((scale * s.wall_seconds) / 60)} min; ` +
    `CPU ${fmt((s.cpu_seconds / s.schedules) * 1000)} ms a schedule, so 10,000 need ${fmt(scale * s.cpu_seconds, 0)} CPU s ` +
    `(${fmt((scale * s.cpu_seconds) / s.workers, 0)} s on ${s.workers} idle core${s.workers === 1 ? '' : 's'}); ` +
    `load average ${fmt(s.load)} at the start`
  );
}

if (import.meta.main) {
  const schedules = Number(process.argv[2] ?? 400);
  if (!Number.isInteger(schedules) || schedules < 1) {
    console.error(`bench/simulation.ts: schedules must be a positive integer, got ${process.argv[2]}`);
    process.exit(2);
  }
  for (const workers of [1, undefined])
    console.log(formatSimulation(await measureSimulation(schedules, workers)));
}
