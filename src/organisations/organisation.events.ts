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
  { from: EnforcementMode; to: EnforcementMode; reason: string | null }
>;
export type MemberJoinedOrg = DomainEvent<'MemberJoinedOrg', { userId: string; role: MemberRole }>;
export type MemberRoleChanged = DomainEvent<'MemberRoleChanged', { userId: string; from: MemberRole; to: MemberRole }>;
export type MemberLeftOrg = DomainEvent<'MemberLeftOrg', { userId: string }>;

export type OrganisationEvent =
  | OrganisationRegistered
  | OrgConnectedToXero
  | OrgDisconnectedFromXero
  | EnforcementModeChanged
  | MemberJoinedOrg
  | MemberRoleChanged
  | MemberLeftOrg;

export type OrganisationEventType = OrganisationEvent['type'];

export const ORGANISATION_EVENT_TYPES: readonly OrganisationEventType[] = [
  'OrganisationRegistered',
  'OrgConnectedToXero',
  'OrgDisconnectedFromXero',
  'EnforcementModeChanged',
  'MemberJoinedOrg',
  'MemberRoleChanged',
  'MemberLeftOrg',
];

export function isEnforcementMode(value: unknown): value is EnforcementMode {
  return typeof value === 'string' && (ENFORCEMENT_MODES as readonly string[]).includes(value);
}

export function isMemberRole(value: unknown): value is MemberRole {
  return typeof value === 'string' && (MEMBER_ROLES as readonly string[]).includes(value);
}
