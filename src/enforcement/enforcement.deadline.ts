import { graceUntil } from '../organisations/enforcement-schedule.rules.js';

/**
 * Policy over time in the decision (DESIGN §9). A membership's mode is what the organisation says,
 * adjusted by time: a newcomer to a hard organisation is soft until their grace ends, and a soft
 * organisation whose scheduled escalation is due is hard at once, even before the scheduler's event
 * arrives, so the answer never lags the published date.
 */
export interface TimedPolicy {
  readonly mode: 'off' | 'soft' | 'hard';
  /** The organisation's pending escalation instant, if soft with a schedule. */
  readonly hardFrom?: string | null;
  /** When this member's grace counts from (their join, see graceFromOnJoin). */
  readonly graceFrom?: string | null;
  readonly graceDays?: number;
}

export interface EffectivePolicy {
  readonly mode: 'off' | 'soft' | 'hard';
  /** When this membership next becomes stricter: the schedule, or the end of grace. */
  readonly deadline: string | null;
}

export function effectivePolicy(policy: TimedPolicy, now: Date): EffectivePolicy {
  if (policy.mode === 'soft' && policy.hardFrom) {
    return Date.parse(policy.hardFrom) <= now.getTime() ? { mode: 'hard', deadline: null } : { mode: 'soft', deadline: policy.hardFrom };
  }
  if (policy.mode === 'hard') {
    const until = graceUntil(policy.graceFrom, policy.graceDays ?? 0);
    if (until !== null && now.getTime() < Date.parse(until)) return { mode: 'soft', deadline: until };
  }
  return { mode: policy.mode, deadline: null };
}

/** The earliest instant at which a soft requirement hardens; none when already hard or nothing is due. */
export function earliestDeadline(policies: readonly EffectivePolicy[], requirement: 'none' | 'soft' | 'hard'): string | null {
  if (requirement !== 'soft') return null;
  const deadlines = policies.filter((p) => p.mode === 'soft' && p.deadline !== null).map((p) => p.deadline!);
  return deadlines.reduce<string | null>((earliest, d) => (earliest === null || Date.parse(d) < Date.parse(earliest) ? d : earliest), null);
}

/**
 * The first instant after `now` (epoch ms) at which a decision on these memberships may differ:
 * a pending escalation, the end of a newcomer's grace, the end of an exemption (Infinity when none).
 * Between `now` and that instant the decision depends on nothing but the stored memberships.
 */
export function nextPolicyChange(memberships: readonly (TimedPolicy & { readonly exemptUntil?: string | null })[], now: number): number {
  let next = Infinity;
  const consider = (instant: string | null | undefined): void => {
    const at = instant ? Date.parse(instant) : NaN;
    if (at > now && at < next) next = at;
  };
  for (const m of memberships) {
    consider(m.hardFrom);
    consider(graceUntil(m.graceFrom, m.graceDays ?? 0));
    consider(m.exemptUntil);
  }
  return next;
}
