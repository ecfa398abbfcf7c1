import { assertNever } from '../kernel/assert-never.js';
import { createHash } from 'node:crypto';
import type { RecordedEvent } from '../kernel/event-envelope.js';
import { positionSortKey } from '../kernel/position.js';
import type { Doc, WriteOp } from '../ports/read-store.port.js';
import type { Projection, ReadModelView } from '../projections/projection.js';
import { orgMemberDoc, orgMemberId, orgMemberIds } from '../projections/org-member.index.js';
import type { MemberExempted, MemberExemptionEnded, OrganisationEvent } from '../organisations/organisation.events.js';
import type { UserEvent } from '../two-factor/user.events.js';
import type { Mode, StoredMembership } from './enforcement.decision.js';

export const ENFORCEMENT = 'enforcement';
export const ENFORCEMENT_ORGS = 'enforcement_orgs';
export const ENFORCEMENT_MEMBERS = 'enforcement_members';
/** The field of a user's document holding positionSortKey of the last event that changed it (absent on documents written before the change feed). */
export const CHANGED_AT = 'changedAt';

export function changedAtOf(doc: EnforcementDoc): string | null {
  const key = doc[CHANGED_AT];
  return typeof key === 'string' ? key : null;
}

/** Everything one decision needs, in one document fetched by the user id. */
export interface EnforcementDoc extends Doc {
  twoFactorEnabled: boolean;
  forgotten: boolean;
  /** Keyed by membershipKey(orgId): org ids may hold characters that field paths may not. */
  orgs: { [key: string]: StoredMembership & { [key: string]: string | boolean | number | null } };
}

interface OrgPolicyDoc extends Doc {
  mode: Mode;
  xeroConnected: boolean;
  /** Pending scheduled escalation and newcomers' grace (absent in documents written before them). */
  hardFrom: string | null;
  graceDays: number;
}

export function membershipKey(orgId: string): string {
  return `o${createHash('sha256').update(orgId).digest('hex').slice(0, 40)}`;
}


/**
 * Per-user enforcement documents. Policy changes fan out to every member at projection time so
 * that the hot path (GET /v1/enforcement/:userId) is a single lookup by id.
 */
export const enforcementProjection: Projection = {
  name: 'enforcement',
  handles: [
    'OrganisationRegistered', 'OrgConnectedToXero', 'OrgDisconnectedFromXero', 'EnforcementModeChanged', 'MemberJoinedOrg', 'MemberLeftOrg',
    'MemberExempted', 'MemberExemptionEnded',
    'EscalationScheduled', 'EscalationCancelled', 'GracePeriodChanged',
    'UserRegistered', 'TwoFactorEnabled', 'TwoFactorDisabled', 'TwoFactorReset', 'UserForgotten',
  ],
  indexes: { [ENFORCEMENT_MEMBERS]: [{ fields: ['orgId'] }], [ENFORCEMENT]: [{ fields: [CHANGED_AT] }] },
  urgent: true,
  async apply(event, view) {
    if (event.stream.startsWith('organisation-')) return stampChanges(await organisationChanged(event as RecordedEvent & OrganisationEvent, view), event.position);
    if (event.stream.startsWith('user-')) return stampChanges(userChanged(event as RecordedEvent & UserEvent), event.position);
    return [];
  },
};

/**
 * Every write to a user's document records the position that made it, as a sort key: the change
 * feed (enforcement-changes.feed.ts) streams documents in that order, and a host resumes after a
 * position knowing each later change is still ahead of it.
 */
function stampChanges(ops: readonly WriteOp[], position: string): WriteOp[] {
  const changedAt = positionSortKey(position);
  return ops.map((op) => {
    if (op.collection !== ENFORCEMENT) return op;
    if (op.kind === 'upsert') return { ...op, doc: { ...op.doc, [CHANGED_AT]: changedAt } };
    if (op.kind === 'patch') return { ...op, set: { ...op.set, [CHANGED_AT]: changedAt } };
    return op;
  });
}

