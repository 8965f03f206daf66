/**
 * `cortex dr drill <scenario>|all`: runs each scenario's drill (lib/app/dr/drill.ts) on a fresh
 * plane, prints progress on stderr and the report (Markdown, or JSON with --json), writes both
 * beside each other, and exits 1 when any objective was missed. The plane is, by default, the
 * virtual clock in process (lib/cli/dr-virtual.ts) for the scenarios it runs, and for
 * data_corruption (which needs the replication drills) or with `--plane local` a local control plane
 * (a fresh one in a temporary data directory, on ephemeral ports, at `--speed`) driven over HTTP.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Answer, type DrillFault, type DrillHarness, runDrill } from '../app/dr/drill.ts';
import { type DrillReport, type DrillSuite, drillMarkdown } from '../app/dr/report.ts';
import { DRILL_SCENARIOS, type DrillScenario } from '../core/dr/objectives.ts';
import type { LocalControlPlane } from '../local/control-plane.ts';
import { createLocalRunbooks } from '../runtime/local-dr.ts';
import { loadTopologyFile } from '../topology/load.ts';
import { type CliIo, parse, requireReadable, UsageError } from './common.ts';
import { restoreTestCommand } from './dr-restore.ts';
import { drillOnVirtualClock, untilServing, VIRTUAL_SCENARIOS } from './dr-virtual.ts';

const DEFAULT_SPEED = 30;

export async function drCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'restore-test') return restoreTestCommand(rest, io);
  if (sub !== 'drill')
    throw new UsageError(`cortex dr: unknown subcommand "${sub ?? ''}"; try cortex dr drill`);
  const { values, positionals } = parse(
    rest,
    {
      speed: { type: 'string' },
      plane: { type: 'string' },
      region: { type: 'string' },
      topology: { type: 'string' },
      out: { type: 'string' },
      'break-step': { type: 'string' },
      'cascade-after': { type: 'string' },
      json: { type: 'boolean' },
    },
    1,
  );
  const which = positionals[0];
  if (which === undefined)
    throw new UsageError(`cortex dr drill: name a scenario (${DRILL_SCENARIOS.join(', ')}) or all`);
  if (which !== 'all' && !(DRILL_SCENARIOS as readonly string[]).includes(which)) {
    throw new UsageError(
      `cortex dr drill: unknown scenario "${which}"; one of ${DRILL_SCENARIOS.join(', ')}, all`,
    );
  }
  const speed = values.speed === undefined ? DEFAULT_SPEED : Number(values.speed);
  if (!(speed > 0 && speed <= 10_000)) {
    throw new UsageError(`--speed must be a number above 0 and at most 10000, got "${values.speed}"`);
  }
  const plane = values.plane ?? 'virtual';
  if (plane !== 'virtual' && plane !== 'local') {
    throw new UsageError(`--plane must be virtual or local, got "${plane}"`);
  }
  if (values.topology !== undefined) requireReadable(values.topology, '--topology');
  const cascadeAfter = values['cascade-after'] === undefined ? undefined : Number(values['cascade-after']);
  if (
    cascadeAfter !== undefined &&
    !(Number.isFinite(cascadeAfter) && cascadeAfter >= 0 && cascadeAfter <= 3600)
  ) {
    throw new UsageError(`--cascade-after must be seconds from 0 to 3600, got "${values['cascade-after']}"`);
  }
  if (cascadeAfter !== undefined && which !== 'cascading_failure' && which !== 'all') {
    throw new UsageError(`--cascade-after applies to cascading_failure only, not ${which}`);
  }
  const scenarios: DrillScenario[] = which === 'all' ? [...DRILL_SCENARIOS] : [which as DrillScenario];
  const started = performance.now();
  const reports: DrillReport[] = [];
  const common = {
    ...(values.region === undefined ? {} : { region: values.region }),
    ...(values['break-step'] === undefined ? {} : { breakAction: values['break-step'] }),
    ...(cascadeAfter === undefined ? {} : { cascadeAfterMs: cascadeAfter * 1000 }),
    progress: (line: string) => io.err(`  ${line}`),
  };
  for (const scenario of scenarios) {
    const virtual = plane === 'virtual' && VIRTUAL_SCENARIOS.includes(scenario);
    const where = virtual ? 'virtual clock' : `local plane at speed ${speed}`;
    io.err(`dr drill: ${scenario} on the ${where}`);
    const began = performance.now();
    const report = virtual
      ? await drillOnVirtualClock(loadTopologyFile(values.topology), { scenario, ...common })
      : await drillOnLocalPlane(scenario, {
          speed,
          ...(values.topology === undefined ? {} : { topology: values.topology }),
          ...common,
        });
    const wall = Math.round(performance.now() - began) / 1000;
    io.err(`  [${scenario}] ${report.simulated_seconds} simulated s in ${wall} s of wall time`);
    reports.push({ ...report, plane: where, wall_seconds: wall });
  }
  const suite: DrillSuite = {
    reports,
    met: reports.every((r) => r.verdict.met),
    wall_ms: Math.round(performance.now() - started),
    speed,
  };
  const out = values.out ?? `dr-drill-${which}`;
  const markdown = drillMarkdown(suite);
  await writeFile(`${out}.json`, `${JSON.stringify(suite, null, 2)}\n`);
  await writeFile(`${out}.md`, markdown);
  io.out(values.json ? JSON.stringify(suite, null, 2) : markdown);
  io.err(
    `dr drill: ${suite.met ? 'every objective met' : 'objectives missed'} in ${(suite.wall_ms ?? 0) / 1000} s; report in ${out}.json and ${out}.md`,
  );
  return suite.met ? 0 : 1;
}

interface LocalDrillOptions {
  readonly speed: number;
  readonly region?: string;
  readonly topology?: string;
  readonly breakAction?: string;
  /** cascading_failure: ms after the first failover names its target until the target goes down. */
  readonly cascadeAfterMs?: number;
  readonly progress?: (line: string) => void;
}

