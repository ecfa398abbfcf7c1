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
