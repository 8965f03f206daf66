/**
 * Every command answers `--help` with its usage and an example (exit 0, nothing sent anywhere); a
 * usage error prints the error and that command's usage only; a file the command line names that
 * cannot be read is exit 2 for every command.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../lib/cli/help.ts';
import { cli } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'cortex-cli-help-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Where no API listens: a help that called the API would fail. */
const NOWHERE = { CORTEX_ENDPOINT: 'http://127.0.0.1:9' };

describe('cortex <command> --help', () => {
  it.each(COMMANDS.map((c) => [c.name]))('%s --help prints its usage and an example', async (name) => {
    const c = cli('', NOWHERE);
    expect(await c.run(...name.split(' '), '--help')).toBe(0);
    const text = c.out.join('\n');
    expect(text.split('\n')[0]).toMatch(new RegExp(`^usage: cortex ${name}\\b`));
    expect(text).toMatch(/\nexamples?:\n {2}(cortex|echo) /);
    expect(c.err).toEqual([]);
  });

  it('catalogues every command the CLI dispatches, and every catalogued one runs', async () => {
    const words = new Set(COMMANDS.map((c) => c.name.split(' ')[0]));
    const overview = cli();
    expect(await overview.run('--help')).toBe(0);
    for (const word of words) expect(overview.out.join('\n')).toMatch(new RegExp(`\\n {2}${word}\\b`));
    for (const word of words) {
      const c = cli('', NOWHERE);
      expect(await c.run(word as string, '-h')).toBe(0);
    }
  });

  it('takes -h and help <command> too, and --help after other arguments', async () => {
    const short = cli();
    expect(await short.run('route', '-h')).toBe(0);
    const word = cli();
    expect(await word.run('help', 'failover', 'start')).toBe(0);
    expect(word.out[0]).toMatch(/^usage: cortex failover start <region>/);
    const late = cli('', NOWHERE);
    expect(await late.run('failover', 'start', 'us-east-1', '--dry-run', '--help')).toBe(0);
    expect(late.out[0]).toMatch(/^usage: cortex failover start/);
  });

  it('lists the subcommands of a command that has them', async () => {
    const c = cli();
    expect(await c.run('failover', '--help')).toBe(0);
    const usages = c.out.join('\n').match(/^usage: cortex failover \w+/gm);
    expect(usages).toEqual([
      'usage: cortex failover start',
      'usage: cortex failover status',
      'usage: cortex failover abort',
      'usage: cortex failover approve',
      'usage: cortex failover decline',
    ]);
  });

  it('without a command prints the overview on standard error and exits 2', async () => {
    const c = cli();
    expect(await c.run()).toBe(2);
    expect(c.err.join('\n')).toMatch(/^usage: cortex <command> \[options\]/);
  });
});

describe('docs/cli.md', () => {
  it('describes every command and every option the CLI takes', () => {
    const doc = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');
    for (const command of COMMANDS) {
      expect(doc, command.name).toContain(`\`cortex ${command.name}`);
      for (const [flag] of command.options ?? [])
        expect(doc, `${command.name} ${flag}`).toContain(`\`${flag}\``);
    }
  });
});

describe('usage errors', () => {
  it("print the error and that command's usage line, not the whole usage", async () => {
    const c = cli();
    expect(await c.run('fault', 'us-east-1', 'explode')).toBe(2);
    expect(c.err).toEqual([
      'cortex: unknown fault kind "explode"; use down, errors, slow, partition, mcp_down',
      'usage: cortex fault <region> down|errors|slow|partition|mcp_down [--rate <0..1>] [--latency-ms <n>] [--peers <a,b>] [--servers <a,b>] [--endpoint <url,...>] [--json]',
      '(cortex fault --help for more)',
    ]);
  });

  it('print the usage lines of every subcommand when the subcommand is unknown', async () => {
    const c = cli();
    expect(await c.run('data', 'copy')).toBe(2);
    expect(c.err[0]).toBe('cortex: unknown data command "copy"');
    expect(c.err.filter((l) => l.startsWith('usage: '))).toHaveLength(4);
  });
});

describe('a file named on the command line that cannot be read', () => {
  const missing = join(dir, 'missing.json');
  it.each([
    [['validate', missing]],
    [['route', missing]],
    [['data', 'put', 'coordination/x/knowledge-base/y', missing]],
    [['simulate', '--replay', missing]],
    [['simulate', '--topology', missing]],
    [['local', '--topology', missing]],
  ])('%j exits 2 naming the file', async (argv) => {
    const c = cli('', NOWHERE);
    expect(await c.run(...argv)).toBe(2);
    expect(c.err.join('\n')).toMatch(/missing\.json/);
    expect(c.err.join('\n')).not.toMatch(/usage:/);
  });

  it('a directory is refused the same way', async () => {
    const c = cli('', NOWHERE);
    expect(await c.run('route', dir)).toBe(2);
    expect(c.err).toEqual([`cortex: cannot read ${dir}: it is a directory`]);
  });

  it('a readable file that is not JSON is still the command line (data put), but an invalid topology is the file saying no', async () => {
    const junk = join(dir, 'junk.txt');
    writeFileSync(junk, 'not json');
    const c = cli('', NOWHERE);
    expect(await c.run('data', 'put', 'coordination/x/knowledge-base/y', junk)).toBe(2);
    const invalid = join(dir, 'invalid.json');
    writeFileSync(invalid, '{"regions": []}');
    const v = cli();
    expect(await v.run('validate', invalid)).toBe(1);
  });
});
