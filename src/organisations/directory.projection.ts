import { assertNever } from '../kernel/assert-never.js';
import type { RecordedEvent } from '../kernel/event-envelope.js';
import type { EncryptedValue } from '../kernel/encrypted-value.js';
import { comparePositions } from '../kernel/position.js';
import type { Doc, DocValue, WriteOp } from '../ports/read-store.port.js';
import type { Projection, ReadModelView } from '../projections/projection.js';
import { orgMemberId } from '../projections/org-member.index.js';
import { ORGANISATION_EVENT_TYPES, type OrganisationEvent } from './organisation.events.js';
import { USER_EVENT_TYPES, type UserEvent } from '../two-factor/user.events.js';

export const ORGANISATIONS = 'organisations';
export const ORG_MEMBERS = 'org_members';
export const USERS = 'users';

export interface OrganisationDoc extends Doc {
  name: string;
  mode: string;
  xeroConnected: boolean;
  tenantId: string | null;
  registeredAt: string;
  modeChangedAt: string | null;
  modeChangedBy: string | null;
  modeChangeReason: string | null;
  /** The pending scheduled escalation and the newcomers' grace (absent in documents written before them). */
  hardFrom: string | null;
  graceDays: number;
}

/** One vocabulary for a member's 2FA: these statuses are also the members list's filter values. */
export const TWO_FACTOR_STATUSES = ['none', 'pending', 'enabled'] as const;

export interface TwoFactorSummary {
  [key: string]: DocValue;
  status: (typeof TWO_FACTOR_STATUSES)[number];
  enabledSince: string | null;
  backupCodesLeft: number;
  lockedUntil: string | null;
}

export interface MemberDoc extends Doc {
  orgId: string;
  userId: string;
  role: string;
  joinedAt: string;
  twoFactorEnabled: boolean;
  twoFactor: TwoFactorSummary;
  forgotten: boolean;
  /** Written by staff, not the user's personal data; never logged. Absent on documents projected before exemptions existed. */
  exemption: MemberExemption | null;
  exempt: boolean;
  /** When this member's grace counts from (MemberJoinedOrg); null on documents projected before grace existed. */
  graceFrom: string | null;
  /** The user's last reminder, copied here so the members list shows it without a per-row read. Absent on older documents. */
  lastReminderAt: string | null;
}

export interface MemberExemption {
  [key: string]: DocValue;
  reason: string;
  until: string;
}

export interface UserDoc extends Doc {
  /** Position of the last user event applied: guards read-modify-write changes against replays. */
  position: string;
  registeredAt: string;
  /** Still encrypted with the user's data key: read models never hold personal data in the clear. */
  email: EncryptedValue | null;
  forgotten: boolean;
  twoFactor: TwoFactorSummary;
  memberships: { orgId: string; role: string }[];
  reminders: { count: number; lastSentAt: string | null; lastCadence: string | null };
  /** Security notices sent to this user; null (or absent) on documents projected before notices existed. */
  notices: NoticeSummary | null;
}

export interface NoticeSummary {
  [key: string]: DocValue;
  count: number;
  lastSentAt: string | null;
  lastKind: string | null;
}

export const NO_NOTICES: NoticeSummary = { count: 0, lastSentAt: null, lastKind: null };


const NO_FACTOR: TwoFactorSummary = { status: 'none', enabledSince: null, backupCodesLeft: 0, lockedUntil: null };

/**
 * Organisations, their members' compliance and users, kept in one projection so a member's 2FA
 * status and its membership are always updated from one consistent position.
 */
export const directoryProjection: Projection = {
  name: 'directory',
  handles: [...ORGANISATION_EVENT_TYPES, ...USER_EVENT_TYPES],
  indexes: {
    [ORG_MEMBERS]: [{ fields: ['orgId', 'twoFactorEnabled'] }, { fields: ['orgId', 'twoFactor.status'] }, { fields: ['orgId', 'exempt'] }, { fields: ['orgId', 'twoFactor.lockedUntil'] }, { fields: ['userId'] }, { fields: ['orgId'] }],
  },
  async apply(event, view) {
    if (event.stream.startsWith('organisation-')) return applyOrganisationEvent(event as RecordedEvent & OrganisationEvent, view);
    if (event.stream.startsWith('user-')) return applyUserEvent(event as RecordedEvent & UserEvent, view);
    return [];
  },
};

