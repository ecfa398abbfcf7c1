import { startHarness, type Harness, type JsonResponse } from '../support/http-harness.js';
import { forgedTokens, type ForgedTokens } from '../support/forged-tokens.js';
import { servedRoutes, routeKey } from '../support/route-table.js';
import { codeAt, enableTwoFactor, registerOrg, registerUser, secretOf, setMember, uniqueId } from './http-steps.js';

/**
 * Every route the app registers × every kind of caller, with the status each must get. The table
 * is the authorization contract: a route added without a row, or a row whose route went away,
 * fails the first test. Refused callers are sent valid input, so the status says what
 * authorization decided, not what validation did.
 */

const PRINCIPALS = ['none', 'badSignature', 'algNone', 'expired', 'self', 'other', 'adminOfIt', 'adminOfOther', 'platform', 'support', 'auditor', 'operator'] as const;
type PrincipalKey = (typeof PRINCIPALS)[number];
type Expectations = Readonly<Record<PrincipalKey, number>>;
const TOKEN_FAILURES: readonly PrincipalKey[] = ['none', 'badSignature', 'algNone', 'expired'];

type Factor = 'none' | 'pending' | 'enabled';

/**
 * The fixtures a cell runs against. Org A has an admin and a member ("self", the user addressed by
 * user routes); org B has its own admin; "outsider" is registered but belongs to no organisation
 * and is the "end user other" caller.
 */
interface World {
  readonly orgA: string;
  readonly orgB: string;
  readonly adminA: string;
  readonly adminB: string;
  readonly self: string;
  readonly outsider: string;
  readonly secret: string | null;
}

interface Scenario {
  /** What the scenario adds to the route, e.g. which member is addressed. */
  readonly name: string;
  readonly path: (w: World, h: Harness) => string;
  readonly body?: (w: World, h: Harness) => unknown;
  /** Self's factor in a fresh world (default none); the shared world's self has 2FA enabled. */
  readonly factor?: Factor;
  /** 'all': every authenticated caller gets a fresh world, because a wrong success would change the shared one. */
  readonly fresh?: 'allowed' | 'all';
  readonly expect: Expectations;
}

interface Row {
  readonly method: string;
  readonly route: string;
  readonly scenarios: readonly Scenario[];
}

/** Token failures get 401; the listed callers get their status; every other valid token gets `others`. */
function only(allowed: Partial<Record<PrincipalKey, number>>, others = 403): Expectations {
  const cells = {} as Record<PrincipalKey, number>;
  for (const principal of PRINCIPALS) cells[principal] = allowed[principal] ?? (TOKEN_FAILURES.includes(principal) ? 401 : others);
  return cells;
}

/** A public route answers every caller alike, whatever the token. */
function anyone(status: number): Expectations {
  return only(Object.fromEntries(PRINCIPALS.map((principal) => [principal, status])));
}

const one = (name: string, path: Scenario['path'], expect: Expectations, extra: Partial<Scenario> = {}): Scenario[] => [{ name, path, expect, ...extra }];
const code = (w: World, h: Harness): { code: string } => ({ code: w.secret ? codeAt(h, w.secret) : '000000' });
const auditAt = (h: Harness): string => encodeURIComponent(h.clock.now().toISOString());
const auditWindow = (h: Harness): string => `from=${encodeURIComponent(new Date(h.clock.now().getTime() - 86_400_000).toISOString())}&to=${auditAt(h)}`;

