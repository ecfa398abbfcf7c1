import type { Actor } from '../kernel/event-envelope.js';
import type { EnforcementMode, MemberRole } from './organisation.events.js';

/** The caller; the decider authorises against it and the organisation's own history. */
interface ActorCommand {
  readonly actor: Actor;
}

export interface RegisterOrganisation extends ActorCommand {
  readonly type: 'RegisterOrganisation';
  readonly orgId: string;
  readonly name: string;
}

export interface ConnectToXero extends ActorCommand {
  readonly type: 'ConnectToXero';
  readonly tenantId: string;
}

export interface DisconnectFromXero extends ActorCommand {
  readonly type: 'DisconnectFromXero';
}

export interface ChangeEnforcementMode extends ActorCommand {
  readonly type: 'ChangeEnforcementMode';
  readonly mode: EnforcementMode;
  readonly reason?: string | null;
  /** A future instant at which a soft organisation becomes hard; null cancels; undefined keeps it. */
  readonly hardFrom?: string | null;
  /** Days a newcomer to a hard organisation is treated as soft (0-90); undefined keeps it. */
  readonly graceDays?: number;
  /** Names the schedule hardFrom creates (the scheduler's job carries it). */
  readonly scheduleId?: string;
  /** The command's instant, ISO 8601. */
  readonly at?: string;
}

/** The scheduler carrying out a schedule; decides nothing unless that schedule is still the pending one and due. */
export interface FireScheduledEscalation extends ActorCommand {
  readonly type: 'FireScheduledEscalation';
  readonly scheduleId: string;
  readonly at: string;
}

/** Joins the user with the role, or changes the role of an existing member. */
export interface SetMember extends ActorCommand {
  readonly type: 'SetMember';
  readonly userId: string;
  readonly role: MemberRole;
  /** The command's instant: recorded on a join, it starts the newcomer's grace. */
  readonly at?: string;
}

export interface RemoveMember extends ActorCommand {
  readonly type: 'RemoveMember';
  readonly userId: string;
  /** The command's instant: a re-join within the grace continues the grace from it. */
  readonly at?: string;
}

export interface DesiredMember {
  readonly userId: string;
  readonly role: MemberRole;
}

/**
 * Brings the membership to the listed one in one decision: joins, role changes and (with
 * removeOthers) departures, only where the list differs from the history.
 */
export interface SyncMembers extends ActorCommand {
  readonly type: 'SyncMembers';
  readonly members: readonly DesiredMember[];
  readonly removeOthers: boolean;
  /** Listed users that are not registered, as the handler found them (looked up for the platform only). */
  readonly unregisteredUserIds: readonly string[];
  /** Listed users that have been forgotten, likewise. */
  readonly forgottenUserIds: readonly string[];
  /** The command's instant, recorded on joins and departures (grace for newcomers). */
  readonly at?: string;
}

/** Staff (support, or an admin of the organisation) exempt one member until an instant. */
export interface ExemptMember extends ActorCommand {
  readonly type: 'ExemptMember';
  readonly userId: string;
  readonly reason: string;
  readonly until: string;
  /** The decision's time (ISO instant): `until` must lie after it and at most 90 days ahead. */
  readonly now: string;
}

/** Staff end an exemption before its `until`. */
export interface EndExemption extends ActorCommand {
  readonly type: 'EndExemption';
  readonly userId: string;
  readonly reason: string | null;
}

/** The scheduler's expiry job: ends exemption `version` once its `until` has passed. */
export interface ExpireExemption extends ActorCommand {
  readonly type: 'ExpireExemption';
  readonly userId: string;
  readonly version: number;
  readonly now: string;
}

export type OrganisationCommand =
  | RegisterOrganisation
  | ConnectToXero
  | DisconnectFromXero
  | ChangeEnforcementMode
  | SetMember
  | RemoveMember
  | SyncMembers
  | ExemptMember
  | EndExemption
  | ExpireExemption
  | FireScheduledEscalation;
