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
  /** Set while the user is exempt from this organisation's enforcement (until that instant). */
  readonly exemptUntil?: string | null;
}

export interface EnforcementDecision {
  readonly requirement: Requirement;
  readonly action: Action;
  readonly redirectTo?: string;
  readonly twoFactorEnabled: boolean;
  readonly enforcedBy: readonly MembershipPolicy[];
  /** When an exemption relaxed this answer: the earliest end of those exemptions; else null. */
  readonly exemptUntil: string | null;
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
  const timed = stored.map((m) => ({ orgId: m.orgId, xeroConnected: m.xeroConnected, ...effectivePolicy(m, now), ...(m.exemptUntil ? { exemptUntil: m.exemptUntil } : {}) }));
  const enforcedBy = timed
    .filter((m) => m.mode !== 'off')
    .map((m) => publicPolicy(m, now))
    .sort((a, b) => STRICTNESS[b.mode] - STRICTNESS[a.mode] || (a.orgId < b.orgId ? -1 : 1));
  // An exempt organisation drops out of the strictest-wins computation; the others still apply.
  const mode = strictestMode(enforcedBy.filter((m) => m.exemptUntil === undefined));
  const requirement: Requirement = mode === 'off' ? 'none' : mode;
  const action: Action = twoFactorEnabled || requirement === 'none' ? 'allow' : requirement === 'soft' ? 'prompt' : 'redirect';
  return {
    requirement,
    action,
    ...(action === 'redirect' ? { redirectTo: enforcementPageUrl } : {}),
    twoFactorEnabled,
    enforcedBy,
    deadline: earliestDeadline(timed.filter((m) => !isExempt(m, now)), requirement),
    exemptUntil: relaxedUntil(enforcedBy, mode),
  };
}

/**
 * Expiry is an event written by the scheduler; until it is recorded, an exemption whose `until`
 * has passed no longer counts (a late scheduler never extends an exemption).
 */
export function isExempt(membership: MembershipPolicy, now?: Date): boolean {
  if (membership.exemptUntil === undefined || membership.exemptUntil === null) return false;
  return now === undefined || Date.parse(membership.exemptUntil) > now.getTime();
}

/** Only the policy's public fields, with `exemptUntil` where the user is exempt. */
function publicPolicy(m: MembershipPolicy, now: Date | undefined): MembershipPolicy {
  const policy = { orgId: m.orgId, mode: m.mode, xeroConnected: m.xeroConnected };
  return isExempt(m, now) ? { ...policy, exemptUntil: m.exemptUntil! } : policy;
}

function relaxedUntil(enforcedBy: readonly MembershipPolicy[], applied: Mode): string | null {
  const relaxing = enforcedBy.filter((m) => m.exemptUntil !== undefined && STRICTNESS[m.mode] > STRICTNESS[applied]).map((m) => m.exemptUntil!);
  return relaxing.length === 0 ? null : relaxing.sort()[0]!;
}
