import { startHarness, type Harness } from '../support/http-harness.js';
import { OpenApiValidator, type ObservedResponse } from '../support/openapi-validator.js';
import { routeKey, servedRoutes, serves } from '../support/route-table.js';

type Json = Record<string, any>;
const METHODS = ['get', 'post', 'put', 'delete', 'patch'] as const;
const KNOWN_ROLES = ['anyone', 'platform', 'support', 'auditor', 'operator', 'self', 'org-admin'];

function documentedOperations(document: Json): { method: string; path: string; operation: Json }[] {
  return Object.entries(document['paths'] as Record<string, Json>).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({ method: method.toUpperCase(), path, operation: item[method] as Json })),
  );
}

const asFastifyPath = (path: string): string => path.replace(/\{([^}]+)\}/g, ':$1');
const isCommand = (method: string): boolean => ['POST', 'PUT', 'DELETE', 'PATCH'].includes(method);
const json = (body: unknown, status = 200, media = 'application/json'): Pick<ObservedResponse, 'status' | 'headers' | 'body'> => ({
  status,
  headers: new Headers({ 'content-type': `${media}; charset=utf-8` }),
  body,
});

describe('OpenAPI document', () => {
  let h: Harness;
  let document: Json;
  let operations: ReturnType<typeof documentedOperations>;

  beforeAll(async () => {
    h = await startHarness();
    document = (await h.call('GET', '/docs/openapi.json')).body;
    operations = documentedOperations(document);
  });
  afterAll(() => h.dispose());

  it('is OpenAPI 3.1 with the bearer scheme required by default', () => {
    expect(document['openapi']).toBe('3.1.0');
    expect(document['components'].securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(document['security']).toEqual([{ bearer: [] }]);
    expect(document['components'].schemas.Problem.required).toEqual(['type', 'title', 'status', 'detail', 'code']);
  });

  it('documents every route Fastify serves, and serves every route it documents', () => {
    const registered = servedRoutes(h).map(routeKey).sort();
    const documented = operations.map(({ method, path }) => `${method} ${asFastifyPath(path)}`).sort();
    expect(registered.length).toBeGreaterThan(30);
    expect(documented).toEqual(registered);
    for (const { method, path } of operations) expect(serves(h, { method, path: asFastifyPath(path) })).toBe(true);
  });

  it('names the roles allowed on every route, as x-roles and in words', () => {
    for (const { method, path, operation } of operations) {
      const where = `${method} ${path}`;
      expect([where, operation['x-roles']?.length > 0]).toEqual([where, true]);
      expect([where, operation['x-roles'].filter((role: string) => !KNOWN_ROLES.includes(role))]).toEqual([where, []]);
      expect([where, operation['description']]).toEqual([where, expect.stringContaining('Allowed: ')]);
      const isPublic = operation['x-roles'].includes('anyone');
      expect([where, operation['security']]).toEqual([where, isPublic ? [] : undefined]);
      if (!isPublic) expect([where, Object.keys(operation['responses'])]).toEqual([where, expect.arrayContaining(['401', '403'])]);
    }
  });

  it('documents the Idempotency-Key header on every command route', () => {
    const commands = operations.filter(({ method }) => isCommand(method));
    expect(commands.length).toBeGreaterThan(10);
    for (const { method, path, operation } of commands) {
      const header = (operation['parameters'] as Json[]).find((p) => p['in'] === 'header' && p['name'] === 'Idempotency-Key');
      expect([`${method} ${path}`, header?.schema?.type]).toEqual([`${method} ${path}`, 'string']);
      expect(Object.keys(operation['responses'])).toEqual(expect.arrayContaining(['409', '422']));
    }
  });

  it('documents minPosition, and its 503, on every query of the read models', () => {
    // The change feed takes `after` instead: it streams from a position rather than waiting for one.
    const readModelQueries = operations.filter(({ method, path }) => method === 'GET' && path.startsWith('/v1/') && !/^\/v1\/(audit|admin)\//.test(path) && path !== '/v1/enforcement/changes');
    expect(readModelQueries.length).toBeGreaterThanOrEqual(5);
    for (const { path, operation } of readModelQueries) {
      const names = (operation['parameters'] as Json[]).filter((p) => p['in'] === 'query').map((p) => p['name']);
      expect([path, names]).toEqual([path, expect.arrayContaining(['minPosition'])]);
      expect([path, Object.keys(operation['responses'])]).toEqual([path, expect.arrayContaining(['503'])]);
    }
  });

  it('gives every operation a unique operationId, for client generators', () => {
    const ids = operations.map(({ operation }) => operation['operationId']);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('documents each path parameter of a template, and only those', () => {
    for (const { method, path, operation } of operations) {
      const inTemplate = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      const documented = (operation['parameters'] as Json[]).filter((p) => p['in'] === 'path').map((p) => p['name']).sort();
      expect([`${method} ${path}`, documented]).toEqual([`${method} ${path}`, inTemplate]);
    }
  });

  it('documents a success answer and problem answers (application/problem+json, the shared Problem schema) on every route', () => {
    for (const { method, path, operation } of operations) {
      const where = `${method} ${path}`;
      const statuses = Object.keys(operation['responses']);
      // The pages' hand-off and form posts succeed with 303 See Other.
      expect([where, statuses.some((s) => s.startsWith('2') || (s === '303' && (path.startsWith('/two-factor/') || path.startsWith('/console'))))]).toEqual([where, true]);
      for (const status of statuses.filter((s) => Number(s) >= 400)) {
        const content = operation['responses'][status].content;
        // A page's own refusals are its HTML error page; the framework's (413, 415, 431) stay problems.
        if ((path.startsWith('/two-factor/') || path.startsWith('/console')) && content['text/html'] && !content['application/problem+json']) continue;
        const schema = content['application/problem+json'].schema;
        expect([where, status, schema.allOf[0]]).toEqual([where, status, { $ref: '#/components/schemas/Problem' }]);
      }
    }
  });

  describe('the answer validator', () => {
    it('accepts a conforming answer and refuses one that departs from the document', async () => {
      const validator = new OpenApiValidator(document);
      const platform = await h.token('host-platform', 'platform');
      const created = await h.call('POST', '/v1/organisations', { token: platform, body: { name: 'Acme' } });
      const observed = { method: 'POST', path: '/v1/organisations', status: created.status, headers: created.headers, body: created.body };
      expect(validator.check(observed)).toEqual([]);

      const tampered = structuredClone(document);
      tampered['paths']['/v1/organisations'].post.responses['201'].content['application/json'].schema.properties.revision = { type: 'string' };
      expect(new OpenApiValidator(tampered).check(observed)).toEqual([expect.stringMatching(/POST \/v1\/organisations → 201: body\/revision must be string/)]);
    });

    it('refuses an extra field, a missing field and a wrong enum value in a body', () => {
      const validator = new OpenApiValidator(document);
      const live = (body: unknown) => validator.check({ method: 'GET', path: '/health/live', ...json(body) });
      expect(live({ status: 'ok' })).toEqual([]);
      expect(live({ status: 'ok', extra: true })).toEqual([expect.stringContaining('must NOT have additional properties')]);
      expect(live({})).toEqual([expect.stringContaining("must have required property 'status'")]);
      expect(live({ status: 'fine' })).toEqual([expect.stringContaining('must be equal to constant')]);
    });

    it('refuses an undocumented status, content type or route, and a problem of the wrong shape', () => {
      const validator = new OpenApiValidator(document);
      const problem = { type: 'urn:two-factor:problem:x', title: 'Conflict', status: 409, detail: 'd', code: 'x' };
      expect(validator.check({ method: 'GET', path: '/health/live', ...json(problem, 409, 'application/problem+json') })).toEqual([
        expect.stringContaining('status 409 is not documented'),
      ]);
      expect(validator.check({ method: 'GET', path: '/health/live', ...json('ok', 200, 'text/plain') })).toEqual([expect.stringContaining('content type "text/plain" is not documented')]);
      expect(validator.check({ method: 'GET', path: '/v1/nowhere', ...json({ ok: true }) })).toEqual([expect.stringContaining('no operation is documented')]);
      expect(validator.check({ method: 'PATCH', path: '/v1/users/u1', ...json({ ok: true }) })).toEqual([expect.stringContaining('no operation is documented')]);
      const notFound = { ...problem, title: 'Not Found', status: 404, code: 'route_not_found' };
      expect(validator.check({ method: 'GET', path: '/v1/nowhere', ...json(notFound, 404, 'application/problem+json') })).toEqual([]);
      const conflict = { method: 'PUT', path: '/v1/organisations/o1/enforcement', ...json(problem, 409, 'application/problem+json') };
      expect(validator.check(conflict)).toEqual([]);
      // Problems are open to extension members, but must keep the members every problem has.
      expect(validator.check({ ...conflict, body: { ...problem, enforcingOrgIds: ['o1'] } })).toEqual([]);
      expect(validator.check({ ...conflict, body: { ...problem, code: undefined } })).toEqual([expect.stringContaining("must have required property 'code'")]);
      expect(validator.check({ ...conflict, body: { ...problem, status: 400 } })).toEqual([expect.stringContaining('/status must be equal to constant')]);
    });

    it('requires the headers the document requires (Retry-After on 429, WWW-Authenticate on 401)', () => {
      const validator = new OpenApiValidator(document);
      const locked = { type: 'urn:two-factor:problem:verification_locked', title: 'Too Many Requests', status: 429, detail: 'd', code: 'verification_locked' };
      const observed = { method: 'POST', path: '/v1/users/u1/two-factor/verify', ...json(locked, 429, 'application/problem+json') };
      expect(validator.check(observed)).toEqual([expect.stringContaining('header Retry-After is required')]);
      observed.headers.set('retry-after', '1800');
      expect(validator.check(observed)).toEqual([]);
      observed.headers.set('retry-after', 'soon');
      expect(validator.check(observed)).toEqual([expect.stringContaining('header Retry-After must match pattern')]);
    });

    it('reads OpenAPI 3.0 nullable and 3.1 type arrays alike, through references', () => {
      const tiny = (schema: Json): Json => ({
        openapi: '3.0.3',
        components: { schemas: { Thing: schema } },
        paths: { '/t/{id}': { get: { responses: { '200': { description: '', content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } } } } } },
      });
      const observe = (body: unknown): ObservedResponse => ({ method: 'GET', path: '/t/1?x=y', ...json(body) });
      const openApi30 = new OpenApiValidator(tiny({ type: 'object', properties: { at: { type: 'string', nullable: true }, mode: { type: 'string', enum: ['a'], nullable: true } } }));
      const openApi31 = new OpenApiValidator(tiny({ type: 'object', properties: { at: { type: ['string', 'null'] }, mode: { enum: ['a', null] } } }));
      for (const validator of [openApi30, openApi31]) {
        expect(validator.check(observe({ at: null, mode: null }))).toEqual([]);
        expect(validator.check(observe({ at: 'x', mode: 'a' }))).toEqual([]);
        expect(validator.check(observe({ at: 1, mode: 'a' }))).toEqual([expect.stringContaining('body/at must be')]);
        expect(validator.check(observe({ at: 'x', mode: 'b' }))).toEqual([expect.stringContaining('body/mode must be equal to one of the allowed values')]);
      }
    });
  });
});
