import { newId } from '../../src/kernel/ids.js';
import { toNewEvents } from '../../src/application/command-handling.js';
import { ENFORCEMENT, membershipKey } from '../../src/enforcement/enforcement.projection.js';
import { generateTotpCode } from '../../src/two-factor/totp.js';
import { startHarness, type Harness } from '../support/http-harness.js';
import { expectProblem } from './http-steps.js';

const PAGE = 'https://app.example.com/settings/two-factor';

describe('GET /v1/enforcement/:userId', () => {
  let h: Harness;
  let platform: string;

  beforeAll(async () => {
    h = await startHarness({ env: { ENFORCEMENT_PAGE_URL: PAGE } });
    platform = await h.token('host-platform', 'platform');
  });
  afterAll(() => h.dispose());

  async function ok(method: string, path: string, body?: unknown): Promise<{ position: string }> {
    const response = await h.call(method, path, { token: platform, ...(body === undefined ? {} : { body }) });
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }
  const registerUser = (id: string) => ok('POST', '/v1/users', { id, email: `${id}@example.com` });
  const registerOrg = (id: string) => ok('POST', '/v1/organisations', { id, name: `Org ${id}` });
  const join = (orgId: string, userId: string, role = 'member') => ok('PUT', `/v1/organisations/${orgId}/members/${userId}`, { role });
  const setMode = (orgId: string, mode: string) => ok('PUT', `/v1/organisations/${orgId}/enforcement`, { mode });
  const decision = async (userId: string, query: Record<string, string> = {}, token = platform) =>
    h.call('GET', `/v1/enforcement/${userId}?${new URLSearchParams(query)}`, { token });

  it('answers HEAD and refusals from the route\'s own Fastify instance, and counts its requests in the metrics', async () => {
    await registerUser('head-1');
    const head = await fetch(`${h.url}/v1/enforcement/head-1`, { method: 'HEAD', headers: { authorization: `Bearer ${platform}` } });
    expect(head.status).toBe(200);
    expectProblem(await h.call('GET', '/v1/enforcement/head-1'), 401, 'unauthorized');
    expectProblem(await h.call('GET', '/v1/enforcement/head-1/more', { token: platform }), 404, 'route_not_found');
    const metrics = await h.call('GET', '/metrics', { token: await h.token('operator-1', 'operator') });
    expect(metrics.body).toMatch(/http_requests_total\{method="GET",route="\/v1\/enforcement\/:userId",status="401"\} [1-9]/);
    const ids = h.logs().split('\n').filter((line) => line.includes('"msg":"request"')).map((line) => (JSON.parse(line) as { requestId: string }).requestId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('prompts a member of a Xero-connected (soft) organisation', async () => {
    await registerUser('xu1');
    await registerOrg('xero-org');
    await join('xero-org', 'xu1');
    const { position } = await ok('PUT', '/v1/organisations/xero-org/xero-connection', { tenantId: 'tenant-1' });
    const response = await decision('xu1', { minPosition: position });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ requirement: 'soft', action: 'prompt', twoFactorEnabled: false, enforcedBy: [{ orgId: 'xero-org', mode: 'soft', xeroConnected: true }], deadline: null, exemptUntil: null });
  });

  it('redirects a member of a hard organisation to the configured page', async () => {
    await registerUser('hu1');
    await registerOrg('hard-org');
    await join('hard-org', 'hu1');
    const { position } = await setMode('hard-org', 'hard');
    const response = await decision('hu1', { minPosition: position });
    expect(response.body).toEqual({ requirement: 'hard', action: 'redirect', redirectTo: PAGE, twoFactorEnabled: false, enforcedBy: [{ orgId: 'hard-org', mode: 'hard', xeroConnected: false }], deadline: null, exemptUntil: null });
  });

  it('applies the strictest mode without orgId, and each organisation its own with it', async () => {
    await registerUser('both');
    await registerOrg('s-org');
    await registerOrg('h-org');
    await setMode('s-org', 'soft');
    await setMode('h-org', 'hard');
    await join('s-org', 'both');
    const { position } = await join('h-org', 'both');
    expect((await decision('both', { minPosition: position })).body).toMatchObject({ requirement: 'hard', action: 'redirect' });
    expect((await decision('both', { orgId: 's-org' })).body).toMatchObject({ requirement: 'soft', action: 'prompt', enforcedBy: [{ orgId: 's-org' }] });
    expect((await decision('both', { orgId: 'h-org' })).body).toMatchObject({ requirement: 'hard', action: 'redirect', redirectTo: PAGE });
  });

  it('allows a user with 2FA enabled while the requirement still shows', async () => {
    await registerUser('enabled');
    await registerOrg('e-org');
    await setMode('e-org', 'hard');
    await join('e-org', 'enabled');
    const setup = await h.call('POST', '/v1/users/enabled/two-factor/setup', { token: platform });
    const secret = new URL(setup.body.otpauthUri).searchParams.get('secret')!;
    const confirm = await h.call('POST', '/v1/users/enabled/two-factor/confirm', { token: platform, body: { code: generateTotpCode({ secret, at: h.clock.now() }) } });
    expect(confirm.status).toBe(200);
    const response = await decision('enabled', { minPosition: confirm.body.position });
    expect(response.body).toEqual({ requirement: 'hard', action: 'allow', twoFactorEnabled: true, enforcedBy: [{ orgId: 'e-org', mode: 'hard', xeroConnected: false }], deadline: null, exemptUntil: null });
  });

  it('allows again once the user leaves the only enforcing organisation', async () => {
    await registerUser('leaver');
    await registerOrg('l-org');
    await setMode('l-org', 'hard');
    const joined = await join('l-org', 'leaver');
    expect((await decision('leaver', { minPosition: joined.position })).body.action).toBe('redirect');
    const left = await ok('DELETE', '/v1/organisations/l-org/members/leaver');
    expect((await decision('leaver', { minPosition: left.position })).body).toEqual({ requirement: 'none', action: 'allow', twoFactorEnabled: false, enforcedBy: [], deadline: null, exemptUntil: null });
  });

  it('reflects a mode change immediately with minPosition, including going back to off', async () => {
    await registerUser('ryw');
    await registerOrg('r-org');
    await join('r-org', 'ryw');
    for (const [mode, action] of [['soft', 'prompt'], ['hard', 'redirect'], ['off', 'allow'], ['hard', 'redirect'], ['soft', 'prompt']] as const) {
      const { position } = await setMode('r-org', mode);
      expect((await decision('ryw', { minPosition: position })).body.action).toBe(action);
    }
  });

  it('lets users ask about themselves only', async () => {
    await registerUser('self');
    await registerUser('other');
    const self = await h.token('self');
    expect((await decision('self', {}, self)).status).toBe(200);
    const refused = await decision('other', {}, self);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect((await decision('self', {}, await h.token('support-1', 'support'))).status).toBe(403);
  });

  it('answers 404 for an unknown user and for an organisation the user is not in', async () => {
    await registerUser('lonely');
    await registerOrg('not-mine');
    const unknown = await decision('nobody-here');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('user_not_found');
    const notMember = await decision('lonely', { orgId: 'not-mine' });
    expect(notMember.status).toBe(404);
    expect(notMember.body.code).toBe('membership_not_found');
    expect((await decision('lonely', { orgId: 'bad id!' })).status).toBe(400);
  });

  it('updates all 10,000 members of an organisation when its mode changes', async () => {
    const orgId = 'big-org';
    await registerOrg(orgId);
    const store = h.service.runtime.eventStore;
    const actor = { id: 'host-platform', roles: ['platform'] };
    const context = (commandId: string) => ({ commandId, correlationId: commandId, actor, now: h.clock.now() });
    // The enforcement projection never reads the email; an opaque placeholder keeps the setup fast.
    const email = { keyId: 'bulk', iv: 'AAAAAAAAAAAAAAAA', ciphertext: 'AA==', tag: 'AAAAAAAAAAAAAAAAAAAAAA==' };
    for (let i = 0; i < 10_000; i++) {
      const userId = `bulk-${i}`;
      await store.append(`user-${userId}`, toNewEvents([{ type: 'UserRegistered', data: { userId, email } }], context(newId())), 'no_stream');
    }
    const members = Array.from({ length: 10_000 }, (_, i) => ({ type: 'MemberJoinedOrg', data: { userId: `bulk-${i}`, role: 'member' } }));
    const head = (await store.readStream(`organisation-${orgId}`, { direction: 'backwards', limit: 1 }))[0]!;
    await store.append(`organisation-${orgId}`, toNewEvents(members, context(newId())), head.revision);
    const { position } = await setMode(orgId, 'hard');
    // A fan-out to 10,000 members takes the projections longer than one read-your-writes wait on a busy machine.
    expect(await h.service.runtime.progress.waitFor(position, 60_000)).toBe(true);
    expect((await decision('bulk-9999', { minPosition: position })).body.action).toBe('redirect');
    const key = membershipKey(orgId);
    expect(await h.service.runtime.readStore.count(ENFORCEMENT, { [`orgs.${key}.mode`]: 'hard' })).toBe(10_000);
    const off = await setMode(orgId, 'off');
    expect(await h.service.runtime.progress.waitFor(off.position, 60_000)).toBe(true);
    expect((await decision('bulk-0', { minPosition: off.position })).body.action).toBe('allow');
    expect(await h.service.runtime.readStore.count(ENFORCEMENT, { [`orgs.${key}.mode`]: 'off' })).toBe(10_000);
  }, 300_000);
});
