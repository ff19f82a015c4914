import { describe, expect, it } from 'vitest';
import { Router, type Route } from './router.js';

const route = (method: string, pattern: string, owner = 'test', reserved = false): Route => ({ method, pattern, owner, reserved, handler: () => {} });

describe('Router', () => {
  const router = new Router();
  router.add(route('GET', '/runs', 'the server', true));
  router.add(route('GET', '/runs/:id', 'the server', true));
  router.add(route('POST', '/runs/:id/nodes/:node/decision', 'the server', true));
  router.add(route('POST', '/deploy/webhook'));

  it('matches literal paths and decodes :param segments', () => {
    expect(router.match('GET', '/runs')).toMatchObject({ route: { pattern: '/runs' }, params: {} });
    expect(router.match('GET', '/runs/gh-a%2Fb')).toMatchObject({ route: { pattern: '/runs/:id' }, params: { id: 'gh-a/b' } });
    expect(router.match('POST', '/runs/r1/nodes/approval/decision')).toMatchObject({ params: { id: 'r1', node: 'approval' } });
    expect(router.match('POST', '/deploy/webhook/')).toMatchObject({ route: { pattern: '/deploy/webhook' } });
  });

  it('tells a wrong method (with the allowed ones) from an unknown path', () => {
    expect(router.match('DELETE', '/runs/r1')).toEqual({ allowed: ['GET', 'HEAD'] });
    expect(router.match('GET', '/runs/r1/nodes')).toBeUndefined();
    expect(router.match('GET', '/runs/')).toMatchObject({ route: { pattern: '/runs' } });
    expect(router.match('GET', '/runs//')).toBeUndefined();
    expect(router.match('GET', '/runs/%E0%A4%A')).toBeUndefined();
  });

  it('refuses a route that another would shadow, naming both', () => {
    expect(() => router.add(route('POST', '/runs/latest', 'flow "X" node "hook"'))).toThrow('flow "X" node "hook": POST /runs/latest collides with GET /runs/:id of the server');
    expect(() => router.add(route('POST', '/runs', 'flow "X" node "hook"'))).toThrow(/collides with GET \/runs of the server/);
    expect(() => router.add(route('POST', '/deploy/webhook', 'flow "Y" node "hook"'))).toThrow(/collides with POST \/deploy\/webhook of test/);
    router.add(route('PUT', '/deploy/webhook', 'flow "Y" node "hook"'));
    expect(router.match('GET', '/deploy/webhook')).toEqual({ allowed: ['POST', 'PUT'] });
  });

  it('takes HEAD on the server\'s own GET routes, not on a GET webhook (a HEAD never starts a run)', () => {
    const own = new Router();
    own.add(route('GET', '/health', 'the server', true));
    own.add(route('GET', '/hook'));
    expect(own.match('HEAD', '/health')).toMatchObject({ route: { method: 'GET', pattern: '/health' } });
    expect(own.match('HEAD', '/hook')).toEqual({ allowed: ['GET'] });
    expect(own.match('POST', '/health')).toEqual({ allowed: ['GET', 'HEAD'] });
  });
});
