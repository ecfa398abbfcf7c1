import { graceUntil } from '../organisations/enforcement-schedule.rules.js';
import { decideEnforcement, type EnforcementDecision, type StoredMembership } from './enforcement.decision.js';
import type { EnforcementDoc } from './enforcement.projection.js';

/**
 * What the change feed sends a host for one user: every answer GET /v1/enforcement/:userId would
 * give now (without `orgId` and for each of the user's organisations), computed by the same
 * decision function, and the instant until which time alone cannot change any of them. A host
 * cache that answers from it is therefore identical to the HTTP decision until `validUntil`
 * (a schedule falling due, a newcomer's grace ending, an exemption running out), after which it
 * asks the service again. Sending answers rather than the stored policy keeps the rules in one place.
 */
export interface HostDecisionDocument {
  readonly userId: string;
  /** The position of the change this document reflects. */
  readonly position: string;
  /** False when the service would answer 404 `user_not_found` (never registered, or forgotten). */
  readonly found: boolean;
  /** The answer without `orgId`; null when not found. */
  readonly decision: EnforcementDecision | null;
  /** The answer with `orgId` for each of the user's organisations; any other `orgId` is 404 `membership_not_found`. */
  readonly orgs: readonly { readonly orgId: string; readonly decision: EnforcementDecision }[];
  /** The earliest instant at which time alone changes one of these answers; null when none will. */
  readonly validUntil: string | null;
}

export function hostDocument(userId: string, doc: EnforcementDoc | null, position: string, enforcementPageUrl: string, now: Date): HostDecisionDocument {
  if (!doc || doc.forgotten) return { userId, position, found: false, decision: null, orgs: [], validUntil: null };
  const memberships: StoredMembership[] = Object.values(doc.orgs);
  return {
    userId,
    position,
    found: true,
    decision: decideEnforcement(memberships, doc.twoFactorEnabled, enforcementPageUrl, now),
    orgs: memberships
      .map((m) => ({ orgId: m.orgId, decision: decideEnforcement([m], doc.twoFactorEnabled, enforcementPageUrl, now) }))
      .sort((a, b) => (a.orgId < b.orgId ? -1 : 1)),
    validUntil: nextTimedChange(memberships, now),
  };
}

/** The instants at which effectivePolicy or isExempt give another answer for a membership. */
function nextTimedChange(memberships: readonly StoredMembership[], now: Date): string | null {
  const instants = memberships.flatMap((m) => [
    m.mode === 'soft' ? (m.hardFrom ?? null) : null,
    m.mode === 'hard' ? graceUntil(m.graceFrom, m.graceDays ?? 0) : null,
    m.exemptUntil ?? null,
  ]);
  const future = instants.filter((at): at is string => at !== null && Date.parse(at) > now.getTime()).sort((a, b) => Date.parse(a) - Date.parse(b));
  return future[0] ?? null;
}
