import { describe, expect, it } from '@jest/globals';
import type { Actor } from '../../src/kernel/event-envelope.js';
import type { OrganisationCommand } from '../../src/organisations/organisation.commands.js';
import { organisationDecider, XERO_ENFORCEMENT_REASON, type RegisteredOrganisation } from '../../src/organisations/organisation.decider.js';
import type { EnforcementMode, OrganisationEvent } from '../../src/organisations/organisation.events.js';
import { scheduledEscalationReason } from '../../src/organisations/enforcement-schedule.rules.js';
import { given } from '../support/given-when-then.js';

const platform: Actor = { id: 'host-platform', roles: ['platform'] };
const alice: Actor = { id: 'alice', roles: [] };
const scheduler: Actor = { id: 'escalation-scheduler', roles: ['system'] };
const DAY = 86_400_000;
const T0 = Date.parse('2026-03-02T09:00:00.000Z');
const at = (days: number): string => new Date(T0 + days * DAY).toISOString();

const registered: OrganisationEvent = { type: 'OrganisationRegistered', data: { orgId: 'acme', name: 'Acme Ltd' } };
const modeChanged = (from: EnforcementMode, to: EnforcementMode, reason: string | null = null): OrganisationEvent => ({ type: 'EnforcementModeChanged', data: { from, to, reason } });
const joinedAt = (userId: string, day: number, graceFrom = at(day)): OrganisationEvent => ({ type: 'MemberJoinedOrg', data: { userId, role: 'member', joinedAt: at(day), graceFrom } });
const leftAt = (userId: string, day: number): OrganisationEvent => ({ type: 'MemberLeftOrg', data: { userId, leftAt: at(day) } });
const scheduled = (scheduleId: string, day: number): OrganisationEvent => ({ type: 'EscalationScheduled', data: { scheduleId, hardFrom: at(day), reason: scheduledEscalationReason(at(day)) } });
const cancelled = (scheduleId: string, day: number, reason: string): OrganisationEvent => ({ type: 'EscalationCancelled', data: { scheduleId, hardFrom: at(day), reason } });
const graceChanged = (from: number, to: number): OrganisationEvent => ({ type: 'GracePeriodChanged', data: { from, to } });

const acme = (): OrganisationEvent[] => [registered, { type: 'MemberJoinedOrg', data: { userId: 'alice', role: 'admin' } }];
const softAcme = (): OrganisationEvent[] => [...acme(), modeChanged('off', 'soft')];
const org = (history: readonly OrganisationEvent[]) => given(organisationDecider, history);

const change = (mode: EnforcementMode, fields: { hardFrom?: string | null; graceDays?: number; day?: number; id?: string } = {}, actor: Actor = alice): OrganisationCommand => ({
  type: 'ChangeEnforcementMode',
  mode,
  actor,
  scheduleId: fields.id ?? 's1',
  at: at(fields.day ?? 0),
  ...(fields.hardFrom === undefined ? {} : { hardFrom: fields.hardFrom }),
  ...(fields.graceDays === undefined ? {} : { graceDays: fields.graceDays }),
});
const fire = (scheduleId: string, day: number): OrganisationCommand => ({ type: 'FireScheduledEscalation', scheduleId, at: at(day), actor: scheduler });

