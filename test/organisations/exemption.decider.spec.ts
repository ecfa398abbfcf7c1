import { describe, expect, it } from '@jest/globals';
import type { Actor } from '../../src/kernel/event-envelope.js';
import { exemptionOf } from '../../src/organisations/exemption.decisions.js';
import { organisationDecider, XERO_ENFORCEMENT_REASON } from '../../src/organisations/organisation.decider.js';
import type { ExemptionEndReason, MemberRole, OrganisationEvent } from '../../src/organisations/organisation.events.js';
import { given } from '../support/given-when-then.js';

const platform: Actor = { id: 'host-platform', roles: ['platform'] };
const support: Actor = { id: 'agent', roles: ['support'] };
const alice: Actor = { id: 'alice', roles: [] };
const bob: Actor = { id: 'bob', roles: [] };
const scheduler: Actor = { id: 'exemption-scheduler', roles: ['system'] };

const NOW = '2026-03-01T09:00:00.000Z';
const DAY = 86_400_000;
const later = (days: number, from = NOW): string => new Date(Date.parse(from) + days * DAY).toISOString();

const registered: OrganisationEvent = { type: 'OrganisationRegistered', data: { orgId: 'acme', name: 'Acme' } };
const joined = (userId: string, role: MemberRole = 'member'): OrganisationEvent => ({ type: 'MemberJoinedOrg', data: { userId, role } });
const left = (userId: string): OrganisationEvent => ({ type: 'MemberLeftOrg', data: { userId } });
const exempted = (userId: string, until: string, version: number, reason = 'On parental leave'): OrganisationEvent => ({
  type: 'MemberExempted',
  data: { userId, reason, until, version },
});
const ended = (userId: string, version: number, reason: ExemptionEndReason, note: string | null = null): OrganisationEvent => ({
  type: 'MemberExemptionEnded',
  data: { userId, version, reason, note },
});
const modeChanged = (from: 'off' | 'soft' | 'hard', to: 'off' | 'soft' | 'hard', reason: string | null = null): OrganisationEvent => ({
  type: 'EnforcementModeChanged',
  data: { from, to, reason },
});

/** Acme: alice admin, bob and carol members, enforcing hard. */
const acme = (): OrganisationEvent[] => [registered, joined('alice', 'admin'), joined('bob'), joined('carol'), modeChanged('off', 'hard')];
const org = (history: readonly OrganisationEvent[] = acme()) => given(organisationDecider, history);
const exempt = (actor: Actor, userId: string, until: unknown, reason: unknown = 'On parental leave') =>
  ({ type: 'ExemptMember', actor, userId, reason, until, now: NOW }) as never;
const expire = (userId: string, version: number, now: string) => ({ type: 'ExpireExemption', actor: scheduler, userId, version, now }) as const;

