import { describe, expect, it } from 'vitest';
import { API_ROUTES, matchRoute } from '../../lib/app/routes.ts';

describe('matchRoute', () => {
  it('binds {name} to one segment, decoded', () => {
    expect(matchRoute('GET', '/v1/regions/us-east-1')).toMatchObject({
      route: { path: '/v1/regions/{id}' },
      pathParameters: { id: 'us-east-1' },
    });
    expect(matchRoute('GET', '/v1/documents/a%3Ab')).toMatchObject({ pathParameters: { key: 'a:b' } });
  });

  it('binds a last {name+} to the rest of the path, slashes included', () => {
    expect(matchRoute('PUT', '/v1/data/coordination/team-7/knowledge-base/on%20call')).toMatchObject({
      route: { method: 'PUT', path: '/v1/data/{key+}', concern: 'data' },
      pathParameters: { key: 'coordination/team-7/knowledge-base/on call' },
    });
    expect(matchRoute('DELETE', '/v1/data/one')).toMatchObject({ pathParameters: { key: 'one' } });
  });

  it('matches no route for an empty greedy part or an empty segment in it', () => {
    for (const path of ['/v1/data/', '/v1/data/a//b', '/v1/data/a/']) {
      expect(matchRoute('GET', path), path).toEqual({ route: undefined, pathKnown: false });
    }
    // The bare collection path is the listing, not a key.
    expect(matchRoute('GET', '/v1/data')).toMatchObject({ route: { path: '/v1/data' }, pathParameters: {} });
    expect(matchRoute('PUT', '/v1/data')).toEqual({ route: undefined, pathKnown: true });
  });

  it('tells a known path with another method (405) from an unknown one (404)', () => {
    expect(matchRoute('POST', '/v1/data/a/b')).toEqual({ route: undefined, pathKnown: true });
    expect(matchRoute('GET', '/v1/nothing')).toEqual({ route: undefined, pathKnown: false });
  });

  it('has a greedy parameter only as the last segment of a route', () => {
    for (const route of API_ROUTES) {
      const segments = route.path.split('/');
      segments.slice(0, -1).forEach((segment) => {
        expect(segment.endsWith('+}'), route.path).toBe(false);
      });
    }
  });
});