describe('scheduled escalation', () => {
  it('schedules a soft organisation to become hard at a future instant', () => {
    org(softAcme()).when(change('soft', { hardFrom: at(14) })).thenEvents([scheduled('s1', 14)]);
  });

  it('switches an off organisation to soft and schedules it in one decision', () => {
    org(acme()).when(change('soft', { hardFrom: at(14) })).thenEvents([modeChanged('off', 'soft'), scheduled('s1', 14)]);
  });

  it('refuses a schedule in the past or at the command\'s own instant', () => {
    org(softAcme()).when(change('soft', { hardFrom: at(-1) })).thenError({ kind: 'invalid', code: 'hard_from_not_in_future' });
    org(softAcme()).when(change('soft', { hardFrom: at(0) })).thenError({ kind: 'invalid', code: 'hard_from_not_in_future' });
  });

  it('refuses hardFrom with any mode but soft, and a date more than a year ahead', () => {
    org(softAcme()).when(change('hard', { hardFrom: at(14) })).thenError({ kind: 'invalid', code: 'hard_from_requires_soft' });
    org(softAcme()).when(change('off', { hardFrom: at(14) })).thenError({ kind: 'invalid', code: 'hard_from_requires_soft' });
    org(softAcme()).when(change('soft', { hardFrom: at(400) })).thenError({ kind: 'invalid', code: 'hard_from_too_far' });
  });

  it('lets only an admin or the platform schedule', () => {
    org(softAcme()).when(change('soft', { hardFrom: at(14) }, { id: 'bob', roles: [] })).thenError({ kind: 'forbidden', code: 'not_organisation_admin' });
    org(softAcme()).when(change('soft', { hardFrom: at(14) }, platform)).thenEvents([scheduled('s1', 14)]);
  });

  it('keeps the schedule when the same date is sent again, or none is sent', () => {
    const history = [...softAcme(), scheduled('s1', 14)];
    org(history).when(change('soft', { hardFrom: at(14), id: 's2', day: 1 })).thenNothingHappens();
    org(history).when(change('soft', { id: 's2', day: 1 })).thenNothingHappens();
  });

  it('moves a schedule as a cancellation and a new schedule, and cancels one with null', () => {
    const history = [...softAcme(), scheduled('s1', 14)];
    org(history).when(change('soft', { hardFrom: at(21), id: 's2', day: 1 })).thenEvents([cancelled('s1', 14, 'Moved to another instant'), scheduled('s2', 21)]);
    const then = org(history).when(change('soft', { hardFrom: null, day: 1 }));
    then.thenEvents([cancelled('s1', 14, 'Cancelled')]);
    expect((then.stateAfter() as RegisteredOrganisation).escalation).toBeNull();
  });

  it('ends the schedule when the admin leaves soft by hand', () => {
    org([...softAcme(), scheduled('s1', 14)]).when(change('hard', { day: 3 })).thenEvents([modeChanged('soft', 'hard'), cancelled('s1', 14, 'Mode changed to hard')]);
  });

  it('fires once at its instant: soft becomes hard, the reason naming the schedule', () => {
    const then = org([...softAcme(), scheduled('s1', 14)]).when(fire('s1', 14));
    then.thenEvents([{ type: 'EnforcementModeChanged', data: { from: 'soft', to: 'hard', reason: scheduledEscalationReason(at(14)), scheduleId: 's1' } }]);
    const after = then.stateAfter() as RegisteredOrganisation;
    expect(after.mode).toBe('hard');
    expect(after.escalation).toBeNull();
    // A second scheduler process deciding on the new history finds nothing to do.
    org([...softAcme(), scheduled('s1', 14), ...(then.result as OrganisationEvent[])]).when(fire('s1', 14)).thenNothingHappens();
  });

  it('does nothing when fired early', () => {
    org([...softAcme(), scheduled('s1', 14)]).when(fire('s1', 13.9)).thenNothingHappens();
  });

  it('never fires a moved schedule at its old instant, nor a cancelled one', () => {
    const moved = [...softAcme(), scheduled('s1', 14), cancelled('s1', 14, 'Moved to another instant'), scheduled('s2', 21)];
    org(moved).when(fire('s1', 14)).thenNothingHappens();
    // Nor later: a stale job retried after the new instant carries the old id and is refused.
    org(moved).when(fire('s1', 22)).thenNothingHappens();
    org(moved).when(fire('s2', 21)).thenEvents([{ type: 'EnforcementModeChanged', data: { from: 'soft', to: 'hard', reason: scheduledEscalationReason(at(21)), scheduleId: 's2' } }]);
    org([...softAcme(), scheduled('s1', 14), cancelled('s1', 14, 'Cancelled')]).when(fire('s1', 14)).thenNothingHappens();
  });

  it('does nothing when the organisation was already switched to hard by hand', () => {
    org([...softAcme(), scheduled('s1', 14), modeChanged('soft', 'hard')]).when(fire('s1', 14)).thenNothingHappens();
    // Even back to soft later: the old schedule ended with the manual change and is not revived.
    org([...softAcme(), scheduled('s1', 14), modeChanged('soft', 'hard'), modeChanged('hard', 'soft')]).when(fire('s1', 14)).thenNothingHappens();
  });

  it('is only fired by the scheduler', () => {
    org([...softAcme(), scheduled('s1', 14)]).when({ ...fire('s1', 14), actor: platform } as OrganisationCommand).thenError({ kind: 'forbidden', code: 'scheduler_only' });
  });

  it('schedules a Xero-connected organisation, which still can never be turned off', () => {
    const xero = [...acme(), { type: 'OrgConnectedToXero', data: { tenantId: 't1' } } as OrganisationEvent, modeChanged('off', 'soft', XERO_ENFORCEMENT_REASON)];
    org(xero).when(change('soft', { hardFrom: at(14) })).thenEvents([scheduled('s1', 14)]);
    org([...xero, scheduled('s1', 14)]).when(change('off', { hardFrom: null, day: 1 })).thenError({ kind: 'conflict', code: 'xero_requires_enforcement' });
    org([...xero, scheduled('s1', 14)]).when(fire('s1', 14)).thenEvents([{ type: 'EnforcementModeChanged', data: { from: 'soft', to: 'hard', reason: scheduledEscalationReason(at(14)), scheduleId: 's1' } }]);
  });
});

