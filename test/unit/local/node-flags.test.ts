/**
 * `cortex local` runs with V8's young generation capped (--max-semi-space-size), however it starts:
 * `npm start`, `npm run cortex -- local`, the `cortex` bin (its shebang) and the soak bench, which
 * measures the process `npm start` makes. Uncapped, V8 grew it to 128 MB on this machine and an idle
 * plane's RSS was about 100 MB higher.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { startFlags } from '../../../bench/soak.ts';

const ROOT = new URL('../../../', import.meta.url);

describe('the Node flags of the local plane', () => {
  it('are the same for npm start, npm run cortex, the cortex bin and the soak bench', async () => {
    const pkg = JSON.parse(await readFile(new URL('package.json', ROOT), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const flags = await startFlags();
    expect(flags).toContain('--max-semi-space-size=16');
    expect(pkg.scripts.start).toBe(`node ${flags.join(' ')} bin/cortex.ts local`);
    expect(pkg.scripts.cortex).toBe(`node ${flags.join(' ')} bin/cortex.ts`);
    const [shebang] = (await readFile(new URL('bin/cortex.ts', ROOT), 'utf8')).split('\n');
    expect(shebang).toBe(`#!/usr/bin/env -S node ${flags.join(' ')}`);
  });
});