const ROWS: readonly Row[] = [
  // Organisations
  { method: 'POST', route: '/v1/organisations', scenarios: one('register', () => '/v1/organisations', only({ platform: 201 }), { body: () => ({ id: uniqueId('org'), name: 'Matrix Org' }) }) },
  { method: 'GET', route: '/v1/organisations/:orgId', scenarios: one('org A', (w) => `/v1/organisations/${w.orgA}`, only({ platform: 200, support: 200, adminOfIt: 200 })) },
  { method: 'GET', route: '/v1/organisations/:orgId/history', scenarios: one('org A', (w) => `/v1/organisations/${w.orgA}/history`, only({ platform: 200, support: 200, adminOfIt: 200 })) },
  { method: 'GET', route: '/v1/organisations/:orgId/members', scenarios: one('org A', (w) => `/v1/organisations/${w.orgA}/members`, only({ platform: 200, support: 200, adminOfIt: 200 })) },
  {
    method: 'PUT',
    route: '/v1/organisations/:orgId/xero-connection',
    scenarios: one('org A', (w) => `/v1/organisations/${w.orgA}/xero-connection`, only({ platform: 200 }), { body: () => ({ tenantId: uniqueId('tenant') }) }),
  },
  { method: 'DELETE', route: '/v1/organisations/:orgId/xero-connection', scenarios: one('org A', (w) => `/v1/organisations/${w.orgA}/xero-connection`, only({ platform: 200 })) },
  {
    method: 'PUT',
    route: '/v1/organisations/:orgId/enforcement',
    scenarios: one('org A', (w) => `/v1/organisations/${w.orgA}/enforcement`, only({ platform: 200, adminOfIt: 200 }), { body: () => ({ mode: 'soft', reason: 'matrix' }) }),
  },
  {
    method: 'PUT',
    route: '/v1/organisations/:orgId/members/:userId',
    scenarios: [
      // Only the platform adds a user to an organisation; an admin only changes an existing member's role.
      { name: 'an existing member', path: (w) => `/v1/organisations/${w.orgA}/members/${w.self}`, body: () => ({ role: 'admin' }), expect: only({ platform: 200, adminOfIt: 200 }) },
      { name: 'a registered user outside the org', path: (w) => `/v1/organisations/${w.orgA}/members/${w.outsider}`, body: () => ({ role: 'member' }), fresh: 'all', expect: only({ platform: 200 }) },
      // The admin gets the same 403 whether the user exists or not: no probing of user ids.
      { name: 'an unknown user id', path: (w) => `/v1/organisations/${w.orgA}/members/nobody-${w.orgA}`, body: () => ({ role: 'member' }), expect: only({ platform: 404 }) },
    ],
  },
  {
    method: 'PUT',
    route: '/v1/organisations/:orgId/members',
    scenarios: one('org A, the full list plus the outsider', (w) => `/v1/organisations/${w.orgA}/members`, only({ platform: 200 }), {
      fresh: 'all',
      body: (w) => ({ members: [{ userId: w.adminA, role: 'admin' }, { userId: w.self, role: 'member' }, { userId: w.outsider, role: 'member' }] }),
    }),
  },
  {
    method: 'DELETE',
    route: '/v1/organisations/:orgId/members/:userId',
    scenarios: [
      { name: 'an existing member', path: (w) => `/v1/organisations/${w.orgA}/members/${w.self}`, expect: only({ platform: 200, adminOfIt: 200 }) },
      { name: 'a user outside the org', path: (w) => `/v1/organisations/${w.orgA}/members/${w.outsider}`, expect: only({ platform: 404, adminOfIt: 404 }) },
    ],
  },
  {
    method: 'PUT',
    route: '/v1/organisations/:orgId/members/:userId/exemption',
    scenarios: one('a member of org A', (w) => `/v1/organisations/${w.orgA}/members/${w.self}/exemption`, only({ support: 200, adminOfIt: 200 }), {
      body: (_w, h) => ({ reason: 'Matrix exemption', until: new Date(h.clock.now().getTime() + 86_400_000).toISOString() }),
    }),
  },
  {
    method: 'DELETE',
    route: '/v1/organisations/:orgId/members/:userId/exemption',
    scenarios: one('a member of org A', (w) => `/v1/organisations/${w.orgA}/members/${w.self}/exemption`, only({ support: 200, adminOfIt: 200 })),
  },
  {
    method: 'GET',
    route: '/v1/organisations/:orgId/enforcement/preview',
    scenarios: one('org A, hard', (w) => `/v1/organisations/${w.orgA}/enforcement/preview?mode=hard`, only({ platform: 200, support: 200, adminOfIt: 200 })),
  },
  // Users and their factor
  {
    method: 'POST',
    route: '/v1/users',
    scenarios: one('register', () => '/v1/users', only({ platform: 201 }), {
      body: () => {
        const id = uniqueId('user');
        return { id, email: `${id}@example.test` };
      },
    }),
  },
  { method: 'GET', route: '/v1/users', scenarios: one('an address', (w) => `/v1/users?email=${w.self}%40example.test`, only({ platform: 200, support: 200 })) },
  { method: 'GET', route: '/v1/users/:userId/timeline', scenarios: one('self', (w) => `/v1/users/${w.self}/timeline`, only({ self: 200, platform: 200, support: 200 })) },
  { method: 'GET', route: '/v1/users/:userId', scenarios: one('self', (w) => `/v1/users/${w.self}`, only({ self: 200, platform: 200, support: 200 })) },
  { method: 'GET', route: '/v1/users/:userId/reminders', scenarios: one('self', (w) => `/v1/users/${w.self}/reminders`, only({ self: 200, support: 200 })) },
  { method: 'POST', route: '/v1/users/:userId/two-factor/setup', scenarios: one('self without a factor', (w) => `/v1/users/${w.self}/two-factor/setup`, only({ self: 201, platform: 201 }), { factor: 'none' }) },
  {
    method: 'POST',
    route: '/v1/users/:userId/two-factor/confirm',
    scenarios: one('self with a pending setup', (w) => `/v1/users/${w.self}/two-factor/confirm`, only({ self: 200, platform: 200 }), { factor: 'pending', body: code }),
  },
  { method: 'POST', route: '/v1/users/:userId/two-factor/verify', scenarios: one('self with 2FA', (w) => `/v1/users/${w.self}/two-factor/verify`, only({ self: 200, platform: 200 }), { factor: 'enabled', body: code }) },
  { method: 'POST', route: '/v1/users/:userId/two-factor/backup-codes', scenarios: one('self with 2FA', (w) => `/v1/users/${w.self}/two-factor/backup-codes`, only({ self: 200 }), { factor: 'enabled', body: code }) },
  { method: 'DELETE', route: '/v1/users/:userId/two-factor', scenarios: one('self with 2FA, no enforcing org', (w) => `/v1/users/${w.self}/two-factor`, only({ self: 200 }), { factor: 'enabled', body: code }) },
  { method: 'POST', route: '/v1/users/:userId/two-factor/reset', scenarios: one('self with 2FA', (w) => `/v1/users/${w.self}/two-factor/reset`, only({ support: 200 }), { factor: 'enabled', body: () => ({ reason: 'Lost phone, identity checked by phone call' }) }) },
  // The shared world's self has 2FA and no trusted device: a device id nobody was given is "not found" to those allowed.
  { method: 'GET', route: '/v1/users/:userId/two-factor/devices', scenarios: one('self', (w) => `/v1/users/${w.self}/two-factor/devices`, only({ self: 200, support: 200 })) },
  {
    method: 'DELETE',
    route: '/v1/users/:userId/two-factor/devices/:deviceId',
    scenarios: one('a device self was never given', (w) => `/v1/users/${w.self}/two-factor/devices/no-such-device`, only({ self: 404, support: 404 })),
  },
  // Without RESET_REQUIRES_APPROVAL (this harness) no request exists: support is told so, everyone else is refused first.
  {
    method: 'POST',
    route: '/v1/users/:userId/two-factor/reset-requests/:requestId/approval',
    scenarios: one('a request nobody made', (w) => `/v1/users/${w.self}/two-factor/reset-requests/no-such-request/approval`, only({ support: 404 })),
  },
  { method: 'GET', route: '/v1/two-factor/reset-requests', scenarios: one('pending', () => '/v1/two-factor/reset-requests?status=pending', only({ support: 200 })) },
  { method: 'POST', route: '/v1/users/:userId/forget', scenarios: one('self', (w) => `/v1/users/${w.self}/forget`, only({ operator: 200 })) },
  { method: 'GET', route: '/v1/enforcement/:userId', scenarios: one('self', (w) => `/v1/enforcement/${w.self}`, only({ self: 200, platform: 200 })) },
  { method: 'GET', route: '/v1/enforcement/changes', scenarios: one('from now', () => '/v1/enforcement/changes', only({ platform: 200 })) },
  { method: 'GET', route: '/v1/enforcement/documents/:userId', scenarios: one('self', (w) => `/v1/enforcement/documents/${w.self}`, only({ platform: 200 })) },
  // Audit
  { method: 'GET', route: '/v1/audit/streams/:stream', scenarios: one('org A', (w) => `/v1/audit/streams/organisation-${w.orgA}`, only({ auditor: 200 })) },
  { method: 'GET', route: '/v1/audit/events', scenarios: one('all', () => '/v1/audit/events?limit=5', only({ auditor: 200 })) },
  { method: 'GET', route: '/v1/audit/organisations/:orgId/state', scenarios: one('org A now', (w, h) => `/v1/audit/organisations/${w.orgA}/state?at=${auditAt(h)}`, only({ auditor: 200 })) },
  { method: 'GET', route: '/v1/audit/users/:userId/state', scenarios: one('self now', (w, h) => `/v1/audit/users/${w.self}/state?at=${auditAt(h)}`, only({ auditor: 200 })) },
  { method: 'GET', route: '/v1/audit/integrity', scenarios: one('org A', (w) => `/v1/audit/integrity?stream=organisation-${w.orgA}`, only({ auditor: 200 })) },
  { method: 'GET', route: '/v1/audit/export', scenarios: one('last day', (_w, h) => `/v1/audit/export?format=jsonl&${auditWindow(h)}`, only({ auditor: 200 })) },
  { method: 'GET', route: '/v1/audit/organisations/:orgId/compliance', scenarios: one('org A, last day', (w, h) => `/v1/audit/organisations/${w.orgA}/compliance?${auditWindow(h)}`, only({ auditor: 200 })) },
  // Operations
  { method: 'GET', route: '/v1/admin/projections/rebuild', scenarios: one('status', () => '/v1/admin/projections/rebuild', only({ operator: 200 })) },
  { method: 'POST', route: '/v1/admin/projections/rebuild', scenarios: one('start', () => '/v1/admin/projections/rebuild', only({ operator: 202 })) },
  { method: 'GET', route: '/health/live', scenarios: one('probe', () => '/health/live', anyone(200)) },
  { method: 'GET', route: '/health/ready', scenarios: one('probe', () => '/health/ready', anyone(200)) },
  // Metrics name routes and volumes: operators only on the public port.
  { method: 'GET', route: '/metrics', scenarios: one('scrape', () => '/metrics', only({ operator: 200 })) },
  // API documentation is public.
  { method: 'GET', route: '/docs', scenarios: one('page', () => '/docs', anyone(200)) },
  { method: 'GET', route: '/docs/openapi.json', scenarios: one('document', () => '/docs/openapi.json', anyone(200)) },
  { method: 'GET', route: '/docs/assets/init.js', scenarios: one('script', () => '/docs/assets/init.js', anyone(200)) },
  { method: 'GET', route: '/docs/assets/:file', scenarios: one('stylesheet', () => '/docs/assets/swagger-ui.css', anyone(200)) },
  // The pages: a bearer token means nothing to them. A page acts only for the user of the session a
  // hand-off started (sealed cookie), so acting for another user is impossible by construction;
  // without a session every page is the 401 error page, and a hand-off without a token is 400.
  { method: 'GET', route: '/two-factor/handoff', scenarios: one('no token', () => '/two-factor/handoff', anyone(400)) },
  { method: 'POST', route: '/two-factor/handoff', scenarios: one('no token', () => '/two-factor/handoff', anyone(400)) },
  ...['setup', 'required', 'verify', 'manage', 'console'].map((page): Row => ({ method: 'GET', route: `/two-factor/${page}`, scenarios: one('no session', () => `/two-factor/${page}`, anyone(401)) })),
  ...['setup', 'verify', 'manage/backup-codes', 'manage/disable', 'manage/devices/revoke', 'signout'].map((page): Row => ({
    method: 'POST',
    route: `/two-factor/${page}`,
    scenarios: one('no session', () => `/two-factor/${page}`, anyone(401), { body: (w, h) => code(w, h) }),
  })),
  ...['assets/pages.css', 'assets/brand.css', 'assets/pages.js', 'prompt.js'].map((file): Row => ({ method: 'GET', route: `/two-factor/${file}`, scenarios: one('file', () => `/two-factor/${file}`, anyone(200)) })),
  // The console: a session from a console hand-off, never a bearer token (test/http/console.spec.ts drives each role through it).
  ...[
    ['/console', () => '/console'],
    ['/console/organisations/:orgId', (w: World) => `/console/organisations/${w.orgA}`],
    ['/console/organisations/:orgId/members.csv', (w: World) => `/console/organisations/${w.orgA}/members.csv`],
    ['/console/support', () => '/console/support'],
    ['/console/support/users/:userId', (w: World) => `/console/support/users/${w.self}`],
    ['/console/audit', () => '/console/audit'],
    ['/console/audit/integrity/:jobId', () => '/console/audit/integrity/AAAAAAAAAAAAAAAAAAAAAA'],
    ['/console/audit/compliance', (w: World) => `/console/audit/compliance?orgId=${w.orgA}&from=2026-01-01&to=2026-01-31`],
    ['/console/audit/compliance/download', (w: World) => `/console/audit/compliance/download?orgId=${w.orgA}&from=2026-01-01&to=2026-01-31&format=csv`],
    ['/console/audit/export', () => '/console/audit/export'],
  ].map(([route, path]): Row => ({ method: 'GET', route: route as string, scenarios: one('no session', path as Scenario['path'], anyone(401)) })),
  ...[
    ['/console/organisations/:orgId/enforcement', (w: World) => `/console/organisations/${w.orgA}/enforcement`, { mode: 'hard', reason: 'matrix' }],
    ['/console/support/search', () => '/console/support/search', { q: 'someone@example.test' }],
    ['/console/support/users/:userId/reset', (w: World) => `/console/support/users/${w.self}/reset`, { reason: 'matrix', confirm: 'yes' }],
    ['/console/support/users/:userId/reset-requests/:requestId/approval', (w: World) => `/console/support/users/${w.self}/reset-requests/request-1/approval`, {}],
    ['/console/audit/integrity', () => '/console/audit/integrity', {}],
  ].map(([route, path, body]): Row => ({ method: 'POST', route: route as string, scenarios: one('no session', path as Scenario['path'], anyone(401), { body: () => body }) })),
  ...['console.css', 'console.js'].map((file): Row => ({ method: 'GET', route: `/console/assets/${file}`, scenarios: one('file', () => `/console/assets/${file}`, anyone(200)) })),
  { method: 'GET', route: '/.well-known/jwks.json', scenarios: one('keys', () => '/.well-known/jwks.json', anyone(200)) },
];

