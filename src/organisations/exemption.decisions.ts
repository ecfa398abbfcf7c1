import { DomainError } from '../kernel/domain-error.js';
import type { Actor } from '../kernel/event-envelope.js';
import { isValidId } from '../kernel/ids.js';
import { PersistentMap } from '../kernel/persistent-map.js';
import type { EndExemption, ExemptMember, ExpireExemption } from './organisation.commands.js';
import type { OrganisationState, RegisteredOrganisation } from './organisation.decider.js';
import type { MemberExemptionEnded, OrganisationEvent } from './organisation.events.js';

/**
 * Exemptions: one member of one organisation is not held to its enforcement until an instant.
 * Kept apart from the rest of the organisation decider; it dispatches here.
 */
export interface Exemption {
  readonly reason: string;
  readonly until: string;
  readonly version: number;
}

export const MAX_EXEMPTION_DAYS = 90;
const MAX_EXEMPTION_MS = MAX_EXEMPTION_DAYS * 86_400_000;
const MAX_EXEMPTION_REASON = 500;
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
/** Only the service itself (the expiry job) carries this role: token roles are limited to staff roles. */
const SYSTEM_ROLE = 'system';

type Decision = readonly OrganisationEvent[] | DomainError;

export function exemptionOf(state: OrganisationState, userId: string): Exemption | null {
  return state.status === 'registered' ? (state.exemptions?.get(userId) ?? null) : null;
}

// Support, or an admin of this organisation by its own history; the platform is not named by DESIGN §9.
function requireSupportOrAdmin(actor: Actor, state: OrganisationState): DomainError | null {
  if (actor.roles.includes('support')) return null;
  if (state.status === 'registered' && state.members.get(actor.id) === 'admin') return null;
  return new DomainError('forbidden', 'not_support_or_organisation_admin', 'Only support staff or an admin of this organisation may exempt its members');
}

function memberOf(command: { readonly userId: string }, state: RegisteredOrganisation): DomainError | null {
  if (typeof command.userId !== 'string' || !isValidId(command.userId)) {
    return new DomainError('invalid', 'invalid_user_id', 'User id must be 1-128 letters, digits or _.:- starting with a letter or digit');
  }
  if (state.members.has(command.userId)) return null;
  return new DomainError('not_found', 'membership_not_found', 'This user is not a member of the organisation');
}

function validReason(reason: unknown, required: boolean): string | null | DomainError {
  const trimmed = typeof reason === 'string' ? reason.trim() : reason === null || reason === undefined ? '' : null;
  if (trimmed === null || trimmed.length > MAX_EXEMPTION_REASON || CONTROL_CHARACTERS.test(trimmed) || (required && trimmed.length === 0)) {
    return new DomainError('invalid', 'invalid_reason', `Reason must be ${required ? '1' : '0'}-${MAX_EXEMPTION_REASON} printable characters`);
  }
  return trimmed.length === 0 ? null : trimmed;
}

function instantOf(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : at;
}

/** Never open-ended: `until` lies after `now` and at most 90 days ahead of it. */
function validUntil(until: unknown, now: string): string | DomainError {
  const at = instantOf(until);
  const from = instantOf(now);
  if (at === null || from === null) return new DomainError('invalid', 'invalid_until', '`until` must be an ISO 8601 instant');
  if (at <= from) return new DomainError('invalid', 'until_not_in_future', '`until` must lie in the future');
  if (at - from > MAX_EXEMPTION_MS) return new DomainError('invalid', 'until_too_far', `An exemption may last at most ${MAX_EXEMPTION_DAYS} days`);
  return new Date(at).toISOString();
}

