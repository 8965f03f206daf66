/** `cortex simulate`: its summary, the written failing schedule and `--replay`, and bad input. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { INVARIANTS } from '../../lib/sim/invariants.ts';
import { generateSchedule } from '../../lib/sim/schedule.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { cli } from '../support/cli.ts';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('cortex simulate', () => {
  it('runs schedules and prints one line per invariant, exit 0 when all hold', async () => {
    const c = cli();
    expect(await c.run('simulate', '--schedules', '3', '--seed', '11', '--workers', '1')).toBe(0);
    const text = c.out.join('\n');
    expect(text).toMatch(
      /^3 schedules of cortex from seed 11: \d+ events, [\d.]+ simulated hours in [\d.]+ s/,
    );
    expect(text).toContain('  epochs-never-go-backwards: held in 3 schedules');
    expect(text.match(/held in 3 schedules/g)).toHaveLength(INVARIANTS.length);
    expect(c.err.at(-1)).toBe('simulate: 3/3 schedules');
  }, 60_000);

  it('prints one digest of the runs, the same over one worker and two (the runs are a function of their seeds)', async () => {
    const digestOf = async (workers: string) => {
      const c = cli();
      expect(
        await c.run('simulate', '--schedules', '4', '--seed', '21', '--workers', workers, '--digest'),
      ).toBe(0);
      const line = c.out.find((l) => l.startsWith('digest '));
      expect(line).toMatch(/^digest [0-9a-f]{32}$/);
      return line;
    };
    const one = await digestOf('1');
    expect(await digestOf('2')).toBe(one);
    const other = cli();
    await other.run('simulate', '--schedules', '4', '--seed', '22', '--workers', '1', '--digest');
    expect(other.out.find((l) => l.startsWith('digest '))).not.toBe(one);
  }, 120_000);

  it('answers JSON with --json', async () => {
    const c = cli();
    expect(await c.run('simulate', '--schedules', '2', '--seed', '5', '--json', '--workers', '1')).toBe(0);
    const summary = JSON.parse(c.out.join('\n'));
    expect(summary).toMatchObject({ topology: 'cortex', seed: 5, schedules: 2 });
    expect(summary.invariants['ends-serving']).toEqual({ held: 2 });
    expect(summary.failed).toEqual([]);
  }, 60_000);

  it('replays a written schedule step by step', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-sim-'));
    const file = join(dir, 'schedule.json');
    const topology = validateTopology(defaultTopologyJson());
    await writeFile(file, JSON.stringify(generateSchedule(topology, 3, { activeMs: 4 * 60_000 })));
    const c = cli();
    expect(await c.run('simulate', '--replay', file)).toBe(0);
    expect(c.out.at(-1)).toBe('every invariant held');
    expect(c.out.some((line) => /^\s+\d+\.\d s {2}\S/.test(line))).toBe(true);
    expect(JSON.parse(await readFile(file, 'utf8')).seed).toBe(3);
  }, 60_000);

  it.each([
    [['simulate', '--schedules', '0'], /--schedules must be an integer from 1/],
    [['simulate', '--seed', 'abc'], /--seed must be an integer/],
    [['simulate', '--minutes', '1'], /--minutes must be an integer from 2/],
    [['simulate', '--bogus'], /bogus/],
  ])('rejects %j naming the option', async (argv, message) => {
    const c = cli();
    expect(await c.run(...argv)).toBe(2);
    expect(c.err.join('\n')).toMatch(message);
  });

  it('rejects a replay file that is not a schedule, or for another topology', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-sim-'));
    const junk = join(dir, 'junk.json');
    await writeFile(junk, '{"hello": 1}');
    const c = cli();
    expect(await c.run('simulate', '--replay', junk)).toBe(2);
    expect(c.err.join('\n')).toMatch(/a schedule needs seed, duration_ms and actions/);
    const other = join(dir, 'other.json');
    await writeFile(
      other,
      JSON.stringify({
        ...generateSchedule(validateTopology(defaultTopologyJson()), 1),
        topology: 'elsewhere',
      }),
    );
    const d = cli();
    expect(await d.run('simulate', '--replay', other)).toBe(2);
    expect(d.err.join('\n')).toMatch(/the schedule is for topology elsewhere/);
    const e = cli();
    expect(await e.run('simulate', '--replay', join(dir, 'missing.json'))).toBe(2);
    expect(e.err.join('\n')).toMatch(/not a readable schedule/);
  });
});
