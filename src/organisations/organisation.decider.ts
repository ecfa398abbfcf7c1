import type { Decider } from '../kernel/decider.js';
import { DomainError } from '../kernel/domain-error.js';
import type { Actor } from '../kernel/event-envelope.js';
import { isValidId } from '../kernel/ids.js';
import { PersistentMap } from '../kernel/persistent-map.js';
import type {
  ChangeEnforcementMode,
  ConnectToXero,
  DisconnectFromXero,
  FireScheduledEscalation,
  OrganisationCommand,
  RegisterOrganisation,
  DesiredMember,
  RemoveMember,
  SetMember,
  SyncMembers,
} from './organisation.commands.js';
import {
  isEnforcementMode,
  isMemberRole,
  type EnforcementMode,
  type MemberRole,
  type OrganisationEvent,
} from './organisation.events.js';
import { endExemption, evolveExemptions, exemptMember, expireExemption, withExemptionsOfLeaversEnded, type Exemption } from './exemption.decisions.js';
import {
  escalationEvents,
  graceFromOnJoin,
  scheduleEvents,
  validateGraceDays,
  validateHardFrom,
  type Escalation,
  type Tenure,
} from './enforcement-schedule.rules.js';

/** The host platform's service account: the only caller trusted by token claim alone. */
export const PLATFORM_ROLE = 'platform';

/** Recorded as the reason when a Xero connection forces an organisation out of 'off'. */
export const XERO_ENFORCEMENT_REASON = 'Connected to Xero: Xero requires two-factor authentication for every user';

/** The most members one SyncMembers may list: one decision, one append, bounded work. */
export const MAX_SYNCED_MEMBERS = 1000;

const MAX_NAME_LENGTH = 200;
const MAX_REASON_LENGTH = 500;
// Names and reasons end up in audit exports and e-mails; control characters would corrupt them.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

export interface UnregisteredOrganisation {
  readonly status: 'unregistered';
}

export interface RegisteredOrganisation {
  readonly status: 'registered';
  readonly orgId: string;
  readonly name: string;
  readonly mode: EnforcementMode;
  readonly xero: { readonly tenantId: string } | null;
  /**
   * Not a Record: user ids such as "constructor" must not collide with Object.prototype. Persistent:
   * each event changes one member of what may be tens of thousands, and states are cached.
   */
  readonly members: PersistentMap<MemberRole>;
  /** Exempt members by user id; absent until the first exemption (exemption.decisions.ts). */
  readonly exemptions?: PersistentMap<Exemption>;
  /** The last exemption version issued; versions are never reused. */
  readonly exemptionVersion?: number;
  /** The pending scheduled escalation of a soft organisation. */
  readonly escalation: Escalation | null;
  /** Days a newcomer to a hard organisation is treated as soft. */
  readonly graceDays: number;
  /** Members' grace start and last departure, kept after they leave so a re-join cannot renew grace. */
  readonly tenure: PersistentMap<Tenure>;
}

export type OrganisationState = UnregisteredOrganisation | RegisteredOrganisation;

type Decision = readonly OrganisationEvent[] | DomainError;

export function organisationStream(orgId: string): string {
  return `organisation-${orgId}`;
}

export function roleOf(state: OrganisationState, userId: string): MemberRole | null {
  return state.status === 'registered' ? (state.members.get(userId) ?? null) : null;
}

export function isAdmin(state: OrganisationState, userId: string): boolean {
  return roleOf(state, userId) === 'admin';
}

export function adminIds(state: OrganisationState): string[] {
  if (state.status === 'unregistered') return [];
  return [...state.members].filter(([, role]) => role === 'admin').map(([userId]) => userId);
}

function isPlatform(actor: Actor): boolean {
  return actor.roles.includes(PLATFORM_ROLE);
}

/** Whether this caller may add users to organisations: a claim check, so it needs no history. */
export function mayAddMembers(actor: Actor): boolean {
  return isPlatform(actor);
}

// ---------------------------------------------------------------------------------------------
// Guards. Authorisation runs before the existence check so that a caller who may not act on
// organisations learns nothing about which ones exist.

