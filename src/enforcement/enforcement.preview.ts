import { decideEnforcement, type Mode } from './enforcement.decision.js';

/**
 * The dry run's arithmetic: what each member would be told under a proposed mode, by the very
 * decision function the hot path uses, in the context of this one organisation.
 */
export type PreviewOutcome = 'prompt' | 'redirect' | 'exempt' | 'compliant' | 'unaffected';

export interface PreviewMember {
  readonly userId: string;
  readonly twoFactorEnabled: boolean;
  readonly exemptUntil: string | null;
  /** When the member's grace counts from; a newcomer to a hard organisation is prompted, not redirected, until it ends. */
  readonly graceFrom: string | null;
}

export interface PreviewCounts {
  readonly members: number;
  readonly prompted: number;
  readonly redirected: number;
  readonly exempt: number;
  readonly compliant: number;
}

export interface ProposedPolicy {
  readonly orgId: string;
  readonly mode: Mode;
  readonly xeroConnected: boolean;
  readonly graceDays: number;
}

/** Compliant: 2FA enabled. Exempt: would be prompted or redirected but for an exemption in force at `at`. */
export function previewOutcome(policy: ProposedPolicy, member: PreviewMember, at: Date): PreviewOutcome {
  if (member.twoFactorEnabled) return 'compliant';
  const decision = decideEnforcement([{ ...policy, graceFrom: member.graceFrom, exemptUntil: member.exemptUntil }], false, '', at);
  if (decision.action === 'prompt') return 'prompt';
  if (decision.action === 'redirect') return 'redirect';
  return decision.exemptUntil === null ? 'unaffected' : 'exempt';
}

export function emptyCounts(): PreviewCounts {
  return { members: 0, prompted: 0, redirected: 0, exempt: 0, compliant: 0 };
}

export function countOutcome(counts: PreviewCounts, outcome: PreviewOutcome): PreviewCounts {
  const members = counts.members + 1;
  switch (outcome) {
    case 'prompt':
      return { ...counts, members, prompted: counts.prompted + 1 };
    case 'redirect':
      return { ...counts, members, redirected: counts.redirected + 1 };
    case 'exempt':
      return { ...counts, members, exempt: counts.exempt + 1 };
    case 'compliant':
      return { ...counts, members, compliant: counts.compliant + 1 };
    default:
      return { ...counts, members };
  }
}
