import { DomainError } from '../kernel/domain-error.js';
import type { EnforcementMode, OrganisationEvent } from './organisation.events.js';

/**
 * Policy over time (DESIGN §9): a soft organisation's scheduled escalation to hard, and grace for
 * newcomers to a hard organisation. Pure rules the organisation decider calls; every instant is an
 * ISO string that arrived as a command field.
 */

export const DAY_MS = 86_400_000;
export const MAX_GRACE_DAYS = 90;
/** A schedule further out than a year is a forgotten plan, not a rollout. */
export const MAX_SCHEDULE_AHEAD_DAYS = 366;

/** The pending escalation of a soft organisation: at hardFrom it becomes hard, once. */
export interface Escalation {
  readonly scheduleId: string;
  readonly hardFrom: string;
}

/**
 * What the organisation remembers of a member's time with it, kept after they leave: when their
 * grace started counting, and when they last left (null while a member).
 */
export interface Tenure {
  readonly graceFrom: string;
  readonly leftAt: string | null;
}

/** The fields of ChangeEnforcementMode this file decides on. */
export interface ScheduleRequest {
  readonly mode: EnforcementMode;
  /** undefined leaves the schedule as it is; null cancels it. */
  readonly hardFrom?: string | null;
  readonly graceDays?: number;
  /** Names a new schedule; required with hardFrom. */
  readonly scheduleId?: string;
  /** The command's instant. */
  readonly at?: string;
}

export interface SchedulePolicy {
  readonly mode: EnforcementMode;
  readonly escalation: Escalation | null;
  readonly graceDays: number;
}

export function scheduledEscalationReason(hardFrom: string): string {
  return `Scheduled escalation: hard enforcement from ${hardFrom}`;
}

function isInstant(value: unknown): value is string {
  return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) && Number.isFinite(Date.parse(value));
}

export function validateGraceDays(graceDays: unknown): DomainError | null {
  if (graceDays === undefined) return null;
  if (Number.isInteger(graceDays) && (graceDays as number) >= 0 && (graceDays as number) <= MAX_GRACE_DAYS) return null;
  return new DomainError('invalid', 'invalid_grace_days', `graceDays must be a whole number from 0 to ${MAX_GRACE_DAYS}`);
}

/** A schedule is only ever for a soft organisation, strictly in the future of the command. */
export function validateHardFrom(request: ScheduleRequest): DomainError | null {
  const { hardFrom } = request;
  if (hardFrom === undefined || hardFrom === null) return null;
  if (request.mode !== 'soft') {
    return new DomainError('invalid', 'hard_from_requires_soft', 'hardFrom schedules a soft organisation to become hard; it needs mode soft');
  }
  if (!isInstant(hardFrom) || !isInstant(request.at) || typeof request.scheduleId !== 'string') {
    return new DomainError('invalid', 'invalid_hard_from', 'hardFrom must be an ISO 8601 instant');
  }
  const ahead = Date.parse(hardFrom) - Date.parse(request.at);
  if (ahead <= 0) return new DomainError('invalid', 'hard_from_not_in_future', 'hardFrom must be in the future');
  if (ahead > MAX_SCHEDULE_AHEAD_DAYS * DAY_MS) {
    return new DomainError('invalid', 'hard_from_too_far', `hardFrom must be at most ${MAX_SCHEDULE_AHEAD_DAYS} days ahead`);
  }
  return null;
}

/**
 * The schedule and grace events that follow a mode change (or none). Leaving soft by hand ends a
 * schedule: it has nothing left to escalate, and a later return to soft must not revive it.
 */
export function scheduleEvents(request: ScheduleRequest, policy: SchedulePolicy): OrganisationEvent[] {
  const events: OrganisationEvent[] = [];
  const current = policy.escalation;
  const hardFrom = request.hardFrom === undefined ? (request.mode === 'soft' ? current?.hardFrom ?? null : null) : request.hardFrom;
  if (current && (hardFrom === null || Date.parse(hardFrom) !== Date.parse(current.hardFrom))) {
    const reason = request.mode === 'soft' ? (hardFrom === null ? 'Cancelled' : 'Moved to another instant') : `Mode changed to ${request.mode}`;
    events.push({ type: 'EscalationCancelled', data: { scheduleId: current.scheduleId, hardFrom: current.hardFrom, reason } });
  }
  const unchanged = current !== null && hardFrom !== null && Date.parse(hardFrom) === Date.parse(current.hardFrom);
  if (hardFrom !== null && !unchanged) {
    const normalised = new Date(hardFrom).toISOString();
    events.push({ type: 'EscalationScheduled', data: { scheduleId: request.scheduleId!, hardFrom: normalised, reason: scheduledEscalationReason(normalised) } });
  }
  if (request.graceDays !== undefined && request.graceDays !== policy.graceDays) {
    events.push({ type: 'GracePeriodChanged', data: { from: policy.graceDays, to: request.graceDays } });
  }
  return events;
}

/**
 * The scheduler's firing. It is answered from the organisation's history alone, so a job for a
 * cancelled or moved schedule (another id), an early job, or a second process firing the same
 * schedule after the first one won, all decide nothing.
 */
export function escalationEvents(scheduleId: string, at: string, policy: SchedulePolicy): OrganisationEvent[] {
  const escalation = policy.escalation;
  if (!escalation || escalation.scheduleId !== scheduleId || policy.mode !== 'soft') return [];
  if (!isInstant(at) || Date.parse(at) < Date.parse(escalation.hardFrom)) return [];
  return [{ type: 'EnforcementModeChanged', data: { from: 'soft', to: 'hard', reason: scheduledEscalationReason(escalation.hardFrom), scheduleId } }];
}

/**
 * When a joining member's grace starts counting. A security team expects grace to be a one-off
 * allowance, not something a leave-and-rejoin renews: it counts from the first join in this
 * organisation's history, unless the member stayed away longer than the grace itself, in which
 * case they are a newcomer again.
 */
export function graceFromOnJoin(previous: Tenure | undefined, at: string, graceDays: number): string {
  if (!previous || previous.leftAt === null) return at;
  const away = Date.parse(at) - Date.parse(previous.leftAt);
  return away > graceDays * DAY_MS ? at : previous.graceFrom;
}

/** The instant a member's grace ends, or null without grace. */
export function graceUntil(graceFrom: string | null | undefined, graceDays: number): string | null {
  if (!graceFrom || graceDays <= 0 || !Number.isFinite(Date.parse(graceFrom))) return null;
  return new Date(Date.parse(graceFrom) + graceDays * DAY_MS).toISOString();
}
