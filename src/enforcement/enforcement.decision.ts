import { earliestDeadline, effectivePolicy, type TimedPolicy } from './enforcement.deadline.js';

/**
 * The enforcement decision, a pure function of one user's enforcement document. Kept apart from
 * HTTP and storage so the rules of DESIGN section 1 are tested directly.
 */
export type Mode = 'off' | 'soft' | 'hard';
export type Requirement = 'none' | 'soft' | 'hard';
export type Action = 'allow' | 'prompt' | 'redirect';

export interface MembershipPolicy {
  readonly orgId: string;
  readonly mode: Mode;
  readonly xeroConnected: boolean;
}

export interface EnforcementDecision {
  readonly requirement: Requirement;
  readonly action: Action;
  readonly redirectTo?: string;
  readonly twoFactorEnabled: boolean;
  readonly enforcedBy: readonly MembershipPolicy[];
  /** When the requirement becomes stricter (a scheduled escalation, the end of a newcomer's grace), else null. */
  readonly deadline: string | null;
}

/** A membership as stored: the organisation's mode and the time-bound parts of its policy. */
export type StoredMembership = MembershipPolicy & TimedPolicy;

const STRICTNESS: Readonly<Record<Mode, number>> = { off: 0, soft: 1, hard: 2 };

export function strictestMode(memberships: readonly MembershipPolicy[]): Mode {
  return memberships.reduce<Mode>((strictest, m) => (STRICTNESS[m.mode] > STRICTNESS[strictest] ? m.mode : strictest), 'off');
}

/**
 * Without an organisation in context the strictest of the user's organisations applies; in the
 * context of one organisation, that organisation's own mode. A user with 2FA is always allowed,
 * but still sees what is required so the host app can explain it.
 */
export function decideEnforcement(
  stored: readonly StoredMembership[],
  twoFactorEnabled: boolean,
  enforcementPageUrl: string,
  now: Date,
): EnforcementDecision {
  const timed = stored.map((m) => ({ orgId: m.orgId, xeroConnected: m.xeroConnected, ...effectivePolicy(m, now) }));
  const memberships: MembershipPolicy[] = timed.map(({ orgId, mode, xeroConnected }) => ({ orgId, mode, xeroConnected }));
  const enforcedBy = memberships.filter((m) => m.mode !== 'off').sort((a, b) => STRICTNESS[b.mode] - STRICTNESS[a.mode] || (a.orgId < b.orgId ? -1 : 1));
  const mode = strictestMode(enforcedBy);
  const requirement: Requirement = mode === 'off' ? 'none' : mode;
  const action: Action = twoFactorEnabled || requirement === 'none' ? 'allow' : requirement === 'soft' ? 'prompt' : 'redirect';
  return {
    requirement,
    action,
    ...(action === 'redirect' ? { redirectTo: enforcementPageUrl } : {}),
    twoFactorEnabled,
    enforcedBy,
    deadline: earliestDeadline(timed, requirement),
  };
}