describe('grace for newcomers', () => {
  const hardAcme = (): OrganisationEvent[] => [...acme(), modeChanged('off', 'hard'), graceChanged(0, 7)];
  const join = (userId: string, day: number): OrganisationCommand => ({ type: 'SetMember', userId, role: 'member', actor: platform, at: at(day) });
  const remove = (userId: string, day: number): OrganisationCommand => ({ type: 'RemoveMember', userId, actor: alice, at: at(day) });

  it('sets graceDays from 0 to 90, and refuses anything else', () => {
    org(softAcme()).when(change('soft', { graceDays: 14 })).thenEvents([graceChanged(0, 14)]);
    org(softAcme()).when(change('soft', { graceDays: 0 })).thenNothingHappens();
    for (const graceDays of [-1, 91, 1.5]) org(softAcme()).when(change('soft', { graceDays })).thenError({ kind: 'invalid', code: 'invalid_grace_days' });
  });

  it('records when a newcomer joined and when their grace counts from', () => {
    org(hardAcme()).when(join('bob', 1)).thenEvents([joinedAt('bob', 1)]);
  });

  it('a member joining exactly at the scheduled instant joins with a fresh grace, and the schedule still fires', () => {
    const history = [...softAcme(), graceChanged(0, 7), scheduled('s1', 14)];
    org(history).when(join('bob', 14)).thenEvents([joinedAt('bob', 14)]);
    org([...history, joinedAt('bob', 14)]).when(fire('s1', 14)).thenEvents([{ type: 'EnforcementModeChanged', data: { from: 'soft', to: 'hard', reason: scheduledEscalationReason(at(14)), scheduleId: 's1' } }]);
  });

  it('leaving and re-joining during grace does not restart it: it counts from the first join', () => {
    const history = [...hardAcme(), joinedAt('bob', 1), leftAt('bob', 3)];
    org(history).when(join('bob', 4)).thenEvents([joinedAt('bob', 4, at(1))]);
    // Again and again: still from the first join.
    org([...history, joinedAt('bob', 4, at(1)), leftAt('bob', 5)]).when(join('bob', 6)).thenEvents([joinedAt('bob', 6, at(1))]);
  });

  it('a member who stayed away longer than the grace is a newcomer again', () => {
    const history = [...hardAcme(), joinedAt('bob', 1), leftAt('bob', 3)];
    org(history).when(join('bob', 3 + 7.5)).thenEvents([joinedAt('bob', 10.5)]);
    org(history).when(join('bob', 3 + 7)).thenEvents([joinedAt('bob', 10, at(1))]);
  });

  it('the bulk sync records joins and departures the same way', () => {
    const history = [...hardAcme(), joinedAt('bob', 1)];
    const sync = (day: number, members: { userId: string; role: 'admin' | 'member' }[]): OrganisationCommand => ({ type: 'SyncMembers', members, removeOthers: true, unregisteredUserIds: [], forgottenUserIds: [], actor: platform, at: at(day) });
    org(history).when(sync(2, [{ userId: 'alice', role: 'admin' }])).thenEvents([leftAt('bob', 2)]);
    org([...history, leftAt('bob', 2)]).when(sync(3, [{ userId: 'alice', role: 'admin' }, { userId: 'bob', role: 'member' }])).thenEvents([joinedAt('bob', 3, at(1))]);
  });
});
