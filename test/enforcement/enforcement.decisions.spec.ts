import { loadConfig } from '../../src/config/config.js';
import { EnforcementDecisions } from '../../src/enforcement/enforcement.query.js';
import { nextPolicyChange } from '../../src/enforcement/enforcement.deadline.js';
import { membershipKey, type EnforcementDoc } from '../../src/enforcement/enforcement.projection.js';
import type { StoredMembership } from '../../src/enforcement/enforcement.decision.js';
import { FakeClock } from '../../src/kernel/clock.js';
import type { ReadModelProgress } from '../../src/projections/read-model-progress.js';

const DAY = 86_400_000;
const NOW = new Date('2026-03-02T09:00:00.000Z');
const at = (days: number): string => new Date(NOW.getTime() + days * DAY).toISOString();
const CAUGHT_UP: ReadModelProgress = { isRunning: () => true, waitFor: async () => true, headPosition: async () => null };
const platform = { id: 'host-platform', roles: ['platform' as const] };

function docOf(userId: string, memberships: StoredMembership[]): EnforcementDoc {
  return { id: userId, twoFactorEnabled: false, forgotten: false, orgs: Object.fromEntries(memberships.map((m) => [membershipKey(m.orgId), m])) } as EnforcementDoc;
}

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
}

describe('instants at which a decision may change', () => {
  it('are pending escalations, ends of grace and ends of exemptions, the earliest after now', () => {
    const now = NOW.getTime();
    expect(nextPolicyChange([{ mode: 'hard' }, { mode: 'off' }], now)).toBe(Infinity);
    expect(nextPolicyChange([{ mode: 'soft', hardFrom: at(9) }, { mode: 'hard', graceFrom: at(-2), graceDays: 7 }], now)).toBe(Date.parse(at(5)));
    expect(nextPolicyChange([{ mode: 'hard', exemptUntil: at(3) }, { mode: 'soft', hardFrom: at(4) }], now)).toBe(Date.parse(at(3)));
    // Instants already passed have had their effect; an unreadable one never has any.
    expect(nextPolicyChange([{ mode: 'soft', hardFrom: at(-1) }, { mode: 'hard', exemptUntil: 'not a date' }, { mode: 'hard', exemptUntil: null }], now)).toBe(Infinity);
    expect(nextPolicyChange([{ mode: 'soft', hardFrom: at(0) }], now)).toBe(Infinity);
  });
});

describe('enforcement decisions answered from a document at hand', () => {
  const config = loadConfig({ AUTH_JWT_SECRET: 'x'.repeat(32) });
  const setup = (doc: EnforcementDoc) => {
    const clock = new FakeClock(NOW);
    const docs = { get: async (userId: string) => (userId === doc.id ? doc : null), peek: (userId: string) => (userId === doc.id ? doc : undefined) };
    return { clock, decisions: new EnforcementDecisions(docs, CAUGHT_UP, config, clock) };
  };

  it('change at the escalation instant, the end of grace and the end of an exemption though the document does not', async () => {
    const doc = docOf('u1', [
      { orgId: 'a', mode: 'soft', xeroConnected: false, hardFrom: at(10) },
      { orgId: 'b', mode: 'hard', xeroConnected: false, graceFrom: at(-1), graceDays: 3 },
      { orgId: 'c', mode: 'hard', xeroConnected: false, exemptUntil: at(1) },
    ]);
    const { clock, decisions } = setup(doc);
    expect(decisions.decideAtHand(platform, 'u1')).toMatchObject({ requirement: 'soft', exemptUntil: at(1), deadline: at(2) });
    clock.advance(DAY - 1);
    expect(decisions.decideAtHand(platform, 'u1')).toMatchObject({ requirement: 'soft', exemptUntil: at(1) });
    clock.advance(1);
    expect(decisions.decideAtHand(platform, 'u1')).toMatchObject({ requirement: 'hard', action: 'redirect', exemptUntil: null, deadline: null });
    clock.set(at(-1));
    expect(decisions.decideAtHand(platform, 'u1')).toMatchObject({ requirement: 'soft', exemptUntil: at(1) });
    expect(await decisions.decide(platform, 'u1', null, undefined)).toEqual(decisions.decideAtHand(platform, 'u1'));
  });

  it('apply the same rules as the full path: authorization first, then the user\'s existence', async () => {
    const { decisions } = setup({ ...docOf('u1', []), forgotten: true });
    expect(thrown(() => decisions.decideAtHand({ id: 'u2', roles: [] }, 'u1'))).toMatchObject({ code: 'forbidden' });
    expect(thrown(() => decisions.decideAtHand({ id: 'u1', roles: [] }, 'u1'))).toMatchObject({ code: 'user_not_found' });
    await expect(decisions.decide({ id: 'u1', roles: [] }, 'u1', null, undefined)).rejects.toMatchObject({ code: 'user_not_found' });
    expect(decisions.decideAtHand(platform, 'nobody')).toBeUndefined();
  });
});
