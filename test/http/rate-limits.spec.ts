import { startHarness, type Harness, type JsonResponse } from '../support/http-harness.js';
import { expectCommandAnswer, expectProblem, registerUser } from './http-steps.js';

const MINUTE = 60_000;

function expectRateLimited(response: JsonResponse, retryAfterSeconds: number): void {
  expectProblem(response, 429, 'rate_limited');
  expect(response.body.title).toBe('Too Many Requests');
  expect(response.headers.get('retry-after')).toBe(String(retryAfterSeconds));
  expect(response.body.retryAfterSeconds).toBe(retryAfterSeconds);
}

describe('rate limits on the two-factor commands', () => {
  describe('per user, per caller and per route family (defaults: 10 a minute)', () => {
    let h: Harness;
    let platform: string;
    let auditor: string;

    beforeAll(async () => {
      // The per-client limit is exercised below; here every call comes from this one address.
      h = await startHarness({ env: { RATE_LIMIT_PER_CLIENT: '1000' } });
      platform = await h.token('host-platform', 'platform');
      auditor = await h.token('auditor-1', 'auditor');
    });
    afterAll(() => h.dispose());

    const setup = (userId: string, token: string) => h.call('POST', `/v1/users/${userId}/two-factor/setup`, { token });
    const storedEvents = async (userId: string): Promise<number> => (await h.call('GET', `/v1/audit/streams/user-${userId}`, { token: auditor })).body.events.length;

    it('refuses the 11th setup in a minute with 429 + Retry-After and stores nothing; the window resets', async () => {
      const userId = await registerUser(h, platform);
      for (let call = 1; call <= 10; call++) expectCommandAnswer(await setup(userId, platform), 201);
      const stored = await storedEvents(userId);
      expectRateLimited(await setup(userId, platform), 60);
      h.clock.advance(MINUTE / 2);
      expectRateLimited(await setup(userId, platform), 30);
      expect(await storedEvents(userId)).toBe(stored);
      h.clock.advance(MINUTE / 2);
      expectCommandAnswer(await setup(userId, platform), 201);
    });

    it('counts each route family apart, and each caller apart', async () => {
      const userId = await registerUser(h, platform);
      const self = await h.token(userId);
      for (let call = 1; call <= 10; call++) expectCommandAnswer(await setup(userId, platform), 201);
      expectRateLimited(await setup(userId, platform), 60);
      expectCommandAnswer(await setup(userId, self), 201);
      expectProblem(await h.call('POST', `/v1/users/${userId}/two-factor/confirm`, { token: platform, body: { code: '000000' } }), 422);
      expectProblem(await h.call('POST', `/v1/users/${userId}/two-factor/verify`, { token: platform, body: { code: '000000' } }), 409);
    });

    it('limits before authorizing and before any work, without letting a forbidden caller spend the owner\'s allowance', async () => {
      const victim = await registerUser(h, platform);
      const intruder = await h.token(await registerUser(h, platform));
      const disable = (token: string) => h.call('DELETE', `/v1/users/${victim}/two-factor`, { token, body: { code: '123456' } });
      for (let call = 1; call <= 10; call++) expectProblem(await disable(intruder), 403);
      expectRateLimited(await disable(intruder), 60);
      expectProblem(await disable(await h.token(victim)), 409);
    });

    it('limits every two-factor command route, and no other route', async () => {
      const userId = await registerUser(h, platform);
      const self = await h.token(userId);
      // Invalid bodies (400) still count: the limiter runs before the input is even read.
      const routes: Array<[string, string, unknown]> = [
        ['POST', 'setup', undefined],
        ['POST', 'confirm', {}],
        ['POST', 'verify', {}],
        ['POST', 'backup-codes', {}],
        ['DELETE', '', {}],
      ];
      for (const [method, action, body] of routes) {
        const path = `/v1/users/${userId}/two-factor${action ? `/${action}` : ''}`;
        for (let call = 1; call <= 10; call++) expect((await h.call(method, path, { token: self, body })).status).not.toBe(429);
        expectRateLimited(await h.call(method, path, { token: self, body }), 60);
      }
      for (let call = 1; call <= 15; call++) expect((await h.call('GET', `/v1/users/${userId}`, { token: self })).status).toBe(200);
      h.clock.advance(MINUTE);
    });
  });

  describe('per client address', () => {
    let h: Harness;
    let platform: string;

    beforeAll(async () => {
      h = await startHarness({ env: { RATE_LIMIT_PER_CLIENT: '5', RATE_LIMIT_PER_USER: '100', RATE_LIMIT_WINDOW: '10 seconds' } });
      platform = await h.token('host-platform', 'platform');
    });
    afterAll(() => h.dispose());

    it('refuses a client over its allowance across users and callers, until its window ends', async () => {
      const users = [await registerUser(h, platform), await registerUser(h, platform), await registerUser(h, platform)];
      const self = await h.token(users[0]!);
      for (const userId of users) expectCommandAnswer(await h.call('POST', `/v1/users/${userId}/two-factor/setup`, { token: platform }), 201);
      for (let call = 0; call < 2; call++) expectCommandAnswer(await h.call('POST', `/v1/users/${users[0]}/two-factor/setup`, { token: self }), 201);
      expectRateLimited(await h.call('POST', `/v1/users/${users[2]}/two-factor/setup`, { token: platform }), 10);
      expectRateLimited(await h.call('POST', `/v1/users/${users[0]}/two-factor/verify`, { token: self, body: { code: '123456' } }), 10);
      h.clock.advance(10_000);
      expectCommandAnswer(await h.call('POST', `/v1/users/${users[2]}/two-factor/setup`, { token: platform }), 201);
    });
  });
});