async function applyOrganisationEvent(event: RecordedEvent & OrganisationEvent, view: ReadModelView): Promise<WriteOp[]> {
  const orgId = event.stream.slice('organisation-'.length);
  const at = event.metadata.occurredAt;
  switch (event.type) {
    case 'OrganisationRegistered': {
      const doc: OrganisationDoc = { id: orgId, name: event.data.name, mode: 'off', xeroConnected: false, tenantId: null, registeredAt: at, modeChangedAt: null, modeChangedBy: null, modeChangeReason: null, hardFrom: null, graceDays: 0 };
      return [{ kind: 'upsert', collection: ORGANISATIONS, doc }];
    }
    case 'OrgConnectedToXero':
      return [{ kind: 'patch', collection: ORGANISATIONS, id: orgId, set: { xeroConnected: true, tenantId: event.data.tenantId } }];
    case 'OrgDisconnectedFromXero':
      return [{ kind: 'patch', collection: ORGANISATIONS, id: orgId, set: { xeroConnected: false, tenantId: null } }];
    case 'EnforcementModeChanged':
      return [{ kind: 'patch', collection: ORGANISATIONS, id: orgId, set: { mode: event.data.to, modeChangedAt: at, modeChangedBy: event.metadata.actor.id, modeChangeReason: event.data.reason, ...(event.data.to === 'soft' ? {} : { hardFrom: null }) } }];
    case 'MemberJoinedOrg':
      return memberJoined(orgId, event.data.userId, event.data.role, at, event.data.graceFrom ?? null, view);
    case 'MemberRoleChanged':
      return membershipChanged(orgId, event.data.userId, event.data.to, view);
    case 'MemberLeftOrg':
      return membershipChanged(orgId, event.data.userId, null, view);
    case 'MemberExempted': {
      const exemption: MemberExemption = { reason: event.data.reason, until: event.data.until };
      return [{ kind: 'patch', collection: ORG_MEMBERS, id: orgMemberId(orgId, event.data.userId), set: { exemption, exempt: true } }];
    }
    case 'MemberExemptionEnded':
      return [{ kind: 'patch', collection: ORG_MEMBERS, id: orgMemberId(orgId, event.data.userId), set: { exemption: null, exempt: false } }];
    case 'EscalationScheduled':
      return [{ kind: 'patch', collection: ORGANISATIONS, id: orgId, set: { hardFrom: event.data.hardFrom } }];
    case 'EscalationCancelled': {
      const org = await view.get<OrganisationDoc>(ORGANISATIONS, orgId);
      return org?.hardFrom === event.data.hardFrom ? [{ kind: 'patch', collection: ORGANISATIONS, id: orgId, set: { hardFrom: null } }] : [];
    }
    case 'GracePeriodChanged':
      return [{ kind: 'patch', collection: ORGANISATIONS, id: orgId, set: { graceDays: event.data.to } }];
    default:
      return assertNever(event);
  }
}

async function memberJoined(orgId: string, userId: string, role: string, at: string, graceFrom: string | null, view: ReadModelView): Promise<WriteOp[]> {
  const user = await view.get<UserDoc>(USERS, userId);
  const twoFactor = user?.twoFactor ?? NO_FACTOR;
  const member: MemberDoc = { id: orgMemberId(orgId, userId), orgId, userId, role, joinedAt: at, twoFactorEnabled: twoFactor.status === 'enabled', twoFactor, forgotten: user?.forgotten ?? false, exemption: null, exempt: false, graceFrom, lastReminderAt: user?.reminders.lastSentAt ?? null };
  return [{ kind: 'upsert', collection: ORG_MEMBERS, doc: member }, ...membershipsOf(user, orgId, role)];
}

async function membershipChanged(orgId: string, userId: string, role: string | null, view: ReadModelView): Promise<WriteOp[]> {
  const user = await view.get<UserDoc>(USERS, userId);
  const member: WriteOp =
    role === null
      ? { kind: 'delete', collection: ORG_MEMBERS, id: orgMemberId(orgId, userId) }
      : { kind: 'patch', collection: ORG_MEMBERS, id: orgMemberId(orgId, userId), set: { role } };
  return [member, ...membershipsOf(user, orgId, role)];
}

/** The user's list of memberships with this organisation's entry set to `role` (null: removed). */
function membershipsOf(user: UserDoc | null, orgId: string, role: string | null): WriteOp[] {
  if (!user) return [];
  const others = user.memberships.filter((m) => m.orgId !== orgId);
  const memberships = role === null ? others : [...others, { orgId, role }].sort((a, b) => (a.orgId < b.orgId ? -1 : 1));
  return [{ kind: 'patch', collection: USERS, id: user.id, set: { memberships } }];
}

