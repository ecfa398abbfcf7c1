import { startHarness, type Harness } from '../support/http-harness.js';
import { csrfOf, PageClient, PAGES_ENV, type PageResponse } from '../support/page-client.js';
import { CONSOLE_STRINGS as C } from '../../src/pages/console.strings.js';
import { enableTwoFactor, registerUser } from './http-steps.js';

/**
 * Two-person reset in the console (RESET_REQUIRES_APPROVAL): one agent's confirmed reset is a
 * request; the support page lists it; the requester's own approval is refused by the decider; a
 * second agent's approval resets the factor.
 */
describe('console: two-person reset', () => {
  let h: Harness;
  let platform: string;
  let support: string;

  beforeAll(async () => {
    h = await startHarness({ env: { ...PAGES_ENV, RESET_REQUIRES_APPROVAL: 'true', RATE_LIMIT_PER_USER: '1000' } });
    platform = await h.token('platform-1', 'platform');
    support = await h.token('support-1', 'support');
  }, 60_000);
  afterAll(() => h.dispose());

  async function asSupport(sub: string): Promise<PageClient> {
    const browser = new PageClient(h);
    await browser.handoff({ sub, purpose: 'console', roles: ['support'] });
    return browser;
  }
  const text = (page: PageResponse) => page.text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
  const requestIdIn = (page: PageResponse, userId: string) => new RegExp(`/console/support/users/${userId}/reset-requests/([^/"]+)/approval`).exec(page.text)?.[1];

  it('records a request, lists it, refuses the requester\'s approval and resets on a second agent\'s', async () => {
    const user = await registerUser(h, platform);
    await enableTwoFactor(h, await h.token(user), user);

    const first = await asSupport('agent-a');
    const empty = await first.get('/console/support');
    expect(empty.status).toBe(200);
    expect(text(empty)).toContain(C.empty.pendingRequests);

    const userPage = await first.get(`/console/support/users/${user}`);
    const requested = await first.post(`/console/support/users/${user}/reset`, { csrf: csrfOf(userPage.text), reason: 'Lost phone; identity checked by video call', confirm: 'yes' });
    expect(requested.status).toBe(303);
    const afterRequest = await first.get(requested.location!);
    expect(text(afterRequest)).toContain(C.support.done.requested);
    expect(afterRequest.text).toContain('data-two-factor-status="enabled"');

    const listed = await first.get('/console/support');
    expect(listed.text).toContain('data-pending-requests');
    expect(text(listed)).toContain('Lost phone; identity checked by video call');
    const requestId = requestIdIn(listed, user);
    expect(requestId).toEqual(expect.any(String));

    const own = await first.post(`/console/support/users/${user}/reset-requests/${requestId}/approval`, { csrf: csrfOf(listed.text) });
    expect(own.status).toBe(403);
    expect((await h.call('GET', `/v1/users/${user}`, { token: support })).body.twoFactor.status).toBe('enabled');

    const second = await asSupport('agent-b');
    const seen = await second.get('/console/support');
    expect(requestIdIn(seen, user)).toBe(requestId);
    const noCsrf = await second.post(`/console/support/users/${user}/reset-requests/${requestId}/approval`, { csrf: 'forged' });
    expect(noCsrf.status).toBe(403);
    const approved = await second.post(`/console/support/users/${user}/reset-requests/${requestId}/approval`, { csrf: csrfOf(seen.text) });
    expect(approved.status).toBe(303);
    const done = await second.get(approved.location!);
    expect(text(done)).toContain(C.support.done.approved);
    expect(done.text).toContain('data-two-factor-status="none"');
    expect(text(await second.get('/console/support'))).toContain(C.empty.pendingRequests);

    const timeline = await h.call('GET', `/v1/users/${user}/timeline`, { token: support });
    expect(timeline.body.items.map((i: { type: string }) => i.type).slice(0, 3)).toEqual(expect.arrayContaining(['TwoFactorReset', 'TwoFactorResetRequested']));
  }, 60_000);

  it('shows the pending list to support only: a member reaching the support console is refused', async () => {
    const member = await registerUser(h, platform);
    const browser = new PageClient(h);
    await browser.handoff({ sub: member, purpose: 'console', roles: [] });
    expect((await browser.get('/console/support')).status).toBe(403);
    expect((await browser.post(`/console/support/users/${member}/reset-requests/request-1/approval`, { csrf: 'x' })).status).toBe(403);
  });
});
