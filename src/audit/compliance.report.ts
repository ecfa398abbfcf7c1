import type { Actor, RecordedEvent } from '../kernel/event-envelope.js';
import { comparePositions } from '../kernel/position.js';
import { organisationDecider, type OrganisationState } from '../organisations/organisation.decider.js';
import type { OrganisationEvent } from '../organisations/organisation.events.js';
import { exemptionOf } from '../organisations/exemption.decisions.js';
import { userDecider, type UserState } from '../two-factor/user.decider.js';
import type { UserEvent } from '../two-factor/user.events.js';

/**
 * Evidence for Xero's yearly security self-assessment: for one organisation and a period, how long
 * each member went without 2FA while the organisation enforced it, the reminders they were sent
 * and who changed the mode when. Pure: histories in, report out; the same deciders' evolve
 * functions give the state at every instant, so the report cannot disagree with the domain.
 */
export interface CompliancePeriod {
  readonly from: Date;
  readonly to: Date;
  /** Time is counted up to min(to, now): the future has no evidence yet. */
  readonly now: Date;
}

export interface ReminderEvidence {
  readonly sentAt: string;
  readonly cadence: string;
  readonly messageId: string;
}

export interface MemberCompliance {
  readonly userId: string;
  /** Time within the period the user was a member. */
  readonly memberSeconds: number;
  /** Time within the period the user was a member of the enforcing organisation without 2FA enabled. */
  readonly withoutTwoFactorSeconds: number;
  /** Time that would count as without 2FA but the member was exempt: counted apart, not in the figure above. */
  readonly exemptSeconds: number;
  readonly twoFactorEnabledAtEnd: boolean;
  readonly reminders: readonly ReminderEvidence[];
}

export interface ModeChangeEvidence {
  readonly at: string;
  readonly from: string;
  readonly to: string;
  readonly reason: string | null;
  readonly actor: Actor;
}

/** An exemption granted or ended within the period; `reason` is the staff's text, or why it ended. */
export interface ExemptionEvidence {
  readonly at: string;
  readonly userId: string;
  readonly change: 'exempted' | 'ended';
  readonly until: string | null;
  readonly reason: string;
  readonly actor: Actor;
}

/** A scheduled escalation set, moved or cancelled, or the newcomers' grace changed (DESIGN §9). */
export interface PolicyChangeEvidence {
  readonly at: string;
  readonly change: 'escalation_scheduled' | 'escalation_cancelled' | 'grace_changed';
  /** The schedule's instant (scheduled or cancelled). */
  readonly hardFrom: string | null;
  /** The new grace length (grace_changed). */
  readonly graceDays: number | null;
  readonly reason: string | null;
  readonly actor: Actor;
}

export interface ComplianceReport {
  readonly orgId: string;
  readonly from: string;
  readonly to: string;
  /** The instant the counting stopped: `to`, or the report's time if `to` lies in the future. */
  readonly countedUntil: string;
  readonly members: readonly MemberCompliance[];
  readonly modeChanges: readonly ModeChangeEvidence[];
  readonly exemptions: readonly ExemptionEvidence[];
  readonly policyChanges: readonly PolicyChangeEvidence[];
}

export function complianceReport(
  orgId: string,
  orgHistory: readonly RecordedEvent[],
  userHistories: ReadonlyMap<string, readonly RecordedEvent[]>,
  period: CompliancePeriod,
): ComplianceReport {
  const window = { from: period.from.getTime(), end: Math.min(period.to.getTime(), period.now.getTime()) };
  const members = memberIds(orgHistory)
    .map((userId) => memberCompliance(orgId, userId, orgHistory, userHistories.get(userId) ?? [], window))
    .filter((member) => member.memberSeconds > 0 || member.reminders.length > 0);
  return {
    orgId,
    from: period.from.toISOString(),
    to: period.to.toISOString(),
    countedUntil: new Date(Math.max(window.end, window.from)).toISOString(),
    members,
    modeChanges: modeChanges(orgHistory, window),
    exemptions: exemptionChanges(orgHistory, window),
    policyChanges: policyChanges(orgHistory, window),
  };
}

interface Window {
  readonly from: number;
  readonly end: number;
}

function memberIds(orgHistory: readonly RecordedEvent[]): string[] {
  const ids = new Set<string>();
  for (const event of orgHistory) if (event.type === 'MemberJoinedOrg') ids.add(String(event.data['userId']));
  return [...ids].sort();
}

function timeOf(event: RecordedEvent): number {
  return Date.parse(event.metadata.occurredAt);
}

/** Both histories merged in time order; ties keep the store's order. */
function timeline(a: readonly RecordedEvent[], b: readonly RecordedEvent[]): RecordedEvent[] {
  return [...a, ...b].sort((x, y) => timeOf(x) - timeOf(y) || comparePositions(x.position, y.position));
}

interface Snapshot {
  org: OrganisationState;
  user: UserState;
}

function isMember(snapshot: Snapshot, userId: string): boolean {
  return snapshot.org.status === 'registered' && snapshot.org.members.has(userId);
}

/** An exemption counts until its `until`, even if the scheduler records the expiry a little later (as the decision does). */
function exemptUntil(snapshot: Snapshot, userId: string): number | null {
  const until = exemptionOf(snapshot.org, userId)?.until;
  return until === undefined ? null : Date.parse(until);
}

