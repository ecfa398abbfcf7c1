import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { BURST_ENV, startHarness, type Harness, type JsonResponse } from '../support/http-harness.js';
import { SECRET_PURPOSE } from '../../src/two-factor/two-factor.flows.js';
import { STEP_MS, codeAt, enableTwoFactor, expectCommandAnswer, expectProblem, registerUser, wrongCode } from './http-steps.js';

/** Races the project keeps (issue 13): concurrent requests over real HTTP against one user. */
describe('HTTP two-factor races', () => {
  let h: Harness;
  let platform: string;

  beforeAll(async () => {
    h = await startHarness({ env: BURST_ENV });
    platform = await h.token('host-platform', 'platform');
  });
  afterAll(() => h.dispose());
  afterEach(() => {
    jest.restoreAllMocks();
  });

  async function enabledUser(): Promise<{ userId: string; token: string; secret: string }> {
    const userId = await registerUser(h, platform);
    const token = await h.token(userId);
    const { secret } = await enableTwoFactor(h, token, userId);
    return { userId, token, secret };
  }

  function verify(userId: string, token: string, code: string): Promise<JsonResponse> {
    return h.call('POST', `/v1/users/${userId}/two-factor/verify`, { token, body: { code } });
  }

  async function eventTypes(userId: string): Promise<string[]> {
    return (await h.service.runtime.eventStore.readStream(`user-${userId}`)).map((e) => e.type);
  }

  it('answers the same right code sent 20 times at once with exactly one success and no lockout', async () => {
    const { userId, token, secret } = await enabledUser();
    const code = codeAt(h, secret);
    const answers = await Promise.all(Array.from({ length: 20 }, () => verify(userId, token, code)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    for (const refused of answers.filter((a) => a.status !== 200)) expectProblem(refused, 422, 'code_already_used');
    const types = await eventTypes(userId);
    expect(types.filter((t) => t === 'TwoFactorVerified')).toHaveLength(1);
    expect(types.filter((t) => t === 'TwoFactorVerificationFailed' || t === 'TwoFactorLockedOut')).toEqual([]);
    h.clock.advance(STEP_MS);
    expectCommandAnswer(await verify(userId, token, codeAt(h, secret)));
  });

  it('evaluates exactly five of 50 wrong codes sent at once and answers the rest 429 unevaluated', async () => {
    const { userId, token, secret } = await enabledUser();
    const decrypt = jest.spyOn(h.service.runtime.cipher, 'decrypt');
    const answers = await Promise.all(Array.from({ length: 50 }, () => verify(userId, token, wrongCode(h, secret))));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 422)).toHaveLength(4);
    expect(statuses.filter((s) => s === 429)).toHaveLength(46);
    const lockedUntil = new Date(h.clock.now().getTime() + 30 * 60_000).toISOString();
    for (const locked of answers.filter((a) => a.status === 429)) {
      expectProblem(locked, 429, 'verification_locked');
      expect(locked.body).toMatchObject({ lockedUntil, retryAfterSeconds: 1800 });
      expect(locked.headers.get('retry-after')).toBe('1800');
    }
    const types = await eventTypes(userId);
    expect(types.filter((t) => t === 'TwoFactorVerificationFailed')).toHaveLength(5);
    expect(types.filter((t) => t === 'TwoFactorLockedOut')).toHaveLength(1);
    // Evaluating a code means decrypting the secret: five times, once per recorded failure.
    expect(decrypt.mock.calls.filter((call) => call[1] === SECRET_PURPOSE)).toHaveLength(5);
  });
});
