import { startHarness, type Harness } from '../support/http-harness.js';
import { codeAt, enableTwoFactor, expectCommandAnswer, expectProblem, registerUser } from './http-steps.js';

const DAY_MS = 86_400_000;

/** RESET_REQUIRES_APPROVAL: one support agent requests, a different one approves within 24 hours. */
describe('two-person reset', () => {
  let h: Harness;
  let platform: string;
  let sam: string;
  let sue: string;

  beforeAll(async () => {
    h = await startHarness({ env: { RESET_REQUIRES_APPROVAL: 'true' } });
    platform = await h.token('host-platform', 'platform');
    sam = await h.token('sam-support', 'support');
    sue = await h.token('sue-support', 'support');
  }, 60_000);
  afterAll(() => h.dispose());

  async function userWithFactor(): Promise<string> {
    const userId = await registerUser(h, platform);
    await enableTwoFactor(h, await h.token(userId), userId);
    return userId;
  }

  const requestReset = (userId: string, token = sam) => h.call('POST', `/v1/users/${userId}/two-factor/reset`, { token, body: { reason: 'Lost phone, identity checked by video call' } });
  const approve = (userId: string, requestId: string, token = sue) => h.call('POST', `/v1/users/${userId}/two-factor/reset-requests/${requestId}/approval`, { token });
  const status = async (userId: string, minPosition: string) => (await h.call('GET', `/v1/users/${userId}?minPosition=${minPosition}`, { token: sam })).body.twoFactor.status;
  const pending = (minPosition: string) => h.call('GET', `/v1/two-factor/reset-requests?status=pending&minPosition=${minPosition}`, { token: sue });

  it('answers 202 with a request, changes nothing until a different agent approves, then resets naming both', async () => {
    const userId = await userWithFactor();
    const requested = await requestReset(userId);
    expectCommandAnswer(requested, 202);
    expect(requested.body).toMatchObject({ requestId: expect.any(String), expiresAt: new Date(h.clock.now().getTime() + DAY_MS).toISOString() });
    expect(await status(userId, requested.body.position)).toBe('enabled');
    const listed = await pending(requested.body.position);
    expect(listed.body.items).toContainEqual({
      requestId: requested.body.requestId, userId, requestedBy: 'sam-support', reason: 'Lost phone, identity checked by video call', requestedAt: h.clock.now().toISOString(), expiresAt: requested.body.expiresAt,
    });

    expectProblem(await approve(userId, requested.body.requestId, sam), 403, 'self_approval');
    expect(await status(userId, requested.body.position)).toBe('enabled');

    const approved = await approve(userId, requested.body.requestId);
    expectCommandAnswer(approved);
    expect(await status(userId, approved.body.position)).toBe('none');
    const reset = (await h.service.runtime.eventStore.readStream(`user-${userId}`)).at(-1)!;
    expect([reset.type, reset.data]).toEqual(['TwoFactorReset', { reason: 'Lost phone, identity checked by video call', by: 'sam-support', requestId: requested.body.requestId, approvedBy: 'sue-support' }]);
    expect((await pending(approved.body.position)).body.items.map((r: { requestId: string }) => r.requestId)).not.toContain(requested.body.requestId);

    expectProblem(await approve(userId, requested.body.requestId, await h.token('third-support', 'support')), 409, 'reset_request_already_used');
  });

  it('refuses an approval after 24 hours (fake clock) and drops the request from the pending list', async () => {
    const userId = await userWithFactor();
    const requested = await requestReset(userId);
    h.clock.advance(DAY_MS - 1000);
    expect((await pending(requested.body.position)).body.items.map((r: { requestId: string }) => r.requestId)).toContain(requested.body.requestId);
    h.clock.advance(1000);
    expectProblem(await approve(userId, requested.body.requestId), 410, 'reset_request_expired');
    expect(await status(userId, requested.body.position)).toBe('enabled');
    expect((await pending(requested.body.position)).body.items.map((r: { requestId: string }) => r.requestId)).not.toContain(requested.body.requestId);
    // An expired request no longer blocks a new one.
    expectCommandAnswer(await requestReset(userId), 202);
  });

  it('keeps one pending request per user, refuses unknown requests and lets only support act', async () => {
    const userId = await userWithFactor();
    const requested = await requestReset(userId);
    expectProblem(await requestReset(userId, sue), 409, 'reset_request_pending');
    expectProblem(await approve(userId, 'no-such-request'), 404, 'reset_request_not_found');
    expectProblem(await approve(userId, requested.body.requestId, await h.token(userId)), 403);
    expectProblem(await approve(userId, requested.body.requestId, platform), 403);
    expectProblem(await h.call('GET', '/v1/two-factor/reset-requests', { token: platform }), 403);
    expectProblem(await h.call('GET', '/v1/two-factor/reset-requests?status=approved', { token: sam }), 400);
  });

  it('closes a pending request when the user disables the factor themself', async () => {
    const userId = await registerUser(h, platform);
    const token = await h.token(userId);
    const { secret } = await enableTwoFactor(h, token, userId);
    const requested = await requestReset(userId);
    const disabled = await h.call('DELETE', `/v1/users/${userId}/two-factor`, { token, body: { code: codeAt(h, secret) } });
    expectCommandAnswer(disabled);
    expectProblem(await approve(userId, requested.body.requestId), 409, 'reset_request_closed');
    expect((await pending(disabled.body.position)).body.items.map((r: { requestId: string }) => r.requestId)).not.toContain(requested.body.requestId);
  });

  it('answers a keyed retry of a request with the same 202 and request id', async () => {
    const userId = await userWithFactor();
    const send = () => h.call('POST', `/v1/users/${userId}/two-factor/reset`, { token: sam, body: { reason: 'Lost phone' }, headers: { 'idempotency-key': `reset-${userId}` } });
    const first = await send();
    expectCommandAnswer(first, 202);
    const again = await send();
    expect({ status: again.status, body: again.body, replayed: again.headers.get('idempotent-replayed') }).toEqual({ status: 202, body: first.body, replayed: 'true' });
  });

  it('pages the pending list by cursor, soonest to expire first', async () => {
    const ids: string[] = [];
    let position = '';
    for (let i = 0; i < 3; i++) {
      const requested = await requestReset(await userWithFactor());
      ids.push(requested.body.requestId);
      position = requested.body.position;
      h.clock.advance(1000);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { requestId: string }[]; nextCursor: string | null } } = await h.call('GET', `/v1/two-factor/reset-requests?limit=1&minPosition=${position}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: sue });
      seen.push(...page.body.items.map((r) => r.requestId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.filter((id) => ids.includes(id))).toEqual(ids);
  });
});

describe('reset without RESET_REQUIRES_APPROVAL', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  }, 60_000);
  afterAll(() => h.dispose());

  it('resets at once with 200, as before', async () => {
    const platform = await h.token('host-platform', 'platform');
    const userId = await registerUser(h, platform);
    await enableTwoFactor(h, await h.token(userId), userId);
    const reset = await h.call('POST', `/v1/users/${userId}/two-factor/reset`, { token: await h.token('sam-support', 'support'), body: { reason: 'Lost phone' } });
    expectCommandAnswer(reset);
    expect(reset.body.requestId).toBeUndefined();
    const last = (await h.service.runtime.eventStore.readStream(`user-${userId}`)).at(-1)!;
    expect([last.type, last.data]).toEqual(['TwoFactorReset', { reason: 'Lost phone', by: 'sam-support' }]);
  });
});
