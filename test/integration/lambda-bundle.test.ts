/**
 * The Lambda entry points as Lambda runs them: bundled by esbuild with the compiled topology baked
 * in (as lib/infra does), configured only by environment, talking to a DynamoDB endpoint.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileTopology, openCompiledTopology } from '../../lib/core/topology/compiled.ts';
import { parseNeeds } from '../../lib/runtime/env.ts';
import { loadTopologyFile } from '../../lib/topology/load.ts';
import { bundleEnvironment, bundleFunction } from '../support/bundle.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';
import { httpEvent, lambdaContext } from '../support/events.ts';

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }>;

describe('bundled Lambda handlers', () => {
  let table: TestTable;
  let dir: string;
  const handlers: Record<string, Handler> = {};
  // The suite shares one process between files: leave the environment as this file found it.
  const saved = { ...process.env };

  beforeAll(async () => {
    table = await startTestTable();
    dir = mkdtempSync(join(tmpdir(), 'cortex-bundle-'));
    Object.assign(process.env, bundleEnvironment(table));
    for (const concern of ['router', 'health']) {
      const outfile = await bundleFunction(concern, dir);
      handlers[concern] = (await import(pathToFileURL(outfile).href)).handler;
    }
  });
  afterAll(async () => {
    process.env = saved;
    await table.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('routes a task and records the handoff in the configured table', async () => {
    const result = await (handlers.router as Handler)(
      httpEvent({
        method: 'POST',
        path: '/v1/route',
        body: { task_id: 'bundle-1', requirements: { data_residency: 'EU' } },
      }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(200);
    const body = JSON.parse(result.body);
    expect(body.region).toBe('eu-west-1');
    expect(body.handoff.source_region).toBe('eu-west-1');
  });

  it('answers /health for the region named in its environment', async () => {
    const result = await (handlers.health as Handler)(
      httpEvent({ method: 'GET', path: '/health' }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body).region).toBe('eu-west-1');
  });
});

describe('Lambda configuration', () => {
  it('names each bad environment variable', () => {
    expect(() => parseNeeds(['region'], { CORTEX_REGION_ID: 'Europe', CORTEX_TABLE_NAME: '' })).toThrow(
      /CORTEX_REGION_ID "Europe" is not a region id; CORTEX_TABLE_NAME "" is not a table name/,
    );
    expect(
      parseNeeds(['region'], { CORTEX_REGION_ID: 'eu-west-1', CORTEX_TABLE_NAME: 'cortex-state' }),
    ).toEqual({
      CORTEX_REGION_ID: 'eu-west-1',
      CORTEX_TABLE_NAME: 'cortex-state',
    });
  });

  it('opens only a topology compiled at synth', () => {
    const topology = loadTopologyFile();
    expect(openCompiledTopology(JSON.parse(JSON.stringify(compileTopology(topology))))).toEqual(topology);
    expect(() => openCompiledTopology({ name: 'cortex', regions: [] })).toThrow(
      /not a cortex-topology\/validated-v1/,
    );
    expect(() => openCompiledTopology({ format: 'cortex-topology/validated-v1', topology: {} })).toThrow(
      /no regions/,
    );
  });
});