export function exemptMember(command: ExemptMember, state: OrganisationState): Decision {
  const denied = requireSupportOrAdmin(command.actor, state);
  if (denied) return denied;
  if (state.status === 'unregistered') return new DomainError('not_found', 'organisation_not_found', 'No such organisation');
  const notMember = memberOf(command, state);
  if (notMember) return notMember;
  // An admin could otherwise lift enforcement from themself, even where Xero requires it.
  if (command.userId === command.actor.id && !command.actor.roles.includes('support')) {
    return new DomainError('forbidden', 'self_exemption', 'An admin may not exempt themself; ask support or another admin');
  }
  const reason = validReason(command.reason, true);
  if (reason instanceof DomainError) return reason;
  const until = validUntil(command.until, command.now);
  if (until instanceof DomainError) return until;
  const current = exemptionOf(state, command.userId);
  if (current && current.until === until && current.reason === reason) return [];
  // Re-exempting replaces the exemption: a new version, so the old expiry job no longer applies.
  const version = (state.exemptionVersion ?? 0) + 1;
  return [{ type: 'MemberExempted', data: { userId: command.userId, reason: reason!, until, version } }];
}

export function endExemption(command: EndExemption, state: OrganisationState): Decision {
  const denied = requireSupportOrAdmin(command.actor, state);
  if (denied) return denied;
  if (state.status === 'unregistered') return new DomainError('not_found', 'organisation_not_found', 'No such organisation');
  const notMember = memberOf(command, state);
  if (notMember) return notMember;
  const note = validReason(command.reason, false);
  if (note instanceof DomainError) return note;
  const current = exemptionOf(state, command.userId);
  if (!current) return [];
  return [{ type: 'MemberExemptionEnded', data: { userId: command.userId, version: current.version, reason: 'revoked', note } }];
}

/**
 * The expiry job's command. A job for an exemption that was replaced, ended or never existed decides
 * nothing (the job is done); one that fires before `until` (clock skew) is refused so it runs again.
 */
export function expireExemption(command: ExpireExemption, state: OrganisationState): Decision {
  if (!command.actor.roles.includes(SYSTEM_ROLE)) {
    return new DomainError('forbidden', 'scheduler_only', 'Exemptions expire by the scheduler only');
  }
  const current = exemptionOf(state, command.userId);
  if (!current || current.version !== command.version) return [];
  const now = instantOf(command.now);
  if (now === null || now < Date.parse(current.until)) {
    return new DomainError('conflict', 'exemption_not_due', 'This exemption has not reached its end yet');
  }
  return [{ type: 'MemberExemptionEnded', data: { userId: command.userId, version: current.version, reason: 'expired', note: null } }];
}

/** A member who leaves loses their exemption: ended explicitly, just before the departure. */
export function withExemptionsOfLeaversEnded(state: RegisteredOrganisation, events: readonly OrganisationEvent[]): OrganisationEvent[] {
  return events.flatMap((event): OrganisationEvent[] => {
    if (event.type !== 'MemberLeftOrg') return [event];
    const current = exemptionOf(state, event.data.userId);
    if (!current) return [event];
    const ended: MemberExemptionEnded = { type: 'MemberExemptionEnded', data: { userId: event.data.userId, version: current.version, reason: 'left', note: null } };
    return [ended, event];
  });
}

/** Evolution of the exemption part of the state; every other event leaves it alone. */
export function evolveExemptions(state: RegisteredOrganisation, event: OrganisationEvent): RegisteredOrganisation {
  switch (event.type) {
    case 'MemberExempted': {
      const exemptions = (state.exemptions ?? PersistentMap.empty()).with(event.data.userId, { reason: event.data.reason, until: event.data.until, version: event.data.version });
      return { ...state, exemptions, exemptionVersion: Math.max(state.exemptionVersion ?? 0, event.data.version) };
    }
    case 'MemberExemptionEnded':
    case 'MemberLeftOrg':
    case 'MemberJoinedOrg': {
      // Leaving (even in a history without the explicit end) or joining afresh carries no exemption over.
      if (!state.exemptions?.has(event.data.userId)) return state;
      return { ...state, exemptions: state.exemptions.without(event.data.userId) };
    }
    default:
      return state;
  }
}
