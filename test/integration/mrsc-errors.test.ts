/**
 * What an MRSC table answers when it cannot: DynamoDB's ReplicatedWriteConflictException (two
 * regions writing one item) is retried by the SDK, then becomes StateUnavailableError, a 503 on the
 * API. A loopback server plays DynamoDB's error answer, so the SDK's own parsing and retry run.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHttpError } from '../../functions/shared/http.ts';
import { DynamoStateAdapter } from '../../lib/adapters/aws/dynamodb-state.ts';
import { reportReplicatedWriteConflicts } from '../../lib/adapters/aws/mrsc.ts';
import { StateUnavailableError } from '../../lib/core/errors.ts';
import { status } from '../contract/state.contract.ts';

let server: Server;
let endpoint: string;
let requests = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      requests++;
      response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(
        JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#ReplicatedWriteConflictException',
          message: 'One or more items in this request are being modified by a request in another Region.',
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('ReplicatedWriteConflictException from an MRSC table', () => {
  it('is retried by the SDK, then reported as StateUnavailableError naming table and region', async () => {
    const client = new DynamoDBClient({
      endpoint,
      region: 'us-east-2',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 3,
    });
    reportReplicatedWriteConflicts(client, 'us-east-2');
    const doc = DynamoDBDocumentClient.from(client);
    const critical = { client: doc, tableName: 'cortex-critical' };
    const adapter = new DynamoStateAdapter({
      client: doc,
      tableName: 'cortex-state',
      records: { region_status: critical },
    });
    requests = 0;
    const error = await adapter.putRegionStatus(status(), undefined).catch((e: unknown) => e);
    client.destroy();
    expect(requests).toBe(3);
    expect(error).toBeInstanceOf(StateUnavailableError);
    expect((error as StateUnavailableError).message).toMatch(
      /^cortex-critical is unavailable from us-east-2: another region kept writing the same item/,
    );
    expect((error as StateUnavailableError).cause).toMatchObject({
      name: 'ReplicatedWriteConflictException',
    });
  });

  it('answers 503 STATE_UNAVAILABLE on the API', () => {
    const result = toHttpError(new StateUnavailableError('cortex-critical', 'us-west-2', 'reaches 1 of 3'));
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(String(result.body))).toEqual({
      error: {
        code: 'STATE_UNAVAILABLE',
        message: 'cortex-critical is unavailable from us-west-2: reaches 1 of 3',
        details: [],
        region: 'us-west-2',
        table: 'cortex-critical',
      },
    });
  });
});