/** One drill on a fresh local control plane, stopped (and its data removed) afterwards. */
export async function drillOnLocalPlane(
  scenario: DrillScenario,
  options: LocalDrillOptions,
): Promise<DrillReport> {
  const { startLocalControlPlane } = await import('../local/control-plane.ts');
  const dataDir = await mkdtemp(join(tmpdir(), 'cortex-dr-'));
  const plane = await startLocalControlPlane({
    port: 0,
    dataDir,
    fresh: true,
    speed: options.speed,
    ...(options.topology === undefined ? {} : { topologyPath: options.topology }),
    log: () => {},
  });
  try {
    const harness = localHarness(plane);
    const warm = {
      regions: Object.keys(plane.regions),
      witnesses: plane.runtime.witnesses.length,
      stateOf: (region: string) => plane.runtime.region(region).deps.state,
      now: () => plane.clock.now(),
      wait: (ms: number) => plane.clock.sleep(ms),
    };
    if (!(await untilServing(warm, plane.clock.now() + 10 * 60_000))) {
      options.progress?.(
        `[${scenario}] not every observer saw every region healthy within 10 simulated minutes (a busy machine at this --speed?); the warm-up judges`,
      );
    }
    return await runDrill(harness, {
      scenario,
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.breakAction === undefined ? {} : { breakAction: options.breakAction }),
      ...(options.cascadeAfterMs === undefined ? {} : { cascadeAfterMs: options.cascadeAfterMs }),
      ...(options.progress ? { progress: options.progress } : {}),
    });
  } finally {
    await plane.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function localHarness(plane: LocalControlPlane): DrillHarness {
  const topology = plane.runtime.topology;
  const runbook = createLocalRunbooks({
    depsFor: (region) => plane.runtime.region(region).deps,
    sleep: (ms) => plane.clock.sleep(ms),
  });
  const request = async (url: string, method: string, body?: unknown): Promise<Answer> => {
    const response = await fetch(url, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    return { status: response.status, body: parsed };
  };
  const sim = (method: string, path: string, body?: unknown) =>
    request(`${plane.gatewayUrl}${path}`, method, body);
  return {
    topology,
    now: () => plane.clock.now(),
    sleep: (ms) => plane.clock.sleep(ms),
    call: (region, method, path, body) => {
      const endpoint = plane.regions[region];
      if (!endpoint) throw new Error(`unknown region ${region}`);
      return request(`${endpoint.url}${path}`, method, body);
    },
    serviceRegion: async () => plane.layout().dns.region,
    async fault(fault: DrillFault) {
      let answer: Answer;
      if (fault.kind === 'down')
        answer = await sim('POST', '/v1/sim/faults', { region: fault.region, kind: 'down' });
      else if (fault.kind === 'heal') answer = await sim('DELETE', '/v1/sim/faults');
      else if (fault.kind === 'partition') {
        const minority = fault.groups.find(
          (g) => g.length === 1 && topology.regions.some((r) => r.region_id === g[0]),
        );
        if (!minority)
          throw new Error('the local plane cuts one region from the rest; name a group of one region');
        answer = await sim('POST', '/v1/sim/faults', { region: minority[0], kind: 'partition' });
      } else {
        answer = await sim('POST', '/v1/sim/replication/corrupt', {
          region: fault.region,
          key: { pk: `HANDOFF#${fault.handoff_id}`, sk: 'HANDOFF' },
          changes: { status: 'failed' },
        });
      }
      if (answer.status >= 300)
        throw new Error(`fault ${fault.kind}: ${answer.status} ${JSON.stringify(answer.body)}`);
    },
    runbook,
  };
}
