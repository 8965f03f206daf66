/**
 * The replication Lambda entry points as Lambda runs them: bundled by esbuild with the compiled
 * topology baked in (as lib/infra does), configured only by environment, against a DynamoDB endpoint
 * (one dynalite stands in for every region's replica).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEnvironment, bundleFunction } from '../support/bundle.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';
import { httpEvent, lambdaContext } from '../support/events.ts';

type Handler = (event: unknown, context: unknown) => Promise<Record<string, unknown>>;

describe('bundled replication handlers', () => {
  let table: TestTable;
  let dir: string;
  const handlers: Record<string, Handler> = {};
  const sizes: Record<string, number> = {};
  const saved = { ...process.env };

  beforeAll(async () => {
    table = await startTestTable('replication-bundle-state');
    dir = mkdtempSync(join(tmpdir(), 'cortex-replication-bundle-'));
    Object.assign(process.env, bundleEnvironment(table, { CORTEX_EVENT_BUS: 'cortex-events' }));
    for (const name of ['replication', 'replication-monitor']) {
      const outfile = await bundleFunction(name, dir);
      sizes[name] = statSync(outfile).size;
      handlers[name] = (await import(pathToFileURL(outfile).href)).handler;
    }
  });
  afterAll(async () => {
    process.env = saved;
    await table?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the monitor beats this region and the API reads every pair from the environment alone', async () => {
    const report = await (handlers['replication-monitor'] as Handler)({ rounds: 1 }, lambdaContext);
    expect(report).toMatchObject({ task: 'monitor', rounds: [expect.objectContaining({ seq: 1 })] });
    const answer = await (handlers.replication as Handler)(
      httpEvent({ method: 'GET', path: '/v1/replication' }),
      lambdaContext,
    );
    expect(answer.statusCode).toBe(200);
    const body = JSON.parse(String(answer.body));
    expect(body.observer).toBe('eu-west-1');
    expect(body.pairs.find((p: { source: string }) => p.source === 'eu-west-1')).toMatchObject({
      source_seq: 1,
    });
  });

  it('stays small: zod/mini and the DynamoDB client, no AWS SDK beyond what it calls', () => {
    // The router bundle is about the same size (DynamoDB + EventBridge clients dominate).
    for (const size of Object.values(sizes)) expect(size).toBeLessThan(900 * 1024);
  });
});
