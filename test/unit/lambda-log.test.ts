/**
 * Structured logs on Lambda (lib/runtime/log.ts): the correlation keys an event carries, and the
 * lines Powertools Logger writes through a handler's middy chain: level, message, the request id,
 * the keys of this invocation only, and an error with its stack.
 */
import middy from '@middy/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  correlationKeys,
  createLambdaLogger,
  errorLog,
  logContext,
  recordLog,
} from '../../lib/runtime/log.ts';
import { httpEvent, lambdaContext } from '../support/events.ts';

/** The JSON lines written to stdout and stderr while `run` runs. */
async function logged(run: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const capture = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    await run();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return lines
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('correlation keys', () => {
  it('a failover task event carries its failover_id', () => {
    expect(correlationKeys({ action: 'complete', failover_id: 'failover-us-east-1-7' })).toEqual({
      failover_id: 'failover-us-east-1-7',
    });
  });

  it('a route request carries its task_id, a handoff path its handoff_id, a failover path its id', () => {
    expect(
      correlationKeys(
        httpEvent({ method: 'POST', path: '/v1/route', body: { task_id: 'task-42', priority: 'high' } }),
      ),
    ).toEqual({ task_id: 'task-42' });
    expect(
      correlationKeys(
        httpEvent({
          method: 'GET',
          path: '/v1/handoffs/cross-region-task-42',
          routePath: '/v1/handoffs/{handoff_id}',
          pathParameters: { handoff_id: 'cross-region-task-42' },
        }),
      ),
    ).toEqual({ handoff_id: 'cross-region-task-42' });
    expect(
      correlationKeys(
        httpEvent({
          method: 'POST',
          path: '/v1/failovers/f-1/approve',
          routePath: '/v1/failovers/{id}/approve',
          pathParameters: { id: 'f-1' },
        }),
      ),
    ).toEqual({ failover_id: 'f-1' });
  });

  it('leaves out what is not an id: malformed bodies, other routes, values with spaces or too long', () => {
    expect(correlationKeys(httpEvent({ method: 'POST', path: '/v1/route', body: '{not json' }))).toEqual({});
    expect(
      correlationKeys(httpEvent({ method: 'POST', path: '/v1/route', body: { task_id: 'a b' } })),
    ).toEqual({});
    expect(correlationKeys({ failover_id: 'x'.repeat(129) })).toEqual({});
    expect(
      correlationKeys(
        httpEvent({ method: 'POST', path: '/v1/compliance/check', body: { task_id: 'task-1' } }),
      ),
    ).toEqual({});
    expect(correlationKeys(undefined)).toEqual({});
    expect(correlationKeys('scheduled')).toEqual({});
  });
});

describe('the Lambda logger through a middy chain', () => {
  it("tags each line with the request id and this invocation's keys only", async () => {
    const logger = createLambdaLogger();
    const log = recordLog(() => logger);
    const handler = middy<{ failover_id?: string }, string>()
      .use(logContext(() => logger))
      .handler(async (event) => {
        log(
          JSON.stringify({
            level: 'warn',
            message: 'failover step',
            step: 'complete',
            id: event.failover_id,
          }),
        );
        return 'ok';
      });
    const lines = await logged(async () => {
      await handler({ failover_id: 'failover-1' }, lambdaContext as never);
      await handler({}, { ...lambdaContext, awsRequestId: 'req-2' } as never);
    });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 'WARN',
      message: 'failover step',
      service: 'cortex',
      function_request_id: 'req-1',
      failover_id: 'failover-1',
      step: 'complete',
    });
    // The second invocation carries no key of the first.
    expect(lines[1]).toMatchObject({ function_request_id: 'req-2', message: 'failover step' });
    expect(lines[1]?.failover_id).toBeUndefined();
  });

  it('an unexplained error is logged with its name, message and stack', async () => {
    const logger = createLambdaLogger();
    const lines = await logged(async () =>
      errorLog(() => logger)('unhandled error on POST /v1/route', new Error('boom')),
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'ERROR',
      message: 'unhandled error on POST /v1/route',
      error: { name: 'Error', message: 'boom' },
    });
    expect(String((lines[0]?.error as { stack?: string } | undefined)?.stack)).toMatch(
      /lambda-log\.test\.ts/,
    );
  });
});
