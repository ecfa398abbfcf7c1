import { assertNever } from '../kernel/assert-never.js';
import type { RecordedEvent } from '../kernel/event-envelope.js';
import type { Doc, WriteOp } from '../ports/read-store.port.js';
import type { Projection, ReadModelView } from '../projections/projection.js';
import { orgMemberDoc, orgMemberId, orgMemberIds } from '../projections/org-member.index.js';
import { membershipKey } from '../enforcement/enforcement.projection.js';
import type { OrganisationEvent } from '../organisations/organisation.events.js';
import type { UserEvent } from '../two-factor/user.events.js';
import type { Mailer } from '../ports/mailer.port.js';
import type { ReminderJobs } from './reminder-jobs.port.js';
import { changeSubject, nextReminderAt, type Mode, type ReminderIntervals, type ReminderSubject } from './reminder.policy.js';

export const REMINDER_SUBJECTS = 'reminder_subjects';
const REMINDER_ORGS = 'reminder_orgs';
const REMINDER_MEMBERS = 'reminder_members';

export interface SubjectDoc extends Doc {
  twoFactorEnabled: boolean;
  forgotten: boolean;
  /** Mode per organisation, keyed by membershipKey(orgId). */
  orgModes: { [key: string]: Mode };
  orgIds: { [key: string]: string };
  /** Until when the user is exempt, per organisation (membershipKey); absent on older documents. */
  orgExemptions: { [key: string]: string };
  enforcedSince: string | null;
  lastSentAt: string | null;
  dueAt: string | null;
  jobId: string | null;
  /** Policy over time per organisation, keyed like orgModes (absent in documents written before it). */
  orgPolicies: { [key: string]: OrgTimes } | null;
}

/** A schedule's instant, and a newcomer's grace start and length. */
interface OrgTimes {
  hardFrom: string | null;
  graceFrom: string | null;
  graceDays: number;
  [field: string]: string | number | null;
}

interface OrgDoc extends Doc {
  mode: Mode;
  hardFrom: string | null;
  graceDays: number;
}

export function toSubject(doc: SubjectDoc): ReminderSubject {
  const enforcing = enforcingModes(doc);
  const policies = Object.entries(enforcing).map(([key, mode]) => ({ mode, ...(doc.orgPolicies?.[key] ?? {}) }));
  return { twoFactorEnabled: doc.twoFactorEnabled, forgotten: doc.forgotten, modes: Object.values(enforcing), enforcedSince: doc.enforcedSince, lastSentAt: doc.lastSentAt, policies };
}

/** The modes that remind this user: an organisation that exempts the user reminds nobody until the exemption ends (an event). */
export function enforcingModes(doc: SubjectDoc): { [key: string]: Mode } {
  const exempt = doc.orgExemptions ?? {};
  return Object.fromEntries(Object.entries(doc.orgModes).filter(([key]) => exempt[key] === undefined));
}

const NO_TIMES: OrgTimes = { hardFrom: null, graceFrom: null, graceDays: 0 };

function withTimes(doc: SubjectDoc, key: string, change: Partial<OrgTimes>): { orgPolicies: { [key: string]: OrgTimes } } {
  const current = doc.orgPolicies?.[key] ?? NO_TIMES;
  return { orgPolicies: { ...doc.orgPolicies, [key]: { ...current, ...change } as OrgTimes } };
}

type SubjectChange = (doc: SubjectDoc) => Partial<SubjectDoc>;

export const REMINDER_SAGA = 'reminders';

/**
 * The reminder saga. It runs on the durable subscription like a projection: for each event it
 * works out which users' reminder schedule changes, replaces their job (idempotently) and then
 * commits its own state with the checkpoint. A crash in between replays the event, which replaces
 * the same job with the same one. On UserForgotten it erases the mail kept for that user.
 */
