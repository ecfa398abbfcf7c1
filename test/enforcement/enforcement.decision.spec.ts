import { decideEnforcement, type MembershipPolicy } from '../../src/enforcement/enforcement.decision.js';

const PAGE = 'https://app.example/settings/2fa';
const NOW = new Date('2026-03-02T09:00:00.000Z');
const org = (orgId: string, mode: MembershipPolicy['mode'], xeroConnected = false): MembershipPolicy => ({ orgId, mode, xeroConnected });

describe('enforcement decision', () => {
  it('requires nothing without enforcing organisations', () => {
    expect(decideEnforcement([], false, PAGE, NOW)).toEqual({ requirement: 'none', action: 'allow', twoFactorEnabled: false, enforcedBy: [], deadline: null, exemptUntil: null });
    expect(decideEnforcement([org('a', 'off')], false, PAGE, NOW).action).toBe('allow');
  });

  it('prompts for soft and redirects for hard', () => {
    expect(decideEnforcement([org('a', 'soft', true)], false, PAGE, NOW)).toEqual({ requirement: 'soft', action: 'prompt', twoFactorEnabled: false, enforcedBy: [org('a', 'soft', true)], deadline: null, exemptUntil: null });
    expect(decideEnforcement([org('b', 'hard')], false, PAGE, NOW)).toEqual({ requirement: 'hard', action: 'redirect', redirectTo: PAGE, twoFactorEnabled: false, enforcedBy: [org('b', 'hard')], deadline: null, exemptUntil: null });
  });

  it('takes the strictest requirement and lists enforcing organisations strictest first', () => {
    const decision = decideEnforcement([org('a', 'soft'), org('c', 'off'), org('b', 'hard')], false, PAGE, NOW);
    expect(decision.requirement).toBe('hard');
    expect(decision.enforcedBy.map((m) => m.orgId)).toEqual(['b', 'a']);
  });

  it('allows a user with 2FA while still showing the requirement', () => {
    expect(decideEnforcement([org('b', 'hard')], true, PAGE, NOW)).toEqual({ requirement: 'hard', action: 'allow', twoFactorEnabled: true, enforcedBy: [org('b', 'hard')], deadline: null, exemptUntil: null });
  });

  describe('deadline (policy over time)', () => {
    const DAY = 86_400_000;
    const at = (days: number): string => new Date(NOW.getTime() + days * DAY).toISOString();
    const scheduledSoft = (orgId: string, days: number) => ({ ...org(orgId, 'soft'), hardFrom: at(days) });
    const newcomer = (orgId: string, joinedDaysAgo: number, graceDays: number) => ({ ...org(orgId, 'hard'), graceFrom: at(-joinedDaysAgo), graceDays });

    it('a soft organisation with a schedule answers its hardFrom as the deadline', () => {
      expect(decideEnforcement([scheduledSoft('a', 14)], false, PAGE, NOW)).toMatchObject({ requirement: 'soft', action: 'prompt', deadline: at(14) });
    });

    it('is hard from the scheduled instant on, even before the scheduler\'s event arrives', () => {
      expect(decideEnforcement([scheduledSoft('a', 0)], false, PAGE, NOW)).toMatchObject({ requirement: 'hard', action: 'redirect', deadline: null, exemptUntil: null });
    });

    it('a newcomer to a hard organisation is soft until the grace ends, then hard (exactly at the end)', () => {
      expect(decideEnforcement([newcomer('h', 2, 7)], false, PAGE, NOW)).toMatchObject({ requirement: 'soft', action: 'prompt', deadline: at(5), enforcedBy: [org('h', 'soft')] });
      expect(decideEnforcement([newcomer('h', 7, 7)], false, PAGE, NOW)).toMatchObject({ requirement: 'hard', action: 'redirect', deadline: null, exemptUntil: null });
      expect(decideEnforcement([newcomer('h', 2, 0)], false, PAGE, NOW)).toMatchObject({ requirement: 'hard', deadline: null, exemptUntil: null });
    });

    it('strictest wins: another hard organisation outweighs a grace or a schedule; the earliest deadline counts', () => {
      expect(decideEnforcement([newcomer('h', 2, 7), org('b', 'hard')], false, PAGE, NOW)).toMatchObject({ requirement: 'hard', deadline: null, exemptUntil: null });
      expect(decideEnforcement([newcomer('h', 2, 7), scheduledSoft('a', 3), org('c', 'soft')], false, PAGE, NOW)).toMatchObject({ requirement: 'soft', deadline: at(3) });
    });
  });
});

describe('enforcement decision with exemptions', () => {
  const NOW = new Date('2026-03-01T09:00:00.000Z');
  const UNTIL = '2026-03-20T09:00:00.000Z';
  const exempt = (m: MembershipPolicy, exemptUntil = UNTIL): MembershipPolicy => ({ ...m, exemptUntil });

  it('allows in the context of the exempting organisation and says until when', () => {
    expect(decideEnforcement([exempt(org('a', 'hard', true))], false, PAGE, NOW)).toEqual({
      requirement: 'none',
      action: 'allow',
      twoFactorEnabled: false,
      enforcedBy: [{ ...org('a', 'hard', true), exemptUntil: UNTIL }],
      exemptUntil: UNTIL,
      deadline: null,
    });
  });

  it('leaves the exempt organisation out of strictest-wins; the others still apply', () => {
    const decision = decideEnforcement([exempt(org('a', 'hard')), org('b', 'soft')], false, PAGE, NOW);
    expect(decision).toMatchObject({ requirement: 'soft', action: 'prompt', exemptUntil: UNTIL });
    expect(decision.enforcedBy).toEqual([{ ...org('a', 'hard'), exemptUntil: UNTIL }, org('b', 'soft')]);
    // An exemption from a soft organisation changes nothing while a hard one enforces.
    expect(decideEnforcement([exempt(org('a', 'soft')), org('b', 'hard')], false, PAGE, NOW)).toMatchObject({ requirement: 'hard', action: 'redirect', exemptUntil: null });
  });

  it('no longer counts an exemption whose `until` has passed, even before the expiry event', () => {
    const decision = decideEnforcement([exempt(org('a', 'hard'))], false, PAGE, new Date(UNTIL));
    expect(decision).toMatchObject({ requirement: 'hard', action: 'redirect', exemptUntil: null });
    expect(decision.enforcedBy).toEqual([org('a', 'hard')]);
  });

  it('takes no deadline from an organisation the user is exempt from', () => {
    const scheduled = { ...org('a', 'soft'), hardFrom: '2026-03-10T09:00:00.000Z' };
    expect(decideEnforcement([exempt(scheduled), org('b', 'soft')], false, PAGE, NOW)).toMatchObject({ requirement: 'soft', deadline: null, exemptUntil: null });
    expect(decideEnforcement([scheduled, org('b', 'soft')], false, PAGE, NOW)).toMatchObject({ requirement: 'soft', deadline: '2026-03-10T09:00:00.000Z' });
  });

  it('treats an ended exemption (null) as none', () => {
    expect(decideEnforcement([{ ...org('a', 'hard'), exemptUntil: null }], false, PAGE, NOW)).toMatchObject({ action: 'redirect', exemptUntil: null, enforcedBy: [org('a', 'hard')] });
  });
});