async function organisationChanged(event: RecordedEvent & OrganisationEvent, view: ReadModelView): Promise<WriteOp[]> {
  const orgId = event.stream.slice('organisation-'.length);
  const key = membershipKey(orgId);
  switch (event.type) {
    case 'OrganisationRegistered':
      return [{ kind: 'upsert', collection: ENFORCEMENT_ORGS, doc: { id: orgId, mode: 'off', xeroConnected: false, hardFrom: null, graceDays: 0 } }];
    case 'OrgConnectedToXero':
    case 'OrgDisconnectedFromXero': {
      const xeroConnected = event.type === 'OrgConnectedToXero';
      return [{ kind: 'patch', collection: ENFORCEMENT_ORGS, id: orgId, set: { xeroConnected } }, ...(await fanOut(orgId, view, prefixed(key, { xeroConnected })))];
    }
    case 'EnforcementModeChanged': {
      // Leaving soft ends any schedule (the decider's rule), so its instant goes with it.
      const set: Record<string, string | null> = event.data.to === 'soft' ? { mode: event.data.to } : { mode: event.data.to, hardFrom: null };
      return [{ kind: 'patch', collection: ENFORCEMENT_ORGS, id: orgId, set }, ...(await fanOut(orgId, view, prefixed(key, set)))];
    }
    case 'EscalationScheduled':
    case 'EscalationCancelled':
    case 'GracePeriodChanged':
      return policyOverTimeChanged(event, orgId, view);
    case 'MemberJoinedOrg': {
      const org = await view.get<OrgPolicyDoc>(ENFORCEMENT_ORGS, orgId);
      const userId = event.data.userId;
      const policy = { orgId, mode: org?.mode ?? 'off', xeroConnected: org?.xeroConnected ?? false, hardFrom: org?.hardFrom ?? null, graceDays: org?.graceDays ?? 0, graceFrom: event.data.graceFrom ?? null };
      return [
        { kind: 'upsert', collection: ENFORCEMENT_MEMBERS, doc: orgMemberDoc(orgId, userId) },
        { kind: 'patch', collection: ENFORCEMENT, id: userId, set: { [`orgs.${key}`]: policy } },
      ];
    }
    case 'MemberLeftOrg':
      return [
        { kind: 'delete', collection: ENFORCEMENT_MEMBERS, id: orgMemberId(orgId, event.data.userId) },
        { kind: 'patch', collection: ENFORCEMENT, id: event.data.userId, unset: [`orgs.${key}`] },
      ];
    case 'MemberExempted':
    case 'MemberExemptionEnded':
      return exemptionChanged(event, key);
    case 'MemberRoleChanged':
      return [];
    default:
      return assertNever(event);
  }
}

/** The member's own policy entry carries the exemption, so the hot path still reads one document. */
function exemptionChanged(event: RecordedEvent & (MemberExempted | MemberExemptionEnded), key: string): WriteOp[] {
  const exemptUntil = event.type === 'MemberExempted' ? event.data.until : null;
  return [{ kind: 'patch', collection: ENFORCEMENT, id: event.data.userId, set: { [`orgs.${key}.exemptUntil`]: exemptUntil } }];
}

/** The schedule and the grace length live on the organisation and on every member's copy of its policy. */
async function policyOverTimeChanged(event: RecordedEvent & OrganisationEvent, orgId: string, view: ReadModelView): Promise<WriteOp[]> {
  let set: Record<string, string | number | null>;
  if (event.type === 'EscalationScheduled') set = { hardFrom: event.data.hardFrom };
  else if (event.type === 'GracePeriodChanged') set = { graceDays: event.data.to };
  else if (event.type === 'EscalationCancelled') {
    const org = await view.get<OrgPolicyDoc>(ENFORCEMENT_ORGS, orgId);
    if (org?.hardFrom !== event.data.hardFrom) return [];
    set = { hardFrom: null };
  } else return [];
  return [{ kind: 'patch', collection: ENFORCEMENT_ORGS, id: orgId, set }, ...(await fanOut(orgId, view, prefixed(membershipKey(orgId), set)))];
}

function prefixed(key: string, set: Record<string, string | boolean | number | null>): Record<string, string | boolean | number | null> {
  return Object.fromEntries(Object.entries(set).map(([field, value]) => [`orgs.${key}.${field}`, value]));
}

/** One patch per member. */
async function fanOut(orgId: string, view: ReadModelView, set: Record<string, string | boolean | number | null>): Promise<WriteOp[]> {
  const ops: WriteOp[] = [];
  for await (const userId of orgMemberIds(view, ENFORCEMENT_MEMBERS, orgId)) ops.push({ kind: 'patch', collection: ENFORCEMENT, id: userId, set });
  return ops;
}

function userChanged(event: RecordedEvent & UserEvent): WriteOp[] {
  const userId = event.stream.slice('user-'.length);
  switch (event.type) {
    case 'UserRegistered':
      return [{ kind: 'upsert', collection: ENFORCEMENT, doc: { id: userId, twoFactorEnabled: false, forgotten: false, orgs: {} } }];
    case 'TwoFactorEnabled':
      return [{ kind: 'patch', collection: ENFORCEMENT, id: userId, set: { twoFactorEnabled: true } }];
    case 'TwoFactorDisabled':
    case 'TwoFactorReset':
      return [{ kind: 'patch', collection: ENFORCEMENT, id: userId, set: { twoFactorEnabled: false } }];
    case 'UserForgotten':
      return [{ kind: 'patch', collection: ENFORCEMENT, id: userId, set: { twoFactorEnabled: false, forgotten: true } }];
    default:
      return [];
  }
}