async function applyUserEvent(event: RecordedEvent & UserEvent, view: ReadModelView): Promise<WriteOp[]> {
  const userId = event.stream.slice('user-'.length);
  const at = event.metadata.occurredAt;
  switch (event.type) {
    case 'UserRegistered': {
      const doc: UserDoc = { id: userId, position: event.position, registeredAt: at, email: event.data.email, forgotten: false, twoFactor: NO_FACTOR, memberships: [], reminders: { count: 0, lastSentAt: null, lastCadence: null }, notices: NO_NOTICES };
      return [{ kind: 'upsert', collection: USERS, doc }];
    }
    case 'TwoFactorSetupStarted':
      return twoFactorChanged(event, view, (t) => (t.status === 'enabled' ? t : { ...t, status: 'pending' }));
    case 'TwoFactorEnabled':
      return twoFactorChanged(event, view, () => ({ status: 'enabled', enabledSince: at, backupCodesLeft: 0, lockedUntil: null }));
    case 'BackupCodesGenerated':
      return twoFactorChanged(event, view, (t) => ({ ...t, backupCodesLeft: event.data.hashes.length }));
    case 'BackupCodeUsed':
      return twoFactorChanged(event, view, (t) => ({ ...t, backupCodesLeft: Math.max(0, t.backupCodesLeft - 1), lockedUntil: null }));
    case 'TwoFactorVerified':
    case 'TrustedDeviceUsed':
      return twoFactorChanged(event, view, (t) => ({ ...t, lockedUntil: null }));
    case 'TwoFactorLockedOut':
      return twoFactorChanged(event, view, (t) => ({ ...t, lockedUntil: event.data.until }));
    case 'TwoFactorDisabled':
    case 'TwoFactorReset':
      return twoFactorChanged(event, view, () => NO_FACTOR);
    case 'UserForgotten':
      return [
        { kind: 'patch', collection: USERS, id: userId, set: { forgotten: true, email: null, twoFactor: NO_FACTOR } },
        { kind: 'patchMany', collection: ORG_MEMBERS, filter: { userId }, set: { forgotten: true, twoFactorEnabled: false, twoFactor: NO_FACTOR } },
      ];
    case 'ReminderSent': {
      const user = await unappliedUser(event, view);
      if (!user) return [];
      const reminders = { count: user.reminders.count + 1, lastSentAt: event.data.sentAt, lastCadence: event.data.cadence };
      return [
        { kind: 'patchMany', collection: ORG_MEMBERS, filter: { userId }, set: { lastReminderAt: event.data.sentAt } },
        { kind: 'patch', collection: USERS, id: userId, set: { reminders, position: event.position } },
      ];
    }
    case 'NoticeSent': {
      const user = await unappliedUser(event, view);
      if (!user) return [];
      const notices: NoticeSummary = { count: (user.notices ?? NO_NOTICES).count + 1, lastSentAt: event.data.sentAt, lastKind: event.data.kind };
      return [{ kind: 'patch', collection: USERS, id: userId, set: { notices, position: event.position } }];
    }
    // Reset requests have their own read model (two-factor/reset-requests.projection.ts); devices are read from the stream.
    case 'TwoFactorVerificationFailed':
    case 'TwoFactorResetRequested':
    case 'TrustedDeviceRemembered':
    case 'TrustedDeviceRevoked':
    case 'AdminDigestSent':
      return [];
    default:
      return assertNever(event);
  }
}

/**
 * Backup-code and reminder counts depend on the previous document, so they are read-modify-write.
 * The user document records the last applied position and is written last, so an event replayed
 * after a crash (MongoDB has no transaction here) is recognised and not counted twice.
 */
async function unappliedUser(event: RecordedEvent, view: ReadModelView): Promise<UserDoc | null> {
  const user = await view.get<UserDoc>(USERS, event.stream.slice('user-'.length));
  if (!user || comparePositions(user.position, event.position) >= 0) return null;
  return user;
}

async function twoFactorChanged(event: RecordedEvent, view: ReadModelView, change: (current: TwoFactorSummary) => TwoFactorSummary): Promise<WriteOp[]> {
  const user = await unappliedUser(event, view);
  if (!user) return [];
  const twoFactor = change(user.twoFactor);
  // Most sign-ins (TwoFactorVerified) change nothing visible; writing nothing keeps projection and rebuild cheap.
  if (sameSummary(twoFactor, user.twoFactor)) return [];
  return [
    { kind: 'patchMany', collection: ORG_MEMBERS, filter: { userId: user.id }, set: { twoFactor, twoFactorEnabled: twoFactor.status === 'enabled' } },
    { kind: 'patch', collection: USERS, id: user.id, set: { twoFactor, position: event.position } },
  ];
}

function sameSummary(a: TwoFactorSummary, b: TwoFactorSummary): boolean {
  return a.status === b.status && a.enabledSince === b.enabledSince && a.backupCodesLeft === b.backupCodesLeft && a.lockedUntil === b.lockedUntil;
}