/** A forgotten user can no longer sign in, so enforcement no longer applies to them. */
function isWithoutTwoFactorUnderEnforcement(snapshot: Snapshot, userId: string): boolean {
  if (!isMember(snapshot, userId) || snapshot.org.status !== 'registered' || snapshot.org.mode === 'off') return false;
  if (snapshot.user.status === 'forgotten') return false;
  return !(snapshot.user.status === 'registered' && snapshot.user.factor.kind === 'enabled');
}

function memberCompliance(
  orgId: string,
  userId: string,
  orgHistory: readonly RecordedEvent[],
  userHistory: readonly RecordedEvent[],
  window: Window,
): MemberCompliance {
  const snapshot: Snapshot = { org: organisationDecider.initialState, user: userDecider.initialState };
  let cursor = window.from;
  let memberMs = 0;
  let withoutMs = 0;
  let exemptMs = 0;
  const accountSpan = (upto: number, exempt: boolean): void => {
    if (upto <= cursor) return;
    if (isMember(snapshot, userId)) memberMs += upto - cursor;
    if (isWithoutTwoFactorUnderEnforcement(snapshot, userId)) {
      if (exempt) exemptMs += upto - cursor;
      else withoutMs += upto - cursor;
    }
    cursor = upto;
  };
  const account = (until: number): void => {
    const upto = Math.min(until, window.end);
    const exemptEnd = exemptUntil(snapshot, userId);
    if (exemptEnd !== null && exemptEnd > cursor && exemptEnd < upto) accountSpan(exemptEnd, true);
    accountSpan(upto, exemptEnd !== null && exemptEnd > cursor);
  };
  for (const event of timeline(orgHistory, userHistory)) {
    account(timeOf(event));
    if (event.stream === userHistory[0]?.stream) snapshot.user = userDecider.evolve(snapshot.user, event as unknown as UserEvent);
    else snapshot.org = organisationDecider.evolve(snapshot.org, event as unknown as OrganisationEvent);
  }
  account(window.end);
  return {
    userId,
    memberSeconds: memberMs / 1000,
    withoutTwoFactorSeconds: withoutMs / 1000,
    exemptSeconds: exemptMs / 1000,
    twoFactorEnabledAtEnd: snapshot.user.status === 'registered' && snapshot.user.factor.kind === 'enabled',
    reminders: reminders(orgId, userHistory, window),
  };
}

function inWindow(instant: string, window: Window): boolean {
  const at = Date.parse(instant);
  return at >= window.from && at <= window.end;
}

function reminders(orgId: string, userHistory: readonly RecordedEvent[], window: Window): ReminderEvidence[] {
  return userHistory
    .filter((event) => event.type === 'ReminderSent')
    .map((event) => event.data as { orgIds: string[]; sentAt: string; cadence: string; messageId: string })
    .filter((data) => data.orgIds.includes(orgId) && inWindow(data.sentAt, window))
    .map(({ sentAt, cadence, messageId }) => ({ sentAt, cadence, messageId }));
}

function modeChanges(orgHistory: readonly RecordedEvent[], window: Window): ModeChangeEvidence[] {
  return orgHistory
    .filter((event) => event.type === 'EnforcementModeChanged' && inWindow(event.metadata.occurredAt, window))
    .map((event) => {
      const data = event.data as { from: string; to: string; reason: string | null };
      return { at: event.metadata.occurredAt, from: data.from, to: data.to, reason: data.reason, actor: event.metadata.actor };
    });
}

function exemptionChanges(orgHistory: readonly RecordedEvent[], window: Window): ExemptionEvidence[] {
  return orgHistory
    .filter((event) => (event.type === 'MemberExempted' || event.type === 'MemberExemptionEnded') && inWindow(event.metadata.occurredAt, window))
    .map((event) => {
      const data = event.data as { userId: string; reason: string; until?: string };
      const exempted = event.type === 'MemberExempted';
      return { at: event.metadata.occurredAt, userId: data.userId, change: exempted ? 'exempted' : 'ended', until: exempted ? (data.until ?? null) : null, reason: data.reason, actor: event.metadata.actor };
    });
}

function policyChanges(orgHistory: readonly RecordedEvent[], window: Window): PolicyChangeEvidence[] {
  const evidence: PolicyChangeEvidence[] = [];
  for (const event of orgHistory) {
    if (!inWindow(event.metadata.occurredAt, window)) continue;
    const base = { at: event.metadata.occurredAt, actor: event.metadata.actor };
    const data = event.data as { hardFrom?: string; reason?: string; to?: number };
    if (event.type === 'EscalationScheduled' || event.type === 'EscalationCancelled') {
      const change = event.type === 'EscalationScheduled' ? 'escalation_scheduled' : 'escalation_cancelled';
      evidence.push({ ...base, change, hardFrom: data.hardFrom ?? null, graceDays: null, reason: data.reason ?? null });
    } else if (event.type === 'GracePeriodChanged') {
      evidence.push({ ...base, change: 'grace_changed', hardFrom: null, graceDays: data.to ?? null, reason: null });
    }
  }
  return evidence;
}