describe('ExemptMember', () => {
  it('exempts a member for support and for an admin of the organisation, with a version', () => {
    org().when(exempt(support, 'bob', later(30))).thenEvents([exempted('bob', later(30), 1)]);
    org().when(exempt(alice, 'bob', later(30))).thenEvents([exempted('bob', later(30), 1)]);
  });

  it('refuses the platform, a plain member and an admin of another organisation, before anything else', () => {
    for (const actor of [platform, bob, { id: 'mallory', roles: [] }, { id: 'auditor', roles: ['auditor'] }] as Actor[]) {
      org().when(exempt(actor, 'bob', later(30))).thenError({ kind: 'forbidden', code: 'not_support_or_organisation_admin' });
    }
    org([]).when(exempt(platform, 'bob', later(30))).thenError({ kind: 'forbidden', code: 'not_support_or_organisation_admin' });
  });

  it('refuses an admin exempting themself; another admin or support may', () => {
    const twoAdmins = [...acme(), { type: 'MemberRoleChanged', data: { userId: 'bob', from: 'member', to: 'admin' } } as OrganisationEvent];
    org(twoAdmins).when(exempt(alice, 'alice', later(30))).thenError({ kind: 'forbidden', code: 'self_exemption' });
    org(twoAdmins).when(exempt(bob, 'alice', later(30))).thenEvents([exempted('alice', later(30), 1)]);
    org(twoAdmins).when(exempt(support, 'alice', later(30))).thenEvents([exempted('alice', later(30), 1)]);
  });

  it('answers an unknown organisation and a non-member with not found', () => {
    org([]).when(exempt(support, 'bob', later(30))).thenError({ kind: 'not_found', code: 'organisation_not_found' });
    org().when(exempt(support, 'stranger', later(30))).thenError({ kind: 'not_found', code: 'membership_not_found' });
    org([...acme(), left('bob')]).when(exempt(alice, 'bob', later(30))).thenError({ kind: 'not_found', code: 'membership_not_found' });
  });

  it('refuses an `until` in the past, now itself, beyond 90 days, or not an instant', () => {
    org().when(exempt(support, 'bob', later(-1))).thenError({ kind: 'invalid', code: 'until_not_in_future' });
    org().when(exempt(support, 'bob', NOW)).thenError({ kind: 'invalid', code: 'until_not_in_future' });
    org().when(exempt(support, 'bob', new Date(Date.parse(NOW) + 90 * DAY + 1).toISOString())).thenError({ kind: 'invalid', code: 'until_too_far' });
    org().when(exempt(support, 'bob', 'next tuesday')).thenError({ kind: 'invalid', code: 'invalid_until' });
    org().when(exempt(support, 'bob', null)).thenError({ kind: 'invalid', code: 'invalid_until' });
    org().when(exempt(support, 'bob', later(90))).thenEvents([exempted('bob', later(90), 1)]);
  });

  it('requires a reason of 1-500 printable characters, recorded trimmed', () => {
    for (const reason of ['', '   ', 'x'.repeat(501), 'line\nbreak', null, 42]) {
      org().when(exempt(support, 'bob', later(30), reason)).thenError({ kind: 'invalid', code: 'invalid_reason' });
    }
    org().when(exempt(support, 'bob', later(30), '  Lost phone, new one on order ')).thenEvents([exempted('bob', later(30), 1, 'Lost phone, new one on order')]);
  });

  it('records `until` as a UTC instant', () => {
    org().when(exempt(support, 'bob', '2026-03-10T12:00:00+02:00')).thenEvents([exempted('bob', '2026-03-10T10:00:00.000Z', 1)]);
  });

  it('replaces an exemption with a new version, and repeating the same one changes nothing', () => {
    const history = [...acme(), exempted('bob', later(10), 1)];
    org(history).when(exempt(alice, 'bob', later(20))).thenEvents([exempted('bob', later(20), 2)]);
    org(history).when(exempt(alice, 'bob', later(10))).thenNothingHappens();
    const then = org([...history, exempted('carol', later(5), 2)]).when(exempt(alice, 'bob', later(20)));
    then.thenEvents([exempted('bob', later(20), 3)]);
    expect(exemptionOf(then.stateAfter(), 'bob')).toEqual({ reason: 'On parental leave', until: later(20), version: 3 });
  });

  it('never reuses a version, even after the exemptions it numbered ended', () => {
    org([...acme(), exempted('bob', later(10), 1), ended('bob', 1, 'revoked')]).when(exempt(alice, 'bob', later(10))).thenEvents([exempted('bob', later(10), 2)]);
  });
});

describe('EndExemption', () => {
  const history = [...acme(), exempted('bob', later(10), 1)];

  it('ends an exemption early for support or an admin, with an optional note', () => {
    org(history).when({ type: 'EndExemption', actor: alice, userId: 'bob', reason: '  Back from leave ' }).thenEvents([ended('bob', 1, 'revoked', 'Back from leave')]);
    const then = org(history).when({ type: 'EndExemption', actor: support, userId: 'bob', reason: null });
    then.thenEvents([ended('bob', 1, 'revoked')]);
    expect(exemptionOf(then.stateAfter(), 'bob')).toBeNull();
  });

  it('does nothing for a member who is not exempt; refuses others and non-members', () => {
    org(history).when({ type: 'EndExemption', actor: alice, userId: 'carol', reason: null }).thenNothingHappens();
    org(history).when({ type: 'EndExemption', actor: platform, userId: 'bob', reason: null }).thenError({ kind: 'forbidden', code: 'not_support_or_organisation_admin' });
    org(history).when({ type: 'EndExemption', actor: bob, userId: 'bob', reason: null }).thenError({ kind: 'forbidden', code: 'not_support_or_organisation_admin' });
    org(history).when({ type: 'EndExemption', actor: alice, userId: 'nobody', reason: null }).thenError({ kind: 'not_found', code: 'membership_not_found' });
  });
});