function requirePlatform(actor: Actor): DomainError | null {
  if (isPlatform(actor)) return null;
  return new DomainError('forbidden', 'platform_only', 'Only the host platform may do this');
}

// Admin rights come from this organisation's own history, never from a token claim, so they are
// as consistent as the decision itself (the append is conditional on the revision read).
function requireAdminOrPlatform(actor: Actor, state: OrganisationState): DomainError | null {
  if (isPlatform(actor) || isAdmin(state, actor.id)) return null;
  return new DomainError('forbidden', 'not_organisation_admin', 'Only an admin of this organisation may do this');
}

function notFound(): DomainError {
  return new DomainError('not_found', 'organisation_not_found', 'No such organisation');
}

function validateId(value: unknown, code: string, what: string): DomainError | null {
  if (typeof value === 'string' && isValidId(value)) return null;
  return new DomainError('invalid', code, `${what} must be 1-128 letters, digits or _.:- starting with a letter or digit`);
}

function validateName(name: unknown): DomainError | null {
  const trimmed = typeof name === 'string' ? name.trim() : '';
  if (trimmed.length > 0 && trimmed.length <= MAX_NAME_LENGTH && !CONTROL_CHARACTERS.test(trimmed)) return null;
  return new DomainError('invalid', 'invalid_name', `Name must be 1-${MAX_NAME_LENGTH} printable characters`);
}

/** An absent or blank reason is recorded as null; otherwise trimmed. */
function normaliseReason(reason: unknown): string | null | DomainError {
  if (reason === undefined || reason === null) return null;
  const trimmed = typeof reason === 'string' ? reason.trim() : null;
  if (trimmed === null || trimmed.length > MAX_REASON_LENGTH || CONTROL_CHARACTERS.test(trimmed)) {
    return new DomainError('invalid', 'invalid_reason', `Reason must be at most ${MAX_REASON_LENGTH} printable characters`);
  }
  return trimmed.length === 0 ? null : trimmed;
}

