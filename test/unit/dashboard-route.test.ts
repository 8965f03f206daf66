/**
 * The dashboard's route (lib/local/dashboard-route.ts) as a function over API Gateway events: what it
 * serves, what it refuses, and which origins may read the plane's answers. The page itself runs in
 * Chromium in test/e2e/dashboard.test.ts.
 */
import { gunzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { json } from '../../functions/shared/http.ts';
import { isDashboardUrl, withDashboard } from '../../lib/local/dashboard-route.ts';

const ENDPOINTS = {
  gateway: 'http://127.0.0.1:4600',
  regions: { 'us-east-1': { url: 'http://127.0.1.1:4600' }, 'eu-west-1': { url: 'http://127.0.1.2:4600' } },
};

function event(method: string, path: string, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  return {
    rawPath: path,
    headers,
    requestContext: { http: { method } },
  } as unknown as APIGatewayProxyEventV2;
}

/** The wrapped API answers 200 `{ api: true }` to everything the route hands on. */
const route = withDashboard(async () => json(200, { api: true }), { endpoints: () => ENDPOINTS });

function text(result: Awaited<ReturnType<typeof route>>, gzip = false): string {
  const bytes = Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8');
  return (gzip ? gunzipSync(bytes) : bytes).toString('utf8');
}

describe('the dashboard route', () => {
  it('serves the page at / with a CSP naming only the plane’s endpoints, gzipped when asked', async () => {
    const page = await route(event('GET', '/', { 'accept-encoding': 'gzip, deflate' }));
    expect(page.statusCode).toBe(200);
    expect(page.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'content-encoding': 'gzip',
    });
    expect(text(page, true)).toContain('<title>Cortex operations</title>');
    const csp = String(page.headers?.['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(
      "connect-src 'self' http://127.0.0.1:4600 http://127.0.1.1:4600 http://127.0.1.2:4600;",
    );

    const plain = await route(event('GET', '/dashboard/app.js'));
    expect(plain.headers?.['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers?.['content-encoding']).toBeUndefined();
    expect(text(plain)).toContain('import');
  });

  it('tells the page every endpoint it may ask', async () => {
    const answer = await route(event('GET', '/dashboard/endpoints.json'));
    expect(JSON.parse(answer.body ?? '')).toEqual({
      gateway: 'http://127.0.0.1:4600',
      regions: { 'us-east-1': 'http://127.0.1.1:4600', 'eu-west-1': 'http://127.0.1.2:4600' },
    });
  });

  it('serves nothing outside the dashboard folder and nothing it does not know', async () => {
    for (const path of [
      '/dashboard/../package.json',
      '/dashboard/%2e%2e/package.json',
      '/dashboard/.hidden.js',
      '/dashboard/sub/app.js',
      '/dashboard/missing.js',
      '/dashboard/',
    ]) {
      const answer = await route(event('GET', path));
      expect(answer.statusCode, path).toBe(404);
      expect(JSON.parse(answer.body ?? '').error.code).toBe('NOT_FOUND');
    }
    // Other methods on the page's paths, and every other path, go to the API.
    expect(JSON.parse((await route(event('POST', '/'))).body ?? '')).toEqual({ api: true });
    expect(JSON.parse((await route(event('GET', '/v1/regions'))).body ?? '')).toEqual({ api: true });
  });

  it('lets loopback origins read answers and send preflighted requests; no one else', async () => {
    const origin = 'http://127.0.0.1:4600';
    const read = await route(event('GET', '/v1/regions', { origin }));
    expect(read.headers).toMatchObject({
      'access-control-allow-origin': origin,
      'access-control-expose-headers': 'x-cortex-region',
    });
    const preflight = await route(event('OPTIONS', '/v1/failovers', { origin: 'http://localhost:4600' }));
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers).toMatchObject({
      'access-control-allow-origin': 'http://localhost:4600',
      'access-control-allow-headers': 'content-type',
    });

    for (const foreign of ['https://example.com', 'http://127.0.0.1.example.com', 'null']) {
      const answer = await route(event('GET', '/v1/regions', { origin: foreign }));
      expect(answer.headers?.['access-control-allow-origin'], foreign).toBeUndefined();
      // A foreign preflight is not answered here: the API's own answer (no CORS) refuses it.
      const pre = await route(event('OPTIONS', '/v1/failovers', { origin: foreign }));
      expect(pre.headers?.['access-control-allow-origin'], foreign).toBeUndefined();
    }
  });

  it('recognizes the page’s request URLs (the gateway serves them whatever its region’s faults)', () => {
    for (const url of ['/', '/?x=1', '/index.html', '/dashboard/app.js'])
      expect(isDashboardUrl(url), url).toBe(true);
    for (const url of ['/v1/regions', '/health', '/dashboardx']) expect(isDashboardUrl(url), url).toBe(false);
  });
});
