import fc from 'fast-check';
import { startHarness, type Harness } from '../support/http-harness.js';
import { closeRawAgent, rawRequest, rawSocketRequest, type RawResponse } from '../support/raw-http.js';
import { servedRoutes, routeKey, type RegisteredRoute } from '../support/route-table.js';
import { handoffToken, PageClient } from '../support/page-client.js';
import { commandEventsSince, enableTwoFactor, registerOrg, registerUser, setMember } from './http-steps.js';

/**
 * Malformed bodies, path parameters and query strings sent to every registered route, with valid
 * tokens so the input reaches the handlers. Inputs come from fast-check with a fixed seed and a
 * fixed count per route, so a run is repeatable and bounded (about 1,570 requests for 35 routes). Every answer
 * is checked: never a 5xx; every error is problem+json (on the pages, /two-factor/*, their HTML
 * error page, sent with a live pages session so the input reaches the handlers); a refused request
 * stores nothing.
 */

const SEED = 20_261_201;
const BODIES_PER_ROUTE = 18;
const PATHS_PER_ROUTE = 20;
const QUERIES_PER_ROUTE = 6;

/**
 * Refusals that are recorded on purpose: a failed code check counts toward the lockout
 * (DESIGN §1), so it appends TwoFactorVerificationFailed before answering 422 or 429.
 */
const RECORDED_REFUSALS = new Set(['invalid_code', 'code_already_used', 'verification_locked']);

interface Fixtures {
  readonly orgId: string;
  readonly userId: string;
}

type Caller = 'platform' | 'support' | 'auditor' | 'operator' | 'member' | 'admin';

interface FuzzCase {
  readonly label: string;
  readonly method: string;
  readonly path: string;
  readonly caller: Caller;
  readonly contentType?: string;
  readonly body?: string | Buffer;
}

// ----------------------------------------------------------------------------------------------
// Arbitraries

/** Every UTF-8 byte percent-encoded; lone surrogates become U+FFFD as any client would send them. */
function percentEncodeAll(value: string): string {
  return [...Buffer.from(value, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0').toUpperCase()}`).join('');
}

const RAW_SAFE = [...'abcXYZ019-_.~!$&\'()*+,;=:@[]{}|^`"<>\\%'];
const LATIN1 = [...'éÿ\u00a0\u0080\u00ad'];

const junkSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('..', '.', '%2e%2e', '%2E%2E%2F..', '..%2F..%2Fetc%2Fpasswd', '%00', '%0a', '%0d%0a', '%1b[31m', '%7f', '%ff', '%', '%zz', '%E0%A4%A', '%C0%AF', '%2F', '%5C', '%20', '~', 'constructor', '__proto__', 'hasOwnProperty', 'null', '-dash', '_underscore', 'a:b', 'a%3Ab', 'é', '%F0%9F%98%80', '%EF%BF%BF', '%ED%A0%80'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }).map(percentEncodeAll),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).map(percentEncodeAll),
  fc.string({ unit: fc.constantFrom(...RAW_SAFE), minLength: 1, maxLength: 30 }),
  fc.string({ unit: fc.constantFrom(...LATIN1, 'a'), minLength: 1, maxLength: 10 }),
  fc.integer({ min: 129, max: 6000 }).map((length) => 'a'.repeat(length)),
  fc.integer({ min: 1, max: 200 }).map((length) => '%41'.repeat(length)),
);

const QUERY_KEYS = ['minPosition', 'limit', 'cursor', 'twoFactor', 'orgId', 'at', 'from', 'to', 'type', 'stream', 'actor', 'format', 'direction', 'fromRevision', 'exempt', 'mode', 'hardFrom', '__proto__', 'constructor', '__proto__[polluted]', 'limit[]', 'a[b][c]', '', '%zz', 'x'.repeat(300)];
const QUERY_VALUES = ['', '-1', '0', '1.5', '1e309', 'NaN', 'Infinity', '99999999999999999999999', '4000000000', '1/2/3', 'true', 'null', '[]', '{}', '%00', '%zz', 'enabled', 'disabled', 'csv', 'jsonl', 'xml', 'backwards', '2026-13-45T99:99:99Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', 'x'.repeat(3000), 'a,b,,c', 'Organisation%20Registered'];