export function reminderSaga(jobs: ReminderJobs, intervals: ReminderIntervals, mailer: Pick<Mailer, 'forgetRecipient'>): Projection {
  /**
   * The job is created before the document that names it commits (with the checkpoint), so it
   * carries this event's position and waits for the checkpoint before reading the document.
   */
  const change = async (userId: string, cause: RecordedEvent, view: ReadModelView, apply: SubjectChange): Promise<WriteOp[]> => {
    const doc = await view.get<SubjectDoc>(REMINDER_SUBJECTS, userId);
    if (!doc) return [];
    const patched = { ...doc, ...apply(doc) } as SubjectDoc;
    const subject = changeSubject(toSubject(doc), { ...toSubject(patched), enforcedSince: doc.enforcedSince }, cause.metadata.occurredAt);
    const due = nextReminderAt(subject, intervals)?.toISOString() ?? null;
    const jobId = due === doc.dueAt ? doc.jobId : await jobs.replace(userId, doc.jobId, due === null ? null : new Date(due), cause.position);
    return [{ kind: 'upsert', collection: REMINDER_SUBJECTS, doc: { ...patched, enforcedSince: subject.enforcedSince, dueAt: due, jobId } }];
  };

  const fanOut = async (orgId: string, cause: RecordedEvent, view: ReadModelView, apply: SubjectChange): Promise<WriteOp[]> => {
    const ops: WriteOp[] = [];
    for await (const userId of orgMemberIds(view, REMINDER_MEMBERS, orgId)) ops.push(...(await change(userId, cause, view, apply)));
    return ops;
  };

  const onOrganisation = async (event: RecordedEvent & OrganisationEvent, view: ReadModelView): Promise<WriteOp[]> => {
    const orgId = event.stream.slice('organisation-'.length);
    const key = membershipKey(orgId);
    switch (event.type) {
      case 'OrganisationRegistered':
        return [{ kind: 'upsert', collection: REMINDER_ORGS, doc: { id: orgId, mode: 'off', hardFrom: null, graceDays: 0 } }];
      case 'EnforcementModeChanged': {
        const mode = event.data.to;
        // Leaving soft ends a schedule (the decider's rule).
        const times: Partial<OrgTimes> = mode === 'soft' ? {} : { hardFrom: null };
        const ops = await fanOut(orgId, event, view, (doc) => ({ orgModes: { ...doc.orgModes, [key]: mode }, ...withTimes(doc, key, times) }));
        return [{ kind: 'patch', collection: REMINDER_ORGS, id: orgId, set: { mode, ...times } as Record<string, string | number | null> }, ...ops];
      }
      case 'EscalationScheduled':
      case 'EscalationCancelled':
      case 'GracePeriodChanged':
        return onPolicyOverTime(event, orgId, view);
      case 'MemberJoinedOrg': {
        const org = await view.get<OrgDoc>(REMINDER_ORGS, orgId);
        const mode = org?.mode ?? 'off';
        const userId = event.data.userId;
        const times: OrgTimes = { hardFrom: org?.hardFrom ?? null, graceDays: org?.graceDays ?? 0, graceFrom: event.data.graceFrom ?? null };
        const ops = await change(userId, event, view, (doc) => ({ orgModes: { ...doc.orgModes, [key]: mode }, orgIds: { ...doc.orgIds, [key]: orgId }, ...withTimes(doc, key, times) }));
        return [{ kind: 'upsert', collection: REMINDER_MEMBERS, doc: orgMemberDoc(orgId, userId) }, ...ops];
      }
      case 'MemberLeftOrg': {
        const userId = event.data.userId;
        const ops = await change(userId, event, view, (doc) => ({ orgModes: without(doc.orgModes, key), orgIds: without(doc.orgIds, key), orgPolicies: without(doc.orgPolicies ?? {}, key), orgExemptions: without(doc.orgExemptions ?? {}, key) }));
        return [{ kind: 'delete', collection: REMINDER_MEMBERS, id: orgMemberId(orgId, userId) }, ...ops];
      }
      case 'MemberExempted': {
        const until = event.data.until;
        return change(event.data.userId, event, view, (doc) => ({ orgExemptions: { ...(doc.orgExemptions ?? {}), [key]: until } }));
      }
      case 'MemberExemptionEnded':
        return change(event.data.userId, event, view, (doc) => ({ orgExemptions: without(doc.orgExemptions ?? {}, key) }));
      case 'OrgConnectedToXero':
      case 'OrgDisconnectedFromXero':
      case 'MemberRoleChanged':
        return [];
      default:
        return assertNever(event);
    }
  };

  /** A schedule set, moved or cancelled, or a new grace length, reaches every member's due date. */
  const onPolicyOverTime = async (event: RecordedEvent & OrganisationEvent, orgId: string, view: ReadModelView): Promise<WriteOp[]> => {
    const key = membershipKey(orgId);
    let times: Partial<OrgTimes>;
    if (event.type === 'EscalationScheduled') times = { hardFrom: event.data.hardFrom };
    else if (event.type === 'GracePeriodChanged') times = { graceDays: event.data.to };
    else if (event.type === 'EscalationCancelled') {
      const org = await view.get<OrgDoc>(REMINDER_ORGS, orgId);
      if (org?.hardFrom !== event.data.hardFrom) return [];
      times = { hardFrom: null };
    } else return [];
    const ops = await fanOut(orgId, event, view, (doc) => withTimes(doc, key, times));
    return [{ kind: 'patch', collection: REMINDER_ORGS, id: orgId, set: times as Record<string, string | number | null> }, ...ops];
  };

  const onUser = async (event: RecordedEvent & UserEvent, view: ReadModelView): Promise<WriteOp[]> => {
    const userId = event.stream.slice('user-'.length);
    switch (event.type) {
      case 'UserRegistered': {
        if (await view.get<SubjectDoc>(REMINDER_SUBJECTS, userId)) return [];
        const doc: SubjectDoc = { id: userId, twoFactorEnabled: false, forgotten: false, orgModes: {}, orgIds: {}, orgExemptions: {}, enforcedSince: null, lastSentAt: null, dueAt: null, jobId: null, orgPolicies: {} };
        return [{ kind: 'upsert', collection: REMINDER_SUBJECTS, doc }];
      }
      case 'TwoFactorEnabled':
        return change(userId, event, view, () => ({ twoFactorEnabled: true }));
      case 'TwoFactorDisabled':
      case 'TwoFactorReset':
        return change(userId, event, view, () => ({ twoFactorEnabled: false }));
      case 'UserForgotten':
        // The outbox keeps the address in clear; erasing it here is durable (a failure is retried
        // with the event) and happens on whichever process runs the saga.
        await mailer.forgetRecipient(userId);
        return change(userId, event, view, () => ({ forgotten: true }));
      case 'ReminderSent':
        return change(userId, event, view, () => ({ lastSentAt: event.data.sentAt }));
      default:
        return [];
    }
  };

  return {
    name: REMINDER_SAGA,
    rebuildable: false,
    handles: [
      'OrganisationRegistered', 'EnforcementModeChanged', 'MemberJoinedOrg', 'MemberLeftOrg', 'MemberExempted', 'MemberExemptionEnded',
      'EscalationScheduled', 'EscalationCancelled', 'GracePeriodChanged',
      'UserRegistered', 'TwoFactorEnabled', 'TwoFactorDisabled', 'TwoFactorReset', 'UserForgotten', 'ReminderSent',
    ],
    indexes: { [REMINDER_MEMBERS]: [{ fields: ['orgId'] }] },
    async apply(event, view) {
      if (event.stream.startsWith('organisation-')) return onOrganisation(event as RecordedEvent & OrganisationEvent, view);
      if (event.stream.startsWith('user-')) return onUser(event as RecordedEvent & UserEvent, view);
      return [];
    },
  };
}

function without<T>(record: { [key: string]: T }, key: string): { [key: string]: T } {
  const { [key]: _removed, ...rest } = record;
  return rest;
}

