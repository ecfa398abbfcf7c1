import { SignJWT } from 'jose';
import { startHarness, type Harness } from '../support/http-harness.js';
import { expectProblem, registerUser, secretOf, wrongCode } from './http-steps.js';

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

  it('serves Prometheus metrics on the public port to operators only', async () => {
    expectProblem(await h.call('GET', '/metrics'), 401, 'unauthorized');
    for (const token of [platform, await h.token('support-1', 'support'), await h.token('someone')]) expectProblem(await h.call('GET', '/metrics', { token }), 403, 'forbidden');
    const metrics = await h.call('GET', '/metrics', { token: await h.token('operator-1', 'operator') });
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(metrics.body).toContain('http_requests_total');
    expect(h.service.metricsUrl).toBeNull();
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

  it('answers 404 problem+json for unknown routes, without quoting the path', async () => {
    for (const token of [platform, undefined]) {
      const response = await h.call('GET', '/v1/nothing-here/pasted-secret', { token });
      expectProblem(response, 404, 'route_not_found');
      expect(JSON.stringify(response.body)).not.toContain('pasted-secret');
    }
  });

  it("answers Fastify's own URL errors as problem+json without quoting the URL", async () => {
    const badEncoding = await h.call('GET', '/v1/users/%E0%A4%A-pasted-secret', { token: platform });
    expectProblem(badEncoding, 400, 'invalid_url');
    const tooLong = await h.call('GET', `/v1/users/pasted-secret-${'a'.repeat(300)}`, { token: platform });
    expectProblem(tooLong, 414, 'uri_too_long');
    expect(tooLong.body.title).toBe('URI Too Long');
    const tooLarge = await h.call('GET', `/v1/users/pasted-secret-${'a'.repeat(90_000)}`);
    expectProblem(tooLarge, 431, 'invalid_request');
    for (const response of [badEncoding, tooLong, tooLarge]) expect(JSON.stringify(response.body)).not.toContain('pasted-secret');
  });

  it('answers malformed JSON with a fixed detail that quotes nothing of the body', async () => {
    const response = await fetch(`${h.url}/v1/organisations`, { method: 'POST', headers: { authorization: `Bearer ${platform}`, 'content-type': 'application/json' }, body: '{"name": pasted-secret}' });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(await response.text()).not.toContain('pasted-secret');
  });

  it('answers 415 problem+json to a body that is not sent as application/json, on every route with a body', async () => {
    const body = JSON.stringify({ name: 'pasted-secret' });
    const userId = await registerUser(h, platform);
    const routes: Array<[string, string]> = [
      ['POST', '/v1/organisations'],
      ['PUT', '/v1/organisations/o1/enforcement'],
      ['POST', `/v1/users/${userId}/two-factor/confirm`],
      ['DELETE', `/v1/users/${userId}/two-factor`],
    ];
    for (const [method, path] of routes) {
      for (const contentType of ['text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'application/xml', undefined]) {
        const headers: Record<string, string> = { authorization: `Bearer ${platform}`, ...(contentType ? { 'content-type': contentType } : {}) };
        const response = await fetch(`${h.url}${path}`, { method, headers, body: contentType ? body : Buffer.from(body) });
        expect({ method, path, contentType, status: response.status }).toEqual({ method, path, contentType, status: 415 });
        const text = await response.text();
        expect(response.headers.get('content-type')).toContain('application/problem+json');
        expect(JSON.parse(text)).toMatchObject({ status: 415, title: 'Unsupported Media Type', code: 'unsupported_media_type' });
        expect(text).not.toContain('pasted-secret');
      }
    }
  });

  it('titles every problem with its status phrase: 422 is Unprocessable Content', async () => {
    const userId = await registerUser(h, platform);
    const setup = await h.call('POST', `/v1/users/${userId}/two-factor/setup`, { token: platform });
    const refused = await h.call('POST', `/v1/users/${userId}/two-factor/confirm`, { token: platform, body: { code: wrongCode(h, secretOf(setup.body.otpauthUri)) } });
    expectProblem(refused, 422, 'invalid_code');
    expect(refused.body.title).toBe('Unprocessable Content');
  });

  it('refuses an unknown query or body key, naming the keys that are allowed', async () => {
    const query = await h.call('GET', '/v1/enforcement/u1?limt=3', { token: platform });
    expectProblem(query, 400, 'invalid_request');
    expect(query.body.errors).toEqual([{ field: 'query', message: 'unknown key "limt"; allowed: orgId, minPosition' }]);
    const body = await h.call('POST', '/v1/organisations', { token: platform, body: { name: 'Acme', colour: 'red' } });
    expect(body.body.errors).toEqual([{ field: 'body', message: 'unknown key "colour"; allowed: id, name' }]);
    const odd = await h.call('POST', '/v1/organisations', { token: platform, body: { name: 'Acme', 'pasted secret!': 1 } });
    expect(odd.body.errors).toEqual([{ field: 'body', message: 'unknown key; allowed: id, name' }]);
  });

  it('refuses at once a minPosition beyond anything written (no command answered it)', async () => {
    const response = await h.call('GET', '/v1/organisations/none?minPosition=999999999', { token: platform });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('unknown_position');
  });

  it('answers 503 when read models cannot reach a written position in time', async () => {
    // An API-only process waits on the projector's checkpoints; with no projector running they never move.
    const apiOnly = await startHarness({ env: { ROLES: 'api', READ_YOUR_WRITES_TIMEOUT_MS: '200' } });
    try {
      const token = await apiOnly.token('host', 'platform');
      const registered = await apiOnly.call('POST', '/v1/organisations', { token, body: { id: 'behind', name: 'Behind Ltd' } });
      expect(registered.status).toBe(201);
      const response = await apiOnly.call('GET', `/v1/organisations/behind?minPosition=${registered.body.position}`, { token });
      expect(response.status).toBe(503);
      expect(response.body.code).toBe('read_models_behind');
      expect(response.headers.get('retry-after')).toBe('1');
    } finally {
      await apiOnly.dispose();
    }
  }, 15_000);

  it('never logs the bearer token', async () => {
    await h.call('GET', '/v1/organisations/x', { token: platform });
    expect(h.logs()).not.toContain(platform);
    expect(h.logs()).toContain('"route":"/v1/organisations/:orgId"');
  });
});

describe('metrics port (METRICS_PORT)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ env: { METRICS_PORT: '0' } });
  });
  afterAll(() => h.dispose());

  it('serves /metrics without a token on loopback, and nothing else', async () => {
    const url = h.service.metricsUrl!;
    expect(new URL(url).hostname).toBe('127.0.0.1');
    expect(new URL(url).port).not.toBe(new URL(h.url).port);
    await h.call('GET', '/health/live');
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toContain('http_requests_total{method="GET",route="/health/live",status="200"}');
    for (const path of ['/', '/health/live', '/v1/organisations', '/metrics/../v1/users']) {
      const other = await fetch(`${url}${path}`);
      expect(other.status).toBe(404);
      expect(other.headers.get('content-type')).toContain('application/problem+json');
    }
    expect((await h.call('GET', '/metrics')).status).toBe(401);
  });
});