const queryString: fc.Arbitrary<string> = fc.oneof(
  fc
    .array(fc.tuple(fc.constantFrom(...QUERY_KEYS), fc.oneof(fc.constantFrom(...QUERY_VALUES), fc.string({ unit: 'binary', maxLength: 20 }).map(percentEncodeAll))), { minLength: 1, maxLength: 6 })
    .map((pairs) => `?${pairs.map(([key, value]) => `${key}=${value}`).join('&')}`),
  fc.constantFrom('?', '?&&&', '?=', '?==', '?a', '?a=1&a=2&a=3', `?${'a=1&'.repeat(2000)}`, '?%', '?limit=1#fragment', '?;', '?é=é'),
);

/** Values that pass a schema's shape but not its meaning: a position never written, a cursor never issued. */
const EDGE_QUERIES = ['?minPosition=4000000000', '?minPosition=99999999999999999999', '?limit=1e309', `?cursor=${'x'.repeat(1000)}`, '?cursor=eyJ9'];

/** JSON text built by hand, so keys such as __proto__ reach the server as sent. */
function jsonObject(pairs: ReadonlyArray<readonly [string, unknown]>): string {
  return `{${pairs.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value) ?? 'null'}`).join(',')}}`;
}

const BODY_KEYS = ['id', 'name', 'email', 'tenantId', 'mode', 'reason', 'role', 'until', 'code', 'backupCode', 'extra', '__proto__', 'constructor', 'prototype', ''];
const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1e308, 123456, 12345678, '', ' ', '000000', '12345678', 'admin', 'member', 'owner', 'off', 'soft', 'hard', 'x@example.test', 'not-an-email', 'a:b', '\u0000', '\u202e', '\ud800', 'x'.repeat(10_000)),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.jsonValue({ maxDepth: 3 }),
);

interface BodyCase {
  readonly label: string;
  readonly contentType?: string;
  readonly body: string | Buffer;
}

const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/json; charset=utf-16', 'APPLICATION/JSON', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/problem+json', 'application/vnd.api+json', 'application/octet-stream', 'text/html', ';;;', ''];

function nested(depth: number, open: string, close: string, leaf: string): string {
  return `${open.repeat(depth)}${leaf}${close.repeat(depth)}`;
}

const bodyCase: fc.Arbitrary<BodyCase> = fc.oneof(
  fc.array(fc.tuple(fc.constantFrom(...BODY_KEYS), wrongValue), { maxLength: 5 }).map((pairs) => ({ label: 'object with wrong types or extra keys', contentType: 'application/json', body: jsonObject(pairs) })),
  fc.jsonValue({ maxDepth: 4 }).map((value) => ({ label: 'any JSON value', contentType: 'application/json', body: JSON.stringify(value) ?? 'null' })),
  fc.array(wrongValue, { maxLength: 5 }).map((items) => ({ label: 'array instead of object', contentType: 'application/json', body: JSON.stringify(items) })),
  fc.constantFrom(10, 100, 1_000, 5_000, 20_000).chain((depth) =>
    fc.constantFrom<BodyCase>(
      { label: `arrays nested ${depth} deep`, contentType: 'application/json', body: nested(depth, '[', ']', '1') },
      { label: `objects nested ${depth} deep`, contentType: 'application/json', body: nested(depth, '{"a":', '}', '1') },
      { label: `name nested ${depth} deep`, contentType: 'application/json', body: `{"name":${nested(depth, '[', ']', '"x"')}}` },
    ),
  ),
  fc.constantFrom(1_000, 60_000, 70_000, 300_000).map((length) => ({ label: `huge string (${length})`, contentType: 'application/json', body: jsonObject([['name', 'x'.repeat(length)], ['email', `${'a'.repeat(length)}@example.test`], ['reason', 'r'.repeat(length)]]) })),
  fc.tuple(fc.constantFrom('not json', '{"name":', '{"name":"x",}', "{'name':'x'}", '<xml/>', 'name=x&role=admin', '', ' ', '\u0000', 'null', '"text"', '123', 'true', '[]', '{}', '\ufeff{}', '{"a":1}{"b":2}', 'NaN'), fc.constantFrom(...CONTENT_TYPES, undefined)).map(([body, contentType]) => ({
    label: `non-JSON or bare text as ${contentType ?? 'no content-type'}`,
    ...(contentType === undefined ? {} : { contentType }),
    body,
  })),
  fc.constantFrom<BodyCase>(
    { label: 'invalid UTF-8', contentType: 'application/json', body: Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc0, 0xaf, 0x22, 0x7d]) },
    { label: 'UTF-16 bytes', contentType: 'application/json; charset=utf-16', body: Buffer.from('{"name":"x"}', 'utf16le') },
    { label: 'NUL bytes', contentType: 'application/json', body: Buffer.from([0x7b, 0x00, 0x7d]) },
  ),
);

const CALLERS: readonly Caller[] = ['platform', 'platform', 'platform', 'platform', 'support', 'auditor', 'operator', 'member', 'admin'];
const caller: fc.Arbitrary<Caller> = fc.constantFrom(...CALLERS);

/** What is wrong with an error answer, or the parsed problem when nothing is. */
function problemOf(response: RawResponse): Record<string, unknown> | string {
  if (!response.contentType.includes('application/problem+json')) return `content-type ${JSON.stringify(response.contentType)}, not application/problem+json: ${response.text.slice(0, 120)}`;
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch {
    return `a problem+json body that is not JSON: ${response.text.slice(0, 120)}`;
  }
  if (typeof body !== 'object' || body === null) return 'a problem that is not an object';
  const problem = body as Record<string, unknown>;
  const missing = ['type', 'title', 'detail'].filter((field) => typeof problem[field] !== 'string');
  if (problem['status'] !== response.status) missing.push('status');
  return missing.length === 0 ? problem : `a problem without a valid ${missing.join(', ')}: ${response.text.slice(0, 120)}`;
}

/** What is wrong with a page's refusal, or null: the pages answer people with an HTML error page. */
function htmlErrorOf(response: RawResponse): string | null {
  if (!response.contentType.includes('text/html')) return `content-type ${JSON.stringify(response.contentType)}, not text/html: ${response.text.slice(0, 120)}`;
  if (!response.text.includes('<h1>') || /at .*\.(ts|js):\d+/.test(response.text)) return `not the error page: ${response.text.slice(0, 120)}`;
  return null;
}

/** A route's inputs depend on its own key only, so adding a route leaves the others' cases as they were. */
function seedOf(route: RegisteredRoute, part: string): number {
  let hash = SEED;
  for (const char of `${part} ${routeKey(route)}`) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) | 0;
  return hash;
}

function templateParams(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z]+)/g)].map((match) => match[1]!);
}

// ----------------------------------------------------------------------------------------------

describe('fuzzing every route', () => {
  let h: Harness;
  let routes: RegisteredRoute[];
  let fixtures: Fixtures;
  const tokens = {} as Record<Caller, string>;
  /** The member's pages session cookie, sent with every request to /two-factor/*. */
  let pagesCookie = '';
  /** A console session of the organisation's admin with every staff role, sent to /console*: input reaches every handler. */
  let consoleCookie = '';

  beforeAll(async () => {
    // A minPosition beyond the head is waited on until this bound: keep it short so such cases cost little.
    h = await startHarness({ env: { READ_YOUR_WRITES_TIMEOUT_MS: '300' } });
    tokens.platform = await h.token('host-platform', 'platform');
    tokens.support = await h.token('support-agent', 'support');
    tokens.auditor = await h.token('auditor-1', 'auditor');
    tokens.operator = await h.token('operator-1', 'operator');
    const [admin, member] = [await registerUser(h, tokens.platform), await registerUser(h, tokens.platform)];
    const orgId = await registerOrg(h, tokens.platform);
    expect((await setMember(h, tokens.platform, orgId, admin, 'admin')).status).toBe(200);
    expect((await setMember(h, tokens.platform, orgId, member, 'member')).status).toBe(200);
    tokens.admin = await h.token(admin);
    tokens.member = await h.token(member);
    await enableTwoFactor(h, tokens.member, member);
    fixtures = { orgId, userId: member };
    routes = servedRoutes(h);
    const browser = new PageClient(h);
    const landing = await browser.get(`/two-factor/handoff?token=${await handoffToken(h, { sub: member, purpose: 'manage', returnTo: 'http://localhost:3001/after' })}`);
    expect(landing.status).toBe(303);
    pagesCookie = `tfa_pages=${browser.cookie('tfa_pages')!}`;
    const staff = new PageClient(h);
    const consoleLanding = await staff.get(`/two-factor/handoff?token=${await handoffToken(h, { sub: admin, purpose: 'console', roles: ['support', 'auditor', 'platform'], returnTo: 'http://localhost:3001/after' })}`);
    expect(consoleLanding.status).toBe(303);
    consoleCookie = `tfa_pages=${staff.cookie('tfa_pages')!}`;
  }, 60_000);

  afterAll(async () => {
    closeRawAgent();
    await h.dispose();
  });

  /** Valid values for the parameters a case does not fuzz, so the fuzzed part is what the route meets. */
  function validParam(name: string): string {
    switch (name) {
      case 'orgId':
        return fixtures.orgId;
      case 'userId':
        return fixtures.userId;
      case 'stream':
        return `organisation-${fixtures.orgId}`;
      case 'file':
        return 'swagger-ui.css';
      // Ids of things that need not exist: the route then answers 404, which is what a fuzzed body or query must not turn into a 500.
      case 'deviceId':
        return 'device-1';
      case 'requestId':
        return 'request-1';
      case 'jobId':
        return 'AAAAAAAAAAAAAAAAAAAAAA';
      default:
        throw new Error(`no valid value known for path parameter :${name}; add one to the fuzz spec`);
    }
  }

  function pathOf(route: RegisteredRoute, fuzzed: Record<string, string> = {}): string {
    return route.path.replace(/:([A-Za-z]+)/g, (_match, name: string) => fuzzed[name] ?? validParam(name));
  }

  function headersOf(fuzzCase: FuzzCase): Record<string, string> {
    const page: Record<string, string> = fuzzCase.path.startsWith('/two-factor/') ? { cookie: pagesCookie } : fuzzCase.path.startsWith('/console') ? { cookie: consoleCookie } : {};
    return { authorization: `Bearer ${tokens[fuzzCase.caller]}`, ...page, ...(fuzzCase.contentType === undefined ? {} : { 'content-type': fuzzCase.contentType }) };
  }

  /** Sends one case and returns what is wrong with the answer, if anything. */
  async function check(fuzzCase: FuzzCase, send: () => Promise<RawResponse>): Promise<string | null> {
    const before = await h.service.runtime.eventStore.headPosition();
    let response: RawResponse;
    try {
      response = await send();
    } catch (error) {
      return report(fuzzCase, `no answer: ${(error as Error).message}`);
    }
    // The scheduler's mail records (a notice for the fixtures' 2FA, a reminder) land whenever they are
    // due; only what a command appended counts against the case.
    const appended = await commandEventsSince(h, before);
    const after = appended.length === 0 ? before : `${before} + ${appended.join(', ')}`;
    if (response.status >= 500 || response.status < 100) return report(fuzzCase, `status ${response.status} ${response.text.slice(0, 200)}`);
    if (response.status < 400) return null;
    if ((fuzzCase.path.startsWith('/two-factor/') || fuzzCase.path.startsWith('/console')) && !response.contentType.includes('application/problem+json')) {
      const wrong = htmlErrorOf(response);
      if (wrong) return report(fuzzCase, `status ${response.status}: ${wrong}`);
      return before === after ? null : report(fuzzCase, `status ${response.status} HTML error page but the store head moved from ${before} to ${after}`);
    }
    const problem = problemOf(response);
    if (typeof problem === 'string') return report(fuzzCase, `status ${response.status}: ${problem}`);
    if (before !== after && !RECORDED_REFUSALS.has(String(problem['code']))) return report(fuzzCase, `status ${response.status} ${String(problem['code'])} but the store head moved from ${before} to ${after}`);
    return null;
  }

  function report(fuzzCase: FuzzCase, what: string): string {
    const body = fuzzCase.body === undefined ? '' : ` body=${JSON.stringify(fuzzCase.body.toString().slice(0, 120))}`;
    return `${fuzzCase.method} ${fuzzCase.path.slice(0, 160)} as ${fuzzCase.caller} [${fuzzCase.label}]${body} → ${what}`;
  }

  /**
   * Errors the service logged while a test ran: a failure after the status line was sent (a
   * streamed export breaking half-way) shows only here, behind a 200.
   */
  function errorsLoggedSince(offset: number): string[] {
    return h
      .logs()
      .slice(offset)
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg?: string; err?: { name?: string } })
      .filter((entry) => entry.level >= 50)
      .map((entry) => `logged at level ${entry.level}: ${entry.msg ?? ''} ${entry.err?.name ?? ''}`.trim());
  }

  const overHttp = (fuzzCase: FuzzCase): Promise<RawResponse> =>
    rawRequest(h.url, { method: fuzzCase.method, path: fuzzCase.path, headers: headersOf(fuzzCase), ...(fuzzCase.body === undefined ? {} : { body: fuzzCase.body }) });

  /** One at a time: the store head read around a request must be moved by nothing else. */
  async function run(cases: readonly FuzzCase[], send: (fuzzCase: FuzzCase) => Promise<RawResponse> = overHttp): Promise<string[]> {
    const problems: string[] = [];
    for (const fuzzCase of cases) {
      const problem = await check(fuzzCase, () => send(fuzzCase));
      if (problem) problems.push(problem);
    }
    return problems;
  }

  it('answers malformed bodies with a 4xx problem and stores nothing', async () => {
    const logged = h.logs().length;
    const problems: string[] = [];
    for (const route of routes) {
      const samples = fc.sample(fc.tuple(bodyCase, caller), { seed: seedOf(route, 'body'), numRuns: BODIES_PER_ROUTE });
      const cases = samples.map(([body, who]): FuzzCase => ({ label: body.label, method: route.method, path: pathOf(route), caller: who, body: body.body, ...(body.contentType === undefined ? {} : { contentType: body.contentType }) }));
      problems.push(...(await run(cases)));
    }
    expect([...problems, ...errorsLoggedSince(logged)]).toEqual([]);
  }, 120_000);

  it('answers malformed path parameters with a 4xx problem and stores nothing', async () => {
    const logged = h.logs().length;
    const problems: string[] = [];
    for (const route of routes) {
      const params = templateParams(route.path);
      if (params.length === 0) continue;
      const samples = fc.sample(fc.tuple(fc.constantFrom(...params), junkSegment, caller), { seed: seedOf(route, 'path'), numRuns: PATHS_PER_ROUTE });
      const cases = samples.map(([param, junk, who]): FuzzCase => ({ label: `junk :${param}`, method: route.method, path: pathOf(route, { [param]: junk }), caller: who }));
      problems.push(...(await run(cases)));
      // Control characters and bare spaces in the request line itself, which only a raw socket sends.
      const raw = ['a\u0001b', 'a\u007fb', 'a\tb', 'a b', 'a\u0000b'].map((junk): FuzzCase => ({ label: `raw control character in :${params[0]}`, method: route.method, path: pathOf(route, { [params[0]!]: junk }), caller: 'platform' }));
      problems.push(...(await run(raw, (fuzzCase) => rawSocketRequest(h.url, `${fuzzCase.method} ${fuzzCase.path} HTTP/1.1`, headersOf(fuzzCase)))));
    }
    expect([...problems, ...errorsLoggedSince(logged)]).toEqual([]);
  }, 120_000);

  it('answers malformed query strings with a 4xx problem and stores nothing', async () => {
    const logged = h.logs().length;
    const problems: string[] = [];
    for (const route of routes) {
      const samples = fc.sample(fc.tuple(queryString, caller), { seed: seedOf(route, 'query'), numRuns: QUERIES_PER_ROUTE });
      const fuzzed = samples.map(([query, who]): FuzzCase => ({ label: 'junk query', method: route.method, path: `${pathOf(route)}${query}`, caller: who }));
      // Alone, so a strict schema cannot refuse them for a neighbouring key first.
      const edges = EDGE_QUERIES.map((query): FuzzCase => ({ label: 'edge query', method: route.method, path: `${pathOf(route)}${query}`, caller: 'platform' }));
      problems.push(...(await run([...fuzzed, ...edges])));
    }
    expect([...problems, ...errorsLoggedSince(logged)]).toEqual([]);
  }, 120_000);
});
