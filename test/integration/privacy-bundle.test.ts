/**
 * The privacy API and sweeper as Lambda runs them: bundled by esbuild with the topology baked in,
 * configured only by environment (lib/runtime/lambda.ts privacyDeps), against a DynamoDB endpoint.
 * Every region's replica is the one local endpoint here; the bus is unreachable (events are best effort).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStateAdapter } from '../../lib/adapters/aws/dynamodb-state.ts';
import { bundleEnvironment, bundleFunction } from '../support/bundle.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';
import { httpEvent, lambdaContext } from '../support/events.ts';

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }>;

describe('bundled privacy functions', () => {
  let table: TestTable;
  let dir: string;
  const handlers: Record<string, Handler> = {};
  // The suite shares one process between files: leave the environment as this file found it.
  const saved = { ...process.env };

  beforeAll(async () => {
    table = await startTestTable();
    dir = mkdtempSync(join(tmpdir(), 'cortex-privacy-bundle-'));
    Object.assign(
      process.env,
      bundleEnvironment(table, {
        CORTEX_EVENT_BUS: 'cortex-events',
        AWS_ENDPOINT_URL_EVENTBRIDGE: 'http://127.0.0.1:9',
        AWS_MAX_ATTEMPTS: '1',
      }),
    );
    for (const name of ['privacy', 'privacy-sweeper']) {
      const outfile = await bundleFunction(name, dir);
      handlers[name] = (await import(pathToFileURL(outfile).href)).handler;
    }
  });
  afterAll(async () => {
    process.env = saved;
    await table.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('erases the subject’s handoff, keeps the one on legal hold, and the sweeper finds nothing left to do', async () => {
    const state = new DynamoStateAdapter({ client: table.doc, tableName: table.tableName });
    for (const [id, hold] of [
      ['b1', undefined],
      ['b2', { basis: 'legal_obligation', reason: 'statutory retention' }],
    ] as const) {
      await state.createHandoff({
        handoff_id: `cross-region-${id}`,
        task_id: id,
        source_region: 'eu-west-1',
        target_region: 'eu-west-1',
        routing_score: 80,
        status: 'pending',
        created_at: '2026-11-26T12:00:00Z',
        task: { task_id: id, subject_id: 'bea', ...(hold ? { legal_hold: hold } : {}) },
        request_hash: 'seeded',
        decision: { candidates: [], excluded: [] },
      });
    }
    const result = await (handlers.privacy as Handler)(
      httpEvent({
        method: 'POST',
        path: '/v1/privacy/requests',
        body: { type: 'erasure', subject_id: 'bea', jurisdiction: 'european_union' },
      }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(201);
    const body = JSON.parse(result.body);
    expect(body.regions['eu-west-1'].records).toEqual([
      { record_id: 'cross-region-b1', kind: 'handoff', action: 'erased' },
      {
        record_id: 'cross-region-b2',
        kind: 'handoff',
        action: 'kept',
        exception: 'legal_obligation',
        reason: 'statutory retention',
      },
    ]);
    expect(await state.getHandoff('cross-region-b1')).toBeUndefined();
    const report = (await (handlers['privacy-sweeper'] as Handler)({}, lambdaContext)) as unknown as {
      processed: Record<string, string>;
    };
    expect(report.processed).toEqual({});
  });
});
