/**
 * The CLI signs its requests to IAM-authorized routes on AWS (SigV4, service execute-api, the
 * endpoint's region) and leaves the local control plane's loopback requests and the open routes
 * (`/health`, `/api/v1/ping`) unsigned.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, isLoopback, signRequest } from '../../lib/cli/client.ts';

/** The AWS SigV4 test suite's credentials (get-vanilla). */
const EXAMPLE = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

let server: Server;
let base: string;
const seen: { path: string; headers: IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('signRequest', () => {
  it('matches the AWS SigV4 test suite vector get-vanilla', async () => {
    const headers = await signRequest('GET', new URL('https://example.amazonaws.com/'), {}, undefined, {
      credentials: async () => EXAMPLE,
      region: 'us-east-1',
      service: 'service',
      signingDate: new Date('2015-08-30T12:36:00Z'),
    });
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
    expect(headers['x-amz-date']).toBe('20150830T123600Z');
    expect(headers).not.toHaveProperty('host');
  });
});

describe('ApiClient signing', () => {
  it('signs for execute-api in the region the host names, with the session token', async () => {
    seen.length = 0;
    const client = new ApiClient({
      endpoints: [base],
      origin: '--endpoint',
      signing: 'always',
      signingRegion: 'eu-west-1',
      credentials: async () => ({ ...EXAMPLE, sessionToken: 'TOKEN' }),
    });
    const answer = await client.callEndpoint(base, 'GET', '/v1/regions');
    expect(answer.status).toBe(200);
    const headers = seen[0]?.headers ?? {};
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
    expect(headers.authorization).toMatch(/SignedHeaders=.*x-amz-date/);
    expect(headers['x-amz-security-token']).toBe('TOKEN');
  });

  it('leaves loopback endpoints unsigned by default, and the open routes always', async () => {
    seen.length = 0;
    let asked = 0;
    const client = new ApiClient({
      endpoints: [base],
      origin: '--endpoint',
      credentials: async () => {
        asked += 1;
        return EXAMPLE;
      },
    });
    await client.callEndpoint(base, 'GET', '/v1/regions');
    const always = new ApiClient({
      endpoints: [base],
      origin: '--endpoint',
      signing: 'always',
      credentials: async () => EXAMPLE,
    });
    await always.callEndpoint(base, 'GET', '/health');
    expect(seen.map((s) => s.headers.authorization)).toEqual([undefined, undefined]);
    expect(asked).toBe(0);
  });

  it('sends the request unsigned and says why when no credentials are found', async () => {
    const client = new ApiClient({
      endpoints: [base],
      origin: '--endpoint',
      signing: 'always',
      credentials: async () => {
        throw new Error('Could not load credentials from any providers');
      },
    });
    const answer = await client.callEndpoint(base, 'GET', '/v1/regions');
    expect(answer.unsigned).toMatch(/^no AWS credentials to sign with \(Could not load credentials/);
  });

  it('knows loopback from AWS hosts', () => {
    expect(isLoopback('http://127.0.1.2:4600')).toBe(true);
    expect(isLoopback('http://localhost:4600')).toBe(true);
    expect(isLoopback('https://abc123.execute-api.eu-west-1.amazonaws.com')).toBe(false);
    expect(isLoopback('https://eu-west-1.api.cortex.example.com')).toBe(false);
  });
});
