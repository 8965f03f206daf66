/** `cortex data` against one region of the local runtime served over HTTP on loopback. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../lib/runtime/local.ts';
import { loadTopologyFile } from '../../lib/topology/load.ts';
import { cli } from '../support/cli.ts';
import { type ServedRegion, serveRegion } from '../support/served-region.ts';

const EU = 'eu-west-1';
let dataDir: string;
let runtime: LocalRuntime;
let served: ServedRegion;
let endpoint: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cortex-data-cli-'));
  runtime = await startLocalRuntime({
    topology: loadTopologyFile(),
    dataDir,
    fresh: true,
    inMemory: true,
    replicationLagMs: 10,
  });
  served = await serveRegion(runtime, EU);
  endpoint = served.endpoint;
});
afterAll(async () => {
  await served.close();
  await runtime.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('cortex data', () => {
  it('puts a JSON object from stdin, gets it back with its table and replicas, deletes it', async () => {
    const key = 'coordination/ops/knowledge-base/on-call guide';
    const put = cli('{"owner": "ops", "pages": 4}');
    expect(await put.run('data', 'put', key, '-', '--endpoint', endpoint)).toBe(0);
    const text = put.out.join('\n');
    expect(text).toMatch(
      /on-call guide\s+knowledge_base_replication\s+cortex-sel-knowledge_base_replication\s+eu-west-1\s+us-east-1 eu-west-1 ap-south-1/,
    );
    expect(text).toContain('"pages": 4');

    const get = cli();
    expect(await get.run('data', 'get', key, '--json', '--endpoint', endpoint)).toBe(0);
    expect(JSON.parse(get.out.join('\n'))).toMatchObject({
      key,
      region: EU,
      value: { owner: 'ops', pages: 4 },
    });

    const del = cli();
    expect(await del.run('data', 'delete', key, '--endpoint', endpoint)).toBe(0);
    expect(del.out).toEqual([`deleted ${key}`]);
    const gone = cli();
    expect(await gone.run('data', 'get', key, '--endpoint', endpoint)).toBe(1);
    expect(gone.err.join('\n')).toMatch(/HTTP 404 NOT_FOUND/);
  });

  it('reads the value from a file and shows the API’s refusal of an immutable rewrite', async () => {
    const file = join(dataDir, 'evidence.json');
    await writeFile(file, '{"control": "access-review", "passed": true}');
    const key = 'coordination/compliance/evidence-cli-1';
    expect(await cli().run('data', 'put', key, file, '--endpoint', endpoint)).toBe(0);
    const again = cli();
    expect(await again.run('data', 'put', key, file, '--endpoint', endpoint)).toBe(1);
    expect(again.err.join('\n')).toMatch(
      /HTTP 409 IMMUTABLE_RECORD: coordination\/compliance\/evidence-cli-1 is an immutable record/,
    );
  });

  it('lists the region’s keys under a prefix, a page at a time', async () => {
    for (const k of ['x1', 'x2', 'x3']) {
      expect(
        await cli(`{"k": "${k}"}`).run(
          'data',
          'put',
          `coordination/cli/knowledge-base/${k}`,
          '-',
          '--endpoint',
          endpoint,
        ),
      ).toBe(0);
    }
    const page = cli();
    expect(await page.run('data', 'list', 'coordination/cli/', '--limit', '2', '--endpoint', endpoint)).toBe(
      0,
    );
    const text = page.out.join('\n');
    expect(text).toMatch(/coordination\/cli\/knowledge-base\/x1\s+knowledge_base_replication/);
    expect(text).toMatch(
      /2 key\(s\) under "coordination\/cli\/" in eu-west-1; more: --after 'coordination\/cli\/knowledge-base\/x2'/,
    );
    const rest = cli();
    expect(
      await rest.run(
        'data',
        'list',
        'coordination/cli/',
        '--after',
        'coordination/cli/knowledge-base/x2',
        '--json',
        '--endpoint',
        endpoint,
      ),
    ).toBe(0);
    expect(JSON.parse(rest.out.join('\n')).records.map((r: { key: string }) => r.key)).toEqual([
      'coordination/cli/knowledge-base/x3',
    ]);
    expect(await cli().run('data', 'list', '--limit', '0', '--endpoint', endpoint)).toBe(2);
  });

  it('exits 2 on a missing key or value, or a value that is not JSON; 1 naming the field on a bad one', async () => {
    expect(await cli().run('data')).toBe(2);
    expect(await cli().run('data', 'get')).toBe(2);
    expect(await cli().run('data', 'put', 'coordination/x/knowledge-base/y')).toBe(2);
    const notJson = cli('not json');
    expect(
      await notJson.run('data', 'put', 'coordination/x/knowledge-base/y', '-', '--endpoint', endpoint),
    ).toBe(2);
    expect(notJson.err.join('\n')).toMatch(/cannot read a JSON value from -/);
    const array = cli('[1]');
    expect(
      await array.run('data', 'put', 'coordination/x/knowledge-base/y', '-', '--endpoint', endpoint),
    ).toBe(1);
    expect(array.err.join('\n')).toMatch(/HTTP 400 VALIDATION_FAILED[\s\S]*value/);
  });
});
