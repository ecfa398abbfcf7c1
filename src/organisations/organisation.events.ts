import type { DomainEvent } from '../kernel/event-envelope.js';

export const ENFORCEMENT_MODES = ['off', 'soft', 'hard'] as const;
export type EnforcementMode = (typeof ENFORCEMENT_MODES)[number];

export const MEMBER_ROLES = ['admin', 'member'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

// Time, actor and ids live in the envelope's metadata, so payloads carry only domain facts.

export type OrganisationRegistered = DomainEvent<'OrganisationRegistered', { orgId: string; name: string }>;
export type OrgConnectedToXero = DomainEvent<'OrgConnectedToXero', { tenantId: string }>;
export type OrgDisconnectedFromXero = DomainEvent<'OrgDisconnectedFromXero', { tenantId: string }>;
export type EnforcementModeChanged = DomainEvent<
  'EnforcementModeChanged',
  /** scheduleId: set when the scheduler made the change, naming the schedule it carried out. */
  { from: EnforcementMode; to: EnforcementMode; reason: string | null; scheduleId?: string }
>;
/**
 * joinedAt and graceFrom (when a newcomer's grace starts counting) are recorded since grace for
 * newcomers; older events lack them and their members get no grace.
 */
export type MemberJoinedOrg = DomainEvent<'MemberJoinedOrg', { userId: string; role: MemberRole; joinedAt?: string; graceFrom?: string }>;
export type MemberRoleChanged = DomainEvent<'MemberRoleChanged', { userId: string; from: MemberRole; to: MemberRole }>;
export type MemberLeftOrg = DomainEvent<'MemberLeftOrg', { userId: string; leftAt?: string }>;
// Policy over time (DESIGN §9): a soft organisation's escalation to hard at an instant, and grace for newcomers.
export type EscalationScheduled = DomainEvent<'EscalationScheduled', { scheduleId: string; hardFrom: string; reason: string }>;
export type EscalationCancelled = DomainEvent<'EscalationCancelled', { scheduleId: string; hardFrom: string; reason: string }>;
export type GracePeriodChanged = DomainEvent<'GracePeriodChanged', { from: number; to: number }>;

/** Why an exemption ended: its `until` passed (the scheduler), staff ended it early, or the member left. */
export const EXEMPTION_END_REASONS = ['expired', 'revoked', 'left'] as const;
export type ExemptionEndReason = (typeof EXEMPTION_END_REASONS)[number];
/**
 * `version` numbers the organisation's exemptions (1, 2, …): an expiry job carries the version it
 * was scheduled for, so a replaced or ended exemption's old job finds nothing to expire.
 */
export type MemberExempted = DomainEvent<'MemberExempted', { userId: string; reason: string; until: string; version: number }>;
export type MemberExemptionEnded = DomainEvent<
  'MemberExemptionEnded',
  { userId: string; version: number; reason: ExemptionEndReason; note: string | null }
>;

export type OrganisationEvent =
  | OrganisationRegistered
  | OrgConnectedToXero
  | OrgDisconnectedFromXero
  | EnforcementModeChanged
  | MemberJoinedOrg
  | MemberRoleChanged
  | MemberLeftOrg
  | MemberExempted
  | MemberExemptionEnded
  | EscalationScheduled
  | EscalationCancelled
  | GracePeriodChanged;

export type OrganisationEventType = OrganisationEvent['type'];

export const ORGANISATION_EVENT_TYPES: readonly OrganisationEventType[] = [
  'OrganisationRegistered',
  'OrgConnectedToXero',
  'OrgDisconnectedFromXero',
  'EnforcementModeChanged',
  'MemberJoinedOrg',
  'MemberRoleChanged',
  'MemberLeftOrg',
  'MemberExempted',
  'MemberExemptionEnded',
  'EscalationScheduled',
  'EscalationCancelled',
  'GracePeriodChanged',
];

export function isEnforcementMode(value: unknown): value is EnforcementMode {
  return typeof value === 'string' && (ENFORCEMENT_MODES as readonly string[]).includes(value);
}

export function isMemberRole(value: unknown): value is MemberRole {
  return typeof value === 'string' && (MEMBER_ROLES as readonly string[]).includes(value);
}
