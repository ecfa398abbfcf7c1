import { decideEnforcement, type MembershipPolicy } from '../../src/enforcement/enforcement.decision.js';

const PAGE = 'https://app.example/settings/2fa';
const org = (orgId: string, mode: MembershipPolicy['mode'], xeroConnected = false): MembershipPolicy => ({ orgId, mode, xeroConnected });

describe('enforcement decision', () => {
  it('requires nothing without enforcing organisations', () => {
    expect(decideEnforcement([], false, PAGE)).toEqual({ requirement: 'none', action: 'allow', twoFactorEnabled: false, enforcedBy: [], exemptUntil: null });
    expect(decideEnforcement([org('a', 'off')], false, PAGE).action).toBe('allow');
  });

  it('prompts for soft and redirects for hard', () => {
    expect(decideEnforcement([org('a', 'soft', true)], false, PAGE)).toEqual({ requirement: 'soft', action: 'prompt', twoFactorEnabled: false, enforcedBy: [org('a', 'soft', true)], exemptUntil: null });
    expect(decideEnforcement([org('b', 'hard')], false, PAGE)).toEqual({ requirement: 'hard', action: 'redirect', redirectTo: PAGE, twoFactorEnabled: false, enforcedBy: [org('b', 'hard')], exemptUntil: null });
  });

  it('takes the strictest requirement and lists enforcing organisations strictest first', () => {
    const decision = decideEnforcement([org('a', 'soft'), org('c', 'off'), org('b', 'hard')], false, PAGE);
    expect(decision.requirement).toBe('hard');
    expect(decision.enforcedBy.map((m) => m.orgId)).toEqual(['b', 'a']);
  });

  it('allows a user with 2FA while still showing the requirement', () => {
    expect(decideEnforcement([org('b', 'hard')], true, PAGE)).toEqual({ requirement: 'hard', action: 'allow', twoFactorEnabled: true, enforcedBy: [org('b', 'hard')], exemptUntil: null });
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

  it('treats an ended exemption (null) as none', () => {
    expect(decideEnforcement([{ ...org('a', 'hard'), exemptUntil: null }], false, PAGE, NOW)).toMatchObject({ action: 'redirect', exemptUntil: null, enforcedBy: [org('a', 'hard')] });
  });
});
