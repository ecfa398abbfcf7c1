import { startHarness, type Harness, type JsonResponse } from '../support/http-harness.js';
import { STEP_MS, codeAt, enableTwoFactor, expectCommandAnswer, expectProblem, registerUser, streamLength, uniqueId, wrongCode } from './http-steps.js';

describe('Idempotency-Key on command routes', () => {
  let h: Harness;
  let platform: string;

  beforeAll(async () => {
    h = await startHarness();
    platform = await h.token('host-platform', 'platform');
  });
  afterAll(() => h.dispose());

  function verify(userId: string, token: string, body: unknown, key: string): Promise<JsonResponse> {
    return h.call('POST', `/v1/users/${userId}/two-factor/verify`, { token, body, headers: { 'idempotency-key': key } });
  }

  it('never answers "verified" for a wrong code sent under a key first used with a right code', async () => {
    const userId = await registerUser(h, platform);
    const token = await h.token(userId);
    const { secret } = await enableTwoFactor(h, token, userId);
    const key = uniqueId('verify');
    expectCommandAnswer(await verify(userId, token, { code: codeAt(h, secret) }, key));
    const before = await streamLength(h, `user-${userId}`);
    expectProblem(await verify(userId, token, { code: wrongCode(h, secret) }, key), 422, 'idempotency_key_reused');
    expect(await streamLength(h, `user-${userId}`)).toBe(before);
    h.clock.advance(STEP_MS);
  });

  it('answers 422, not 500, when a registration key is reused for another id', async () => {
    const headers = { 'idempotency-key': uniqueId('register') };
    const first = await h.call('POST', '/v1/organisations', { token: platform, body: { id: uniqueId('org'), name: 'First' }, headers });
    expect(first.status).toBe(201);
    const otherId = uniqueId('org');
    expectProblem(await h.call('POST', '/v1/organisations', { token: platform, body: { id: otherId, name: 'First' }, headers }), 422, 'idempotency_key_reused');
    const userHeaders = { 'idempotency-key': uniqueId('register') };
    expect((await h.call('POST', '/v1/users', { token: platform, body: { id: uniqueId('user'), email: 'a@example.test' }, headers: userHeaders })).status).toBe(201);
    expectProblem(await h.call('POST', '/v1/users', { token: platform, body: { id: uniqueId('user'), email: 'a@example.test' }, headers: userHeaders }), 422, 'idempotency_key_reused');
  });
});