describe('ExpireExemption (the scheduler)', () => {
  const history = [...acme(), exempted('bob', later(10), 1)];

  it('ends the exemption once `until` has passed, exactly once', () => {
    const then = org(history).when(expire('bob', 1, later(10)));
    then.thenEvents([ended('bob', 1, 'expired')]);
    given(organisationDecider, [...history, ended('bob', 1, 'expired')]).when(expire('bob', 1, later(11))).thenNothingHappens();
  });

  it('refuses to expire early, so the job runs again', () => {
    org(history).when(expire('bob', 1, later(9))).thenError({ kind: 'conflict', code: 'exemption_not_due' });
  });

  it('decides nothing for a stale job: a replaced, revoked or never granted exemption', () => {
    org([...history, exempted('bob', later(20), 2)]).when(expire('bob', 1, later(10))).thenNothingHappens();
    org([...history, ended('bob', 1, 'revoked')]).when(expire('bob', 1, later(10))).thenNothingHappens();
    org(acme()).when(expire('carol', 7, later(10))).thenNothingHappens();
  });

  it('is for the scheduler only', () => {
    for (const actor of [support, alice, platform]) {
      org(history).when({ ...expire('bob', 1, later(10)), actor }).thenError({ kind: 'forbidden', code: 'scheduler_only' });
    }
  });

  it('expires while the organisation switches mode: the mode change and the expiry are independent events', () => {
    const switched = [...history, modeChanged('hard', 'soft')];
    const then = org(switched).when(expire('bob', 1, later(10)));
    then.thenEvents([ended('bob', 1, 'expired')]);
    expect(then.stateAfter()).toMatchObject({ mode: 'soft' });
    // And the mode can change right after the expiry, with nobody exempt any more.
    const after = org([...switched, ended('bob', 1, 'expired')]).when({ type: 'ChangeEnforcementMode', actor: alice, mode: 'hard', reason: null });
    after.thenEvents([modeChanged('soft', 'hard')]);
    expect(exemptionOf(after.stateAfter(), 'bob')).toBeNull();
  });

  it('keeps the exemption through a Xero connection (the mode may not be off, the member is still exempt)', () => {
    const onXero = [...acme().slice(0, 4), exempted('bob', later(10), 1), { type: 'OrgConnectedToXero', data: { tenantId: 't' } } as OrganisationEvent, modeChanged('off', 'soft', XERO_ENFORCEMENT_REASON)];
    expect(exemptionOf(org(onXero).state, 'bob')).toMatchObject({ version: 1 });
  });
});

describe('leaving ends the exemption', () => {
  const history = [...acme(), exempted('bob', later(10), 1)];

  it('records the end (reason left) just before the departure', () => {
    org(history).when({ type: 'RemoveMember', actor: alice, userId: 'bob' }).thenEvents([ended('bob', 1, 'left'), left('bob')]);
    org(history).when({ type: 'RemoveMember', actor: alice, userId: 'carol' }).thenEvents([left('carol')]);
  });

  it('does so in a sync that removes the member too', () => {
    const then = org(history).when({
      type: 'SyncMembers',
      actor: platform,
      members: [{ userId: 'alice', role: 'admin' }, { userId: 'carol', role: 'member' }],
      removeOthers: true,
      unregisteredUserIds: [],
      forgottenUserIds: [],
    });
    then.thenEvents([ended('bob', 1, 'left'), left('bob')]);
  });

  it('carries no exemption over when the member joins again, and the old job stays stale', () => {
    const rejoined = [...history, ended('bob', 1, 'left'), left('bob'), joined('bob')];
    const state = org(rejoined).state;
    expect(exemptionOf(state, 'bob')).toBeNull();
    org(rejoined).when(expire('bob', 1, later(10))).thenNothingHappens();
    org(rejoined).when(exempt(alice, 'bob', later(5))).thenEvents([exempted('bob', later(5), 2)]);
  });

  it('drops the exemption even from a history whose departure has no explicit end', () => {
    const state = org([...history, left('bob'), joined('bob')]).state;
    expect(exemptionOf(state, 'bob')).toBeNull();
  });
});