describe('authorization matrix', () => {
  let h: Harness;
  let platform: string;
  let forged: ForgedTokens;
  let shared: World;
  const staff: Partial<Record<PrincipalKey, string>> = {};

  beforeAll(async () => {
    h = await startHarness();
    platform = await h.token('host-platform', 'platform');
    staff.platform = platform;
    staff.support = await h.token('support-agent', 'support');
    staff.auditor = await h.token('auditor-1', 'auditor');
    staff.operator = await h.token('operator-1', 'operator');
    forged = await forgedTokens();
    shared = await buildWorld('enabled');
  }, 60_000);
  afterAll(() => h.dispose());

  async function buildWorld(factor: Factor): Promise<World> {
    const [adminA, adminB, self, outsider] = await Promise.all([registerUser(h, platform), registerUser(h, platform), registerUser(h, platform), registerUser(h, platform)]);
    const [orgA, orgB] = await Promise.all([registerOrg(h, platform, 'Org A'), registerOrg(h, platform, 'Org B')]);
    const joined = await Promise.all([setMember(h, platform, orgA, adminA, 'admin'), setMember(h, platform, orgA, self, 'member'), setMember(h, platform, orgB, adminB, 'admin')]);
    expect(joined.map((response) => response.status)).toEqual([200, 200, 200]);
    const selfToken = await h.token(self);
    let secret: string | null = null;
    let position: string = joined[2]!.body.position;
    if (factor === 'pending') {
      const setup = await h.call('POST', `/v1/users/${self}/two-factor/setup`, { token: selfToken });
      expect(setup.status).toBe(201);
      secret = secretOf(setup.body.otpauthUri);
      position = setup.body.position;
    } else if (factor === 'enabled') {
      ({ secret, position } = await enableTwoFactor(h, selfToken, self));
    }
    // Queries answer from read models: wait until they have seen the whole world.
    expect((await h.call('GET', `/v1/users/${self}?minPosition=${position}`, { token: platform })).status).toBe(200);
    return { orgA, orgB, adminA, adminB, self, outsider, secret };
  }

  async function authorization(principal: PrincipalKey, w: World): Promise<string | undefined> {
    switch (principal) {
      case 'none':
        return undefined;
      case 'badSignature':
      case 'algNone':
      case 'expired':
        return `Bearer ${forged[principal]}`;
      case 'self':
        return `Bearer ${await h.token(w.self)}`;
      case 'other':
        return `Bearer ${await h.token(w.outsider)}`;
      case 'adminOfIt':
        return `Bearer ${await h.token(w.adminA)}`;
      case 'adminOfOther':
        return `Bearer ${await h.token(w.adminB)}`;
      default:
        return `Bearer ${staff[principal]!}`;
    }
  }

  /** A cell that may succeed with a command gets its own world, so no cell sees another's success. */
  function needsFreshWorld(row: Row, scenario: Scenario, principal: PrincipalKey): boolean {
    if (row.method === 'GET' || TOKEN_FAILURES.includes(principal)) return false;
    return scenario.fresh === 'all' || scenario.expect[principal] < 300;
  }

  async function send(row: Row, scenario: Scenario, principal: PrincipalKey, w: World): Promise<JsonResponse> {
    const auth = await authorization(principal, w);
    const body = scenario.body?.(w, h);
    return h.call(row.method, scenario.path(w, h), { ...(body !== undefined ? { body } : {}), headers: auth ? { authorization: auth } : {} });
  }

  /** A started rebuild runs in the background; the next cell waits for it so it cannot meet a 409 or a swap. */
  async function awaitRebuild(): Promise<void> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const status = await h.call('GET', '/v1/admin/projections/rebuild', { token: staff.operator! });
      if (!['running', 'swapping'].includes(status.body.state)) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error('the projection rebuild did not finish');
  }

  it('has one row per registered route and one route per row', () => {
    const registered = servedRoutes(h).map(routeKey);
    const rows = ROWS.map((row) => `${row.method} ${row.route}`);
    expect({ routesWithoutRow: registered.filter((key) => !rows.includes(key)), rowsWithoutRoute: rows.filter((key) => !registered.includes(key)) }).toEqual({
      routesWithoutRow: [],
      rowsWithoutRoute: [],
    });
    expect(new Set(rows).size).toBe(rows.length);
  });

  describe.each(ROWS.map((row) => [`${row.method} ${row.route}`, row] as const))('%s', (_name, row) => {
    it.each(row.scenarios.map((scenario) => [scenario.name, scenario] as const))('addressing %s', async (_scenario, scenario) => {
      const deviations: string[] = [];
      for (const principal of PRINCIPALS) {
        const w = needsFreshWorld(row, scenario, principal) ? await buildWorld(scenario.factor ?? 'none') : shared;
        const response = await send(row, scenario, principal, w);
        const expected = scenario.expect[principal];
        // The pages refuse with their HTML error page; every other route with problem+json.
        const refusalType = row.route.startsWith('/two-factor/') || row.route.startsWith('/console') ? 'text/html' : 'application/problem+json';
        const problem = response.status >= 400 && !String(response.headers.get('content-type')).includes(refusalType);
        if (response.status !== expected || problem) {
          const code = typeof response.body === 'object' && response.body !== null ? response.body.code : undefined;
          deviations.push(`${principal}: expected ${expected}, got ${response.status}${code ? ` ${code}` : ''}${problem ? ' (not problem+json)' : ''}`);
        }
        if (row.route === '/v1/admin/projections/rebuild' && row.method === 'POST') await awaitRebuild();
      }
      expect(deviations).toEqual([]);
    }, 60_000);
  });
});
