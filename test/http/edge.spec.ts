import { SignJWT } from 'jose';
import { startHarness, type Harness } from '../support/http-harness.js';

describe('HTTP edge', () => {
  let h: Harness;
  let platform: string;

  beforeAll(async () => {
    h = await startHarness();
    platform = await h.token('host-platform', 'platform');
  });
  afterAll(() => h.dispose());

  it('answers health and readiness without a token', async () => {
    expect((await h.call('GET', '/health/live')).body).toEqual({ status: 'ok' });
    const ready = await h.call('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ eventStore: true, readStore: true, projections: true });
  });

  it('serves OpenAPI at /docs', async () => {
    const ui = await h.call('GET', '/docs');
    expect(ui.status).toBe(200);
    const doc = await h.call('GET', '/docs/openapi.json');
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toContain('/v1/organisations');
  });

  it('serves Prometheus metrics', async () => {
    const metrics = await h.call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(metrics.body).toContain('http_requests_total');
  });

  it('answers 401 problem+json without a token, with a bad token, with an expired one', async () => {
    const expired = await new SignJWT({ roles: ['platform'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('svc').setIssuedAt(1).setExpirationTime(2).sign(new TextEncoder().encode('test-secret-for-http-specs-only-0123456789abcdef'));
    const forged = await new SignJWT({ roles: ['platform'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('svc').setExpirationTime('1h').sign(new TextEncoder().encode('another-secret-another-secret-another-secret'));
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer nonsense' }, { authorization: `Bearer ${expired}` }, { authorization: `Bearer ${forged}` }, { authorization: `Basic ${platform}` }]) {
      const response = await h.call('POST', '/v1/organisations', { body: { name: 'Acme' }, headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(response.body).toMatchObject({ status: 401, title: 'Unauthorized', code: 'unauthorized' });
    }
  });

  it('refuses an unsigned (alg none) token', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: 'svc', roles: ['platform'], exp: Math.floor(Date.now() / 1000) + 60 })).toString('base64url');
    const response = await h.call('POST', '/v1/organisations', { body: { name: 'Acme' }, headers: { authorization: `Bearer ${header}.${payload}.` } });
    expect(response.status).toBe(401);
  });

  it('answers 403 problem+json for a valid token without the role', async () => {
    const user = await h.token('someone');
    const response = await h.call('POST', '/v1/organisations', { token: user, body: { name: 'Acme' } });
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });

  it('answers 400 problem+json naming invalid fields, and for malformed JSON', async () => {
    const invalid = await h.call('POST', '/v1/organisations', { token: platform, body: { name: '', extra: 1 } });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('content-type')).toContain('application/problem+json');
    expect(invalid.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['body.name']));
    const malformed = await fetch(`${h.url}/v1/organisations`, { method: 'POST', headers: { authorization: `Bearer ${platform}`, 'content-type': 'application/json' }, body: '{"name":' });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toContain('application/problem+json');
  });

  it('limits the body size', async () => {
    const response = await h.call('POST', '/v1/organisations', { token: platform, body: { name: 'x'.repeat(100_000) } });
    expect(response.status).toBe(413);
    expect(response.body.status).toBe(413);
  });

  it('answers 404 problem+json for unknown routes', async () => {
    const response = await h.call('GET', '/v1/nothing-here', { token: platform });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });

  it('answers 503 when read models cannot reach a far-away minPosition in time', async () => {
    const response = await h.call('GET', '/v1/organisations/none?minPosition=999999999', { token: platform });
    expect(response.status).toBe(503);
    expect(response.body.code).toBe('read_models_behind');
  }, 10_000);

  it('never logs the bearer token', async () => {
    await h.call('GET', '/v1/organisations/x', { token: platform });
    expect(h.logs()).not.toContain(platform);
    expect(h.logs()).toContain('"route":"/v1/organisations/:orgId"');
  });
});