function firstError(...checks: ReadonlyArray<() => DomainError | null>): DomainError | null {
  for (const check of checks) {
    const error = check();
    if (error) return error;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Decisions

function register(command: RegisterOrganisation, state: OrganisationState): Decision {
  const error = firstError(
    () => requirePlatform(command.actor),
    () => validateId(command.orgId, 'invalid_organisation_id', 'Organisation id'),
    () => validateName(command.name),
  );
  if (error) return error;
  if (state.status === 'registered') {
    return new DomainError('conflict', 'organisation_already_registered', 'This organisation is already registered');
  }
  return [{ type: 'OrganisationRegistered', data: { orgId: command.orgId, name: command.name.trim() } }];
}

function connectToXero(command: ConnectToXero, state: OrganisationState): Decision {
  const denied = requirePlatform(command.actor);
  if (denied) return denied;
  if (state.status === 'unregistered') return notFound();
  const invalid = validateId(command.tenantId, 'invalid_tenant_id', 'Xero tenant id');
  if (invalid) return invalid;
  if (state.xero?.tenantId === command.tenantId) return [];
  if (state.xero) {
    return new DomainError(
      'conflict',
      'xero_connected_to_other_tenant',
      'This organisation is connected to another Xero tenant; disconnect it first',
    );
  }
  const connected: OrganisationEvent = { type: 'OrgConnectedToXero', data: { tenantId: command.tenantId } };
  // Xero requires 2FA for every user of a connected organisation, so 'off' cannot survive the connection.
  if (state.mode !== 'off') return [connected];
  return [connected, { type: 'EnforcementModeChanged', data: { from: 'off', to: 'soft', reason: XERO_ENFORCEMENT_REASON } }];
}

function disconnectFromXero(command: DisconnectFromXero, state: OrganisationState): Decision {
  const denied = requirePlatform(command.actor);
  if (denied) return denied;
  if (state.status === 'unregistered') return notFound();
  // The mode stays: turning enforcement off is the admin's explicit, audited choice.
  if (!state.xero) return [];
  return [{ type: 'OrgDisconnectedFromXero', data: { tenantId: state.xero.tenantId } }];
}

function changeEnforcementMode(command: ChangeEnforcementMode, state: OrganisationState): Decision {
  const denied = requireAdminOrPlatform(command.actor, state);
  if (denied) return denied;
  if (state.status === 'unregistered') return notFound();
  if (!isEnforcementMode(command.mode)) {
    return new DomainError('invalid', 'invalid_mode', "Mode must be 'off', 'soft' or 'hard'");
  }
  const reason = normaliseReason(command.reason);
  if (reason instanceof DomainError) return reason;
  const invalid = firstError(() => validateGraceDays(command.graceDays), () => validateHardFrom(command));
  if (invalid) return invalid;
  const schedule = scheduleEvents(command, state);
  if (command.mode === state.mode) return schedule;
  if (command.mode === 'off' && state.xero) {
    return new DomainError(
      'conflict',
      'xero_requires_enforcement',
      'Two-factor enforcement cannot be turned off while the organisation is connected to Xero',
    );
  }
  return [{ type: 'EnforcementModeChanged', data: { from: state.mode, to: command.mode, reason } }, ...schedule];
}

/** Only the service's own scheduler fires schedules; no token grants the 'system' role. */
function fireScheduledEscalation(command: FireScheduledEscalation, state: OrganisationState): Decision {
  if (!command.actor.roles.includes('system')) {
    return new DomainError('forbidden', 'scheduler_only', 'Only the scheduler carries out a scheduled escalation');
  }
  if (state.status === 'unregistered') return notFound();
  return escalationEvents(command.scheduleId, command.at, state);
}

/** A join records its instant and when the member's grace counts from (see graceFromOnJoin). */
function joinEvent(state: RegisteredOrganisation, userId: string, role: MemberRole, at: string | undefined): OrganisationEvent {
  if (at === undefined) return { type: 'MemberJoinedOrg', data: { userId, role } };
  return { type: 'MemberJoinedOrg', data: { userId, role, joinedAt: at, graceFrom: graceFromOnJoin(state.tenure.get(userId), at, state.graceDays) } };
}

function leaveEvent(userId: string, at: string | undefined): OrganisationEvent {
  return { type: 'MemberLeftOrg', data: at === undefined ? { userId } : { userId, leftAt: at } };
}

function wouldLoseLastAdmin(state: RegisteredOrganisation, userId: string, newRole: MemberRole | null): boolean {
  if (state.members.get(userId) !== 'admin' || newRole === 'admin') return false;
  return adminIds(state).length === 1;
}

function lastAdmin(): DomainError {
  return new DomainError(
    'conflict',
    'last_admin',
    'An organisation must keep at least one admin; appoint another admin first',
  );
}

function invalidRole(): DomainError {
  return new DomainError('invalid', 'invalid_role', "Role must be 'admin' or 'member'");
}

/**
 * Only the platform knows who accepted an invitation, so only it adds users. An admin naming a
 * non-member gets the same answer whoever the user is, decided from this organisation's history
 * alone, so it cannot probe which users exist elsewhere on the platform.
 */
function addedByPlatformOnly(): DomainError {
  return new DomainError('forbidden', 'members_added_by_platform', 'Only the host platform adds users to an organisation; an admin may change the role of an existing member');
}

function setMember(command: SetMember, state: OrganisationState): Decision {
  const denied = requireAdminOrPlatform(command.actor, state);
  if (denied) return denied;
  if (state.status === 'unregistered') return notFound();
  const invalid = validateId(command.userId, 'invalid_user_id', 'User id');
  if (invalid) return invalid;
  if (!isMemberRole(command.role)) return invalidRole();
  const current = state.members.get(command.userId);
  if (current === undefined) {
    if (!isPlatform(command.actor)) return addedByPlatformOnly();
    return [joinEvent(state, command.userId, command.role, command.at)];
  }
  if (current === command.role) return [];
  if (wouldLoseLastAdmin(state, command.userId, command.role)) return lastAdmin();
  return [{ type: 'MemberRoleChanged', data: { userId: command.userId, from: current, to: command.role } }];
}

function removeMember(command: RemoveMember, state: OrganisationState): Decision {
  const denied = requireAdminOrPlatform(command.actor, state);
  if (denied) return denied;
  if (state.status === 'unregistered') return notFound();
  const invalid = validateId(command.userId, 'invalid_user_id', 'User id');
  if (invalid) return invalid;
  if (!state.members.has(command.userId)) {
    return new DomainError('not_found', 'membership_not_found', 'This user is not a member of the organisation');
  }
  if (wouldLoseLastAdmin(state, command.userId, null)) return lastAdmin();
  return withExemptionsOfLeaversEnded(state, [leaveEvent(command.userId, command.at)]);
}

function validateDesiredMembers(members: readonly DesiredMember[]): DomainError | null {
  if (!Array.isArray(members) || members.length > MAX_SYNCED_MEMBERS) {
    return new DomainError('invalid', 'too_many_members', `At most ${MAX_SYNCED_MEMBERS} members may be listed at once`);
  }
  const seen = new Set<string>();
  for (const member of members) {
    const invalid = validateId(member.userId, 'invalid_user_id', 'User id');
    if (invalid) return invalid;
    if (!isMemberRole(member.role)) return invalidRole();
    if (seen.has(member.userId)) return new DomainError('invalid', 'duplicate_user_id', 'Each user may be listed once');
    seen.add(member.userId);
  }
  return null;
}

function unavailableUsers(command: SyncMembers): DomainError | null {
  if (command.unregisteredUserIds.length === 0 && command.forgottenUserIds.length === 0) return null;
  return new DomainError('unprocessable', 'unknown_users', 'Every listed user must be registered and not forgotten', {
    unknownUserIds: [...command.unregisteredUserIds],
    forgottenUserIds: [...command.forgottenUserIds],
  });
}

/** Only the differences; gains before losses, so no revision in between shows the organisation without its admins. */
function membershipDifferences(state: RegisteredOrganisation, members: readonly DesiredMember[], removeOthers: boolean, at: string | undefined): OrganisationEvent[] {
  const joins: OrganisationEvent[] = [];
  const promotions: OrganisationEvent[] = [];
  const demotions: OrganisationEvent[] = [];
  for (const { userId, role } of members) {
    const current = state.members.get(userId);
    if (current === undefined) joins.push(joinEvent(state, userId, role, at));
    else if (current !== role) (role === 'admin' ? promotions : demotions).push({ type: 'MemberRoleChanged', data: { userId, from: current, to: role } });
  }
  const listed = new Set(members.map((member) => member.userId));
  const leaves: OrganisationEvent[] = removeOthers
    ? [...state.members.keys()].filter((userId) => !listed.has(userId)).map((userId) => leaveEvent(userId, at))
    : [];
  return [...joins, ...promotions, ...demotions, ...leaves];
}

function syncMembers(command: SyncMembers, state: OrganisationState): Decision {
  const denied = requirePlatform(command.actor);
  if (denied) return denied;
  if (state.status === 'unregistered') return notFound();
  const error = firstError(
    () => validateDesiredMembers(command.members),
    () => unavailableUsers(command),
  );
  if (error) return error;
  const events = withExemptionsOfLeaversEnded(state, membershipDifferences(state, command.members, command.removeOthers === true, command.at));
  const after = events.reduce<OrganisationState>(evolve, state);
  if (adminIds(state).length > 0 && adminIds(after).length === 0) return lastAdmin();
  return events;
}

function decide(command: OrganisationCommand, state: OrganisationState): Decision {
  switch (command.type) {
    case 'RegisterOrganisation':
      return register(command, state);
    case 'ConnectToXero':
      return connectToXero(command, state);
    case 'DisconnectFromXero':
      return disconnectFromXero(command, state);
    case 'ChangeEnforcementMode':
      return changeEnforcementMode(command, state);
    case 'SetMember':
      return setMember(command, state);
    case 'RemoveMember':
      return removeMember(command, state);
    case 'SyncMembers':
      return syncMembers(command, state);
    case 'ExemptMember':
      return exemptMember(command, state);
    case 'EndExemption':
      return endExemption(command, state);
    case 'ExpireExemption':
      return expireExemption(command, state);
    case 'FireScheduledEscalation':
      return fireScheduledEscalation(command, state);
    default: {
      const unknown: never = command;
      return new DomainError('invalid', 'unknown_command', `Unknown organisation command ${String((unknown as { type?: unknown }).type)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Evolution. History is the source of truth and may hold events this version did not write;
// an event that cannot apply leaves the state as it is rather than making the history unreadable.

function withMember(state: RegisteredOrganisation, userId: string, role: MemberRole | null): RegisteredOrganisation {
  return { ...state, members: role === null ? state.members.without(userId) : state.members.with(userId, role) };
}

/** A join without a recorded instant (older history) leaves no tenure: that member never had grace. */
function withTenure(state: RegisteredOrganisation, userId: string, tenure: Tenure | null): RegisteredOrganisation {
  return { ...state, tenure: tenure === null ? state.tenure.without(userId) : state.tenure.with(userId, tenure) };
}

function withDeparture(state: RegisteredOrganisation, userId: string, leftAt: string | null): RegisteredOrganisation {
  const tenure = state.tenure.get(userId);
  if (!tenure) return state;
  return leftAt === null ? withTenure(state, userId, null) : withTenure(state, userId, { ...tenure, leftAt });
}

function evolveRegistered(state: RegisteredOrganisation, event: OrganisationEvent): OrganisationState {
  switch (event.type) {
    case 'OrganisationRegistered':
      return state;
    case 'OrgConnectedToXero':
      return { ...state, xero: { tenantId: event.data.tenantId } };
    case 'OrgDisconnectedFromXero':
      return { ...state, xero: null };
    case 'EnforcementModeChanged':
      // A schedule only ever escalates a soft organisation; leaving soft, by hand or by the schedule, ends it.
      return { ...state, mode: event.data.to, escalation: event.data.to === 'soft' ? state.escalation : null };
    case 'MemberJoinedOrg':
      return withTenure(withMember(evolveExemptions(state, event), event.data.userId, event.data.role), event.data.userId, event.data.graceFrom ? { graceFrom: event.data.graceFrom, leftAt: null } : null);
    case 'MemberRoleChanged':
      return withMember(state, event.data.userId, event.data.to);
    case 'MemberLeftOrg':
      return withDeparture(withMember(evolveExemptions(state, event), event.data.userId, null), event.data.userId, event.data.leftAt ?? null);
    case 'MemberExempted':
    case 'MemberExemptionEnded':
      return evolveExemptions(state, event);
    case 'EscalationScheduled':
      return { ...state, escalation: { scheduleId: event.data.scheduleId, hardFrom: event.data.hardFrom } };
    case 'EscalationCancelled':
      return state.escalation?.scheduleId === event.data.scheduleId ? { ...state, escalation: null } : state;
    case 'GracePeriodChanged':
      return { ...state, graceDays: event.data.to };
    default: {
      const unknown: never = event;
      void unknown;
      return state;
    }
  }
}

function evolve(state: OrganisationState, event: OrganisationEvent): OrganisationState {
  switch (state.status) {
    case 'unregistered':
      if (event.type !== 'OrganisationRegistered') return state;
      return { status: 'registered', orgId: event.data.orgId, name: event.data.name, mode: 'off', xero: null, members: PersistentMap.empty(), escalation: null, graceDays: 0, tenure: PersistentMap.empty() };
    case 'registered':
      return evolveRegistered(state, event);
    default: {
      const unknown: never = state;
      void unknown;
      return state;
    }
  }
}

export const initialOrganisationState: OrganisationState = { status: 'unregistered' };

export const organisationDecider: Decider<OrganisationCommand, OrganisationState, OrganisationEvent> = {
  initialState: initialOrganisationState,
  decide,
  evolve,
};
