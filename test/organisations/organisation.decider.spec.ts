import { describe, expect, it } from '@jest/globals';
import type { Actor } from '../../src/kernel/event-envelope.js';
import { isDomainError } from '../../src/kernel/domain-error.js';
import type { OrganisationCommand } from '../../src/organisations/organisation.commands.js';
import {
  adminIds,
  isAdmin,
  MAX_SYNCED_MEMBERS,
  organisationDecider,
  organisationStream,
  roleOf,
  XERO_ENFORCEMENT_REASON,
  type OrganisationState,
} from '../../src/organisations/organisation.decider.js';
import type { EnforcementMode, MemberRole, OrganisationEvent } from '../../src/organisations/organisation.events.js';
import { PersistentMap } from '../../src/kernel/persistent-map.js';
import { given } from '../support/given-when-then.js';

const platform: Actor = { id: 'host-platform', roles: ['platform'] };
const user = (id: string, roles: readonly string[] = []): Actor => ({ id, roles });
const alice = user('alice');
const bob = user('bob');
const carol = user('carol');

const registered = (name = 'Acme Ltd'): OrganisationEvent => ({ type: 'OrganisationRegistered', data: { orgId: 'acme', name } });
const connected = (tenantId = 'tenant-1'): OrganisationEvent => ({ type: 'OrgConnectedToXero', data: { tenantId } });
const disconnected = (tenantId = 'tenant-1'): OrganisationEvent => ({ type: 'OrgDisconnectedFromXero', data: { tenantId } });
const modeChanged = (from: EnforcementMode, to: EnforcementMode, reason: string | null = null): OrganisationEvent => ({
  type: 'EnforcementModeChanged',
  data: { from, to, reason },
});
const joined = (userId: string, role: MemberRole): OrganisationEvent => ({ type: 'MemberJoinedOrg', data: { userId, role } });
const roleChanged = (userId: string, from: MemberRole, to: MemberRole): OrganisationEvent => ({
  type: 'MemberRoleChanged',
  data: { userId, from, to },
});
const left = (userId: string): OrganisationEvent => ({ type: 'MemberLeftOrg', data: { userId } });

/** Acme with alice as its only admin and bob as a plain member. */
const acme = (): OrganisationEvent[] => [registered(), joined('alice', 'admin'), joined('bob', 'member')];
const acmeOnXero = (): OrganisationEvent[] => [...acme(), connected(), modeChanged('off', 'soft', XERO_ENFORCEMENT_REASON)];

const org = (history: readonly OrganisationEvent[] = []) => given(organisationDecider, history);

describe('RegisterOrganisation', () => {
  it('registers an organisation for the platform, starting with enforcement off and no Xero', () => {
    const then = org().when({ type: 'RegisterOrganisation', actor: platform, orgId: 'acme', name: 'Acme Ltd' });
    then.thenEvents([registered()]);
    expect(then.stateAfter()).toEqual({
      status: 'registered',
      orgId: 'acme',
      name: 'Acme Ltd',
      mode: 'off',
      xero: null,
      members: PersistentMap.empty(),
      escalation: null,
      graceDays: 0,
      tenure: PersistentMap.empty(),
    });
  });

  it('records the name trimmed', () => {
    org().when({ type: 'RegisterOrganisation', actor: platform, orgId: 'acme', name: '  Acme Ltd \t' }).thenEvents([registered()]);
  });

  it('refuses anyone but the platform, even a caller claiming an admin role', () => {
    for (const actor of [alice, user('alice', ['admin']), user('sam', ['support', 'operator', 'auditor'])]) {
      org().when({ type: 'RegisterOrganisation', actor, orgId: 'acme', name: 'Acme' }).thenError({ kind: 'forbidden', code: 'platform_only' });
    }
  });

  it('refuses a duplicate registration', () => {
    org([registered()])
      .when({ type: 'RegisterOrganisation', actor: platform, orgId: 'acme', name: 'Acme again' })
      .thenError({ kind: 'conflict', code: 'organisation_already_registered' });
  });

  it.each(['', '   ', 'x'.repeat(201), 'Acme\nLtd', 'Acme\u0000'])('refuses the invalid name %j', (name) => {
    org().when({ type: 'RegisterOrganisation', actor: platform, orgId: 'acme', name }).thenError({ kind: 'invalid', code: 'invalid_name' });
  });

  it.each(['', 'has space', '-leading', 'a/b', 'x'.repeat(129)])('refuses the invalid organisation id %j', (orgId) => {
    org()
      .when({ type: 'RegisterOrganisation', actor: platform, orgId, name: 'Acme' })
      .thenError({ kind: 'invalid', code: 'invalid_organisation_id' });
  });
});

describe('commands on an unregistered organisation', () => {
  const commands = (actor: Actor): Array<[string, OrganisationCommand, string]> => [
    ['ConnectToXero', { type: 'ConnectToXero', actor, tenantId: 'tenant-1' }, 'platform_only'],
    ['DisconnectFromXero', { type: 'DisconnectFromXero', actor }, 'platform_only'],
    ['ChangeEnforcementMode', { type: 'ChangeEnforcementMode', actor, mode: 'hard' }, 'not_organisation_admin'],
    ['SetMember', { type: 'SetMember', actor, userId: 'alice', role: 'admin' }, 'not_organisation_admin'],
    ['RemoveMember', { type: 'RemoveMember', actor, userId: 'alice' }, 'not_organisation_admin'],
  ];

  it.each(commands(platform))('%s from the platform is not_found', (_type, command) => {
    org().when(command).thenError({ kind: 'not_found', code: 'organisation_not_found' });
  });

  it.each(commands(alice))('%s from anyone else is forbidden, revealing nothing about existence', (_type, command, code) => {
    org().when(command).thenError({ kind: 'forbidden', code });
  });
});

describe('ConnectToXero', () => {
  it('switches an organisation whose mode is off to soft, saying the Xero connection did it', () => {
    const then = org(acme()).when({ type: 'ConnectToXero', actor: platform, tenantId: 'tenant-1' });
    then.thenEvents([connected(), modeChanged('off', 'soft', XERO_ENFORCEMENT_REASON)]);
    expect(XERO_ENFORCEMENT_REASON).toMatch(/Xero/);
    expect(then.stateAfter()).toMatchObject({ mode: 'soft', xero: { tenantId: 'tenant-1' } });
  });

  it.each<EnforcementMode>(['soft', 'hard'])('keeps the mode %s and only records the connection', (mode) => {
    const then = org([...acme(), modeChanged('off', mode)]).when({ type: 'ConnectToXero', actor: platform, tenantId: 'tenant-1' });
    then.thenEvents([connected()]);
    expect(then.stateAfter()).toMatchObject({ mode, xero: { tenantId: 'tenant-1' } });
  });

  it('does nothing when connected to the same tenant again', () => {
    org(acmeOnXero()).when({ type: 'ConnectToXero', actor: platform, tenantId: 'tenant-1' }).thenNothingHappens();
  });

  it('refuses a different tenant while connected', () => {
    org(acmeOnXero())
      .when({ type: 'ConnectToXero', actor: platform, tenantId: 'tenant-2' })
      .thenError({ kind: 'conflict', code: 'xero_connected_to_other_tenant' });
  });

  it('connects to another tenant after a disconnection', () => {
    org([...acmeOnXero(), disconnected()]).when({ type: 'ConnectToXero', actor: platform, tenantId: 'tenant-2' }).thenEvents([connected('tenant-2')]);
  });

  it('refuses an org admin: Xero connections are reported by the platform', () => {
    org(acme()).when({ type: 'ConnectToXero', actor: alice, tenantId: 'tenant-1' }).thenError({ kind: 'forbidden', code: 'platform_only' });
  });

  it('refuses an invalid tenant id', () => {
    org(acme()).when({ type: 'ConnectToXero', actor: platform, tenantId: 'not a tenant' }).thenError({ kind: 'invalid', code: 'invalid_tenant_id' });
  });
});

describe('DisconnectFromXero', () => {
  it('records the disconnection and keeps the current mode', () => {
    const then = org([...acmeOnXero(), modeChanged('soft', 'hard')]).when({ type: 'DisconnectFromXero', actor: platform });
    then.thenEvents([disconnected()]);
    expect(then.stateAfter()).toMatchObject({ mode: 'hard', xero: null });
  });

  it('does nothing when not connected', () => {
    org(acme()).when({ type: 'DisconnectFromXero', actor: platform }).thenNothingHappens();
  });

  it('refuses anyone but the platform', () => {
    org(acmeOnXero()).when({ type: 'DisconnectFromXero', actor: alice }).thenError({ kind: 'forbidden', code: 'platform_only' });
  });

  it('lets the admin turn enforcement off once disconnected', () => {
    org([...acmeOnXero(), disconnected()])
      .when({ type: 'ChangeEnforcementMode', actor: alice, mode: 'off', reason: 'Left Xero' })
      .thenEvents([modeChanged('soft', 'off', 'Left Xero')]);
  });
});

describe('ChangeEnforcementMode', () => {
  it('lets the platform choose a mode; the reason is null when omitted', () => {
    org(acme()).when({ type: 'ChangeEnforcementMode', actor: platform, mode: 'soft' }).thenEvents([modeChanged('off', 'soft', null)]);
  });

  it('lets an admin of this organisation choose a mode, with a trimmed reason', () => {
    const then = org(acme()).when({ type: 'ChangeEnforcementMode', actor: alice, mode: 'hard', reason: ' audit finding ' });
    then.thenEvents([modeChanged('off', 'hard', 'audit finding')]);
    expect(then.stateAfter()).toMatchObject({ mode: 'hard' });
  });

  it('records a blank reason as null', () => {
    org(acme()).when({ type: 'ChangeEnforcementMode', actor: alice, mode: 'soft', reason: '   ' }).thenEvents([modeChanged('off', 'soft', null)]);
  });

  it('refuses a plain member', () => {
    org(acme())
      .when({ type: 'ChangeEnforcementMode', actor: bob, mode: 'off' })
      .thenError({ kind: 'forbidden', code: 'not_organisation_admin' });
  });

  it('refuses an admin of another organisation and any token claim but platform', () => {
    // carol administers "globex"; in acme's own history she is nobody.
    const globex = given(organisationDecider, [registered('Globex'), joined('carol', 'admin')]);
    expect(isAdmin(globex.state, 'carol')).toBe(true);
    for (const actor of [carol, user('carol', ['admin']), user('sam', ['support']), user('ops', ['operator', 'auditor'])]) {
      org(acme())
        .when({ type: 'ChangeEnforcementMode', actor, mode: 'hard' })
        .thenError({ kind: 'forbidden', code: 'not_organisation_admin' });
    }
  });

  it('refuses a former admin, judged by the history rather than what they once were', () => {
    const history = [...acme(), joined('carol', 'admin'), roleChanged('alice', 'admin', 'member')];
    org(history).when({ type: 'ChangeEnforcementMode', actor: alice, mode: 'hard' }).thenError({ kind: 'forbidden', code: 'not_organisation_admin' });
    const afterLeaving = [...acme(), joined('carol', 'admin'), left('alice')];
    org(afterLeaving).when({ type: 'ChangeEnforcementMode', actor: alice, mode: 'hard' }).thenError({ kind: 'forbidden', code: 'not_organisation_admin' });
  });

  it('refuses off while connected to Xero, with a clear message', () => {
    for (const actor of [alice, platform]) {
      const error = org(acmeOnXero())
        .when({ type: 'ChangeEnforcementMode', actor, mode: 'off' })
        .thenError({ kind: 'conflict', code: 'xero_requires_enforcement' });
      expect(error.message).toMatch(/Xero/);
    }
  });

  it('allows hard while connected to Xero', () => {
    org(acmeOnXero()).when({ type: 'ChangeEnforcementMode', actor: alice, mode: 'hard' }).thenEvents([modeChanged('soft', 'hard')]);
  });

  it.each<[EnforcementMode, OrganisationEvent[]]>([
    ['off', acme()],
    ['soft', acmeOnXero()],
    ['hard', [...acme(), modeChanged('off', 'hard')]],
  ])('does nothing when the mode is already %s', (mode, history) => {
    org(history).when({ type: 'ChangeEnforcementMode', actor: alice, mode }).thenNothingHappens();
  });

  it('refuses an unknown mode', () => {
    org(acme())
      .when({ type: 'ChangeEnforcementMode', actor: alice, mode: 'strict' as EnforcementMode })
      .thenError({ kind: 'invalid', code: 'invalid_mode' });
  });

  it('refuses an overlong reason', () => {
    org(acme())
      .when({ type: 'ChangeEnforcementMode', actor: alice, mode: 'soft', reason: 'x'.repeat(501) })
      .thenError({ kind: 'invalid', code: 'invalid_reason' });
  });
});

describe('SetMember', () => {
  it('lets the platform add the first admin', () => {
    const then = org([registered()]).when({ type: 'SetMember', actor: platform, userId: 'alice', role: 'admin' });
    then.thenEvents([joined('alice', 'admin')]);
    expect(isAdmin(then.stateAfter(), 'alice')).toBe(true);
  });

  it('lets the platform add a member to an organisation that has admins', () => {
    org(acme()).when({ type: 'SetMember', actor: platform, userId: 'carol', role: 'member' }).thenEvents([joined('carol', 'member')]);
  });

  it('refuses an admin adding a non-member with members_added_by_platform, whoever the user is', () => {
    // carol, a user who never existed and a former member all get the same answer: the decider
    // sees only this organisation's history, so the answer cannot depend on who the user is.
    const history = [...acme(), joined('dave', 'member'), left('dave')];
    for (const userId of ['carol', 'never-registered', 'dave']) {
      for (const role of ['member', 'admin'] as const) {
        const error = org(history).when({ type: 'SetMember', actor: alice, userId, role }).thenError({ kind: 'forbidden', code: 'members_added_by_platform' });
        expect(error.message).not.toContain(userId);
        expect(error.details).toEqual({});
      }
    }
  });

  it('refuses a plain member or an outsider adding a user as not_organisation_admin', () => {
    for (const actor of [bob, carol, user('sam', ['support'])]) {
      org(acme()).when({ type: 'SetMember', actor, userId: 'dave', role: 'member' }).thenError({ kind: 'forbidden', code: 'not_organisation_admin' });
    }
  });

  it('lets an admin demote another admin', () => {
    org([...acme(), joined('carol', 'admin')]).when({ type: 'SetMember', actor: alice, userId: 'carol', role: 'member' }).thenEvents([roleChanged('carol', 'admin', 'member')]);
  });

  it('lets an admin promote a member', () => {
    org(acme()).when({ type: 'SetMember', actor: alice, userId: 'bob', role: 'admin' }).thenEvents([roleChanged('bob', 'member', 'admin')]);
  });

  it('refuses a plain member, even promoting themselves', () => {
    org(acme()).when({ type: 'SetMember', actor: bob, userId: 'bob', role: 'admin' }).thenError({ kind: 'forbidden', code: 'not_organisation_admin' });
  });

  it('does nothing when the role is unchanged', () => {
    org(acme()).when({ type: 'SetMember', actor: alice, userId: 'bob', role: 'member' }).thenNothingHappens();
  });

  it('refuses to demote the only admin, whoever asks', () => {
    for (const actor of [alice, platform]) {
      org(acme()).when({ type: 'SetMember', actor, userId: 'alice', role: 'member' }).thenError({ kind: 'conflict', code: 'last_admin' });
    }
  });

  it('lets an admin step down when another admin remains', () => {
    const then = org([...acme(), joined('carol', 'admin')]).when({ type: 'SetMember', actor: alice, userId: 'alice', role: 'member' });
    then.thenEvents([roleChanged('alice', 'admin', 'member')]);
    expect(adminIds(then.stateAfter())).toEqual(['carol']);
  });

  it('refuses an unknown role', () => {
    org(acme())
      .when({ type: 'SetMember', actor: alice, userId: 'carol', role: 'owner' as MemberRole })
      .thenError({ kind: 'invalid', code: 'invalid_role' });
  });

  it('refuses an invalid user id', () => {
    org(acme()).when({ type: 'SetMember', actor: alice, userId: '../x', role: 'member' }).thenError({ kind: 'invalid', code: 'invalid_user_id' });
  });

  it('treats user ids that name Object.prototype members as ordinary ids', () => {
    const state = org(acme()).state;
    expect(roleOf(state, 'constructor')).toBeNull();
    expect(isAdmin(state, 'toString')).toBe(false);
    org(acme()).when({ type: 'SetMember', actor: platform, userId: 'constructor', role: 'member' }).thenEvents([joined('constructor', 'member')]);
    org(acme()).when({ type: 'SetMember', actor: alice, userId: 'constructor', role: 'member' }).thenError({ kind: 'forbidden', code: 'members_added_by_platform' });
    org(acme()).when({ type: 'RemoveMember', actor: alice, userId: 'hasOwnProperty' }).thenError({ kind: 'not_found', code: 'membership_not_found' });
  });
});

describe('RemoveMember', () => {
  it('lets an admin remove a member', () => {
    const then = org(acme()).when({ type: 'RemoveMember', actor: alice, userId: 'bob' });
    then.thenEvents([left('bob')]);
    expect(roleOf(then.stateAfter(), 'bob')).toBeNull();
  });

  it('lets the platform remove members before the organisation has any admin', () => {
    org([registered(), joined('bob', 'member')]).when({ type: 'RemoveMember', actor: platform, userId: 'bob' }).thenEvents([left('bob')]);
  });

  it('reports a non-member as membership_not_found, to the admin and the platform alike', () => {
    for (const actor of [alice, platform]) {
      for (const userId of ['carol', 'never-registered']) {
        const error = org(acme()).when({ type: 'RemoveMember', actor, userId }).thenError({ kind: 'not_found', code: 'membership_not_found' });
        expect(error.message).not.toContain(userId);
      }
    }
  });

  it('refuses to remove the only admin, whoever asks', () => {
    for (const actor of [alice, platform]) {
      org(acme()).when({ type: 'RemoveMember', actor, userId: 'alice' }).thenError({ kind: 'conflict', code: 'last_admin' });
    }
  });

  it('lets an admin leave when another admin remains', () => {
    org([...acme(), joined('carol', 'admin')]).when({ type: 'RemoveMember', actor: alice, userId: 'alice' }).thenEvents([left('alice')]);
  });

  it('refuses a plain member, even removing themselves', () => {
    org(acme()).when({ type: 'RemoveMember', actor: bob, userId: 'bob' }).thenError({ kind: 'forbidden', code: 'not_organisation_admin' });
  });
});

describe('SyncMembers', () => {
  type Listed = ReadonlyArray<readonly [string, MemberRole]>;
  const sync = (actor: Actor, members: Listed, removeOthers = false, lookups: { unregistered?: string[]; forgotten?: string[] } = {}): OrganisationCommand => ({
    type: 'SyncMembers',
    actor,
    members: members.map(([userId, role]) => ({ userId, role })),
    removeOthers,
    unregisteredUserIds: lookups.unregistered ?? [],
    forgottenUserIds: lookups.forgotten ?? [],
  });

  it('lets only the platform sync, refusing admins and staff before anything else', () => {
    for (const actor of [alice, user('alice', ['admin']), user('sam', ['support', 'operator', 'auditor'])]) {
      org(acme()).when(sync(actor, [['carol', 'member']])).thenError({ kind: 'forbidden', code: 'platform_only' });
      org().when(sync(actor, [['carol', 'member']])).thenError({ kind: 'forbidden', code: 'platform_only' });
    }
    org().when(sync(platform, [['carol', 'member']])).thenError({ kind: 'not_found', code: 'organisation_not_found' });
  });

  it('appends only the differences: joins, then promotions, then demotions, then departures', () => {
    const history = [...acme(), joined('carol', 'member'), joined('dave', 'admin')];
    const then = org(history).when(sync(platform, [['alice', 'member'], ['bob', 'admin'], ['erin', 'member'], ['frank', 'admin'], ['dave', 'admin']], true));
    then.thenEvents([joined('erin', 'member'), joined('frank', 'admin'), roleChanged('bob', 'member', 'admin'), roleChanged('alice', 'admin', 'member'), left('carol')]);
    const after = then.stateAfter();
    expect(['alice', 'bob', 'carol', 'dave', 'erin', 'frank'].map((id) => roleOf(after, id))).toEqual(['member', 'admin', null, 'admin', 'member', 'admin']);
  });

  it('keeps unlisted members unless removeOthers is set', () => {
    org(acme()).when(sync(platform, [['carol', 'member']])).thenEvents([joined('carol', 'member')]);
    org(acme()).when(sync(platform, [['alice', 'admin']], true)).thenEvents([left('bob')]);
  });

  it('does nothing when the membership already is the list, in any order', () => {
    org(acme()).when(sync(platform, [['bob', 'member'], ['alice', 'admin']], true)).thenNothingHappens();
    org(acme()).when(sync(platform, [], false)).thenNothingHappens();
  });

  it('refuses a list that would leave an organisation with admins without one, whichever way', () => {
    org(acme()).when(sync(platform, [['bob', 'member']], true)).thenError({ kind: 'conflict', code: 'last_admin' });
    org(acme()).when(sync(platform, [['alice', 'member']])).thenError({ kind: 'conflict', code: 'last_admin' });
    org(acme()).when(sync(platform, [], true)).thenError({ kind: 'conflict', code: 'last_admin' });
  });

  it('hands the admin role over in one sync, the new admin appointed before the old one steps down', () => {
    org(acme())
      .when(sync(platform, [['alice', 'member'], ['bob', 'admin']], true))
      .thenEvents([roleChanged('bob', 'member', 'admin'), roleChanged('alice', 'admin', 'member')]);
  });

  it('lets an organisation that never had an admin stay without one', () => {
    org([registered(), joined('bob', 'member')]).when(sync(platform, [['carol', 'member']], true)).thenEvents([joined('carol', 'member'), left('bob')]);
  });

  it('refuses unknown and forgotten users with 422, listing them, and appends nothing', () => {
    const error = org(acme())
      .when(sync(platform, [['carol', 'member'], ['ghost', 'member'], ['gone', 'admin']], true, { unregistered: ['ghost'], forgotten: ['gone'] }))
      .thenError({ kind: 'unprocessable', code: 'unknown_users' });
    expect(error.details).toEqual({ unknownUserIds: ['ghost'], forgottenUserIds: ['gone'] });
  });

  it('refuses duplicate users, invalid ids and roles, and more than the maximum', () => {
    org(acme()).when(sync(platform, [['carol', 'member'], ['carol', 'admin']])).thenError({ kind: 'invalid', code: 'duplicate_user_id' });
    org(acme()).when(sync(platform, [['../x', 'member']])).thenError({ kind: 'invalid', code: 'invalid_user_id' });
    org(acme()).when(sync(platform, [['carol', 'owner' as MemberRole]])).thenError({ kind: 'invalid', code: 'invalid_role' });
    const tooMany = Array.from({ length: MAX_SYNCED_MEMBERS + 1 }, (_, i) => [`user-${i}`, 'member'] as const);
    org(acme()).when(sync(platform, tooMany)).thenError({ kind: 'invalid', code: 'too_many_members' });
    const most = Array.from({ length: MAX_SYNCED_MEMBERS }, (_, i) => [`user-${i}`, 'member'] as const);
    expect(org(acme()).when(sync(platform, most)).result).toHaveLength(MAX_SYNCED_MEMBERS);
  });
});

describe('selectors and evolution', () => {
  it('names the stream organisation-<id>', () => {
    expect(organisationStream('acme')).toBe('organisation-acme');
  });

  it('answers isAdmin from the folded history', () => {
    const state = org([...acme(), roleChanged('bob', 'member', 'admin'), left('alice')]).state;
    expect([isAdmin(state, 'alice'), isAdmin(state, 'bob'), isAdmin(state, 'carol')]).toEqual([false, true, false]);
    expect(isAdmin(organisationDecider.initialState, 'alice')).toBe(false);
  });

  it('never mutates an earlier state, so states as of past instants stay correct', () => {
    const before = org(acme()).state;
    organisationDecider.evolve(before, left('bob'));
    expect(roleOf(before, 'bob')).toBe('member');
  });

  it('ignores events that cannot apply instead of making history unreadable', () => {
    expect(organisationDecider.evolve(organisationDecider.initialState, joined('alice', 'admin'))).toEqual({ status: 'unregistered' });
  });
});

// ---------------------------------------------------------------------------------------------
// Property: whatever sequence of commands arrives, a Xero-connected organisation never has mode
// 'off', a once-administered organisation never loses its last admin, only the platform or a
// current admin ever changes anything, and only the platform ever brings a user in.

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomCommand(next: () => number): OrganisationCommand {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const actor = pick([platform, platform, alice, bob, carol, user('dave'), user('eve', ['admin'])]);
  const userId = pick(['alice', 'bob', 'carol', 'dave']);
  switch (pick(['register', 'connect', 'disconnect', 'mode', 'mode', 'set', 'set', 'remove', 'sync'] as const)) {
    case 'register':
      return { type: 'RegisterOrganisation', actor, orgId: 'acme', name: 'Acme' };
    case 'connect':
      return { type: 'ConnectToXero', actor, tenantId: pick(['tenant-1', 'tenant-2']) };
    case 'disconnect':
      return { type: 'DisconnectFromXero', actor };
    case 'mode':
      return { type: 'ChangeEnforcementMode', actor, mode: pick(['off', 'soft', 'hard'] as const) };
    case 'set':
      return { type: 'SetMember', actor, userId, role: pick(['admin', 'member'] as const) };
    case 'remove':
      return { type: 'RemoveMember', actor, userId };
    case 'sync': {
      const members = ['alice', 'bob', 'carol', 'dave'].filter(() => next() < 0.5).map((id) => ({ userId: id, role: pick(['admin', 'member'] as const) }));
      return { type: 'SyncMembers', actor, members, removeOthers: next() < 0.5, unregisteredUserIds: [], forgottenUserIds: [] };
    }
  }
}

function mayChange(command: OrganisationCommand, state: OrganisationState): boolean {
  if (command.actor.roles.includes('platform')) return true;
  const platformOnly = ['RegisterOrganisation', 'ConnectToXero', 'DisconnectFromXero', 'SyncMembers'].includes(command.type);
  return !platformOnly && isAdmin(state, command.actor.id);
}

/** Only the platform brings a user into an organisation. */
function joinsOnlyByPlatform(command: OrganisationCommand, events: readonly OrganisationEvent[]): boolean {
  return command.actor.roles.includes('platform') || !events.some((e) => e.type === 'MemberJoinedOrg');
}

describe('organisation invariants under random command sequences', () => {
  it('hold for 300 seeded sequences of 60 commands', () => {
    const seen = { connectedFromOff: 0, offRefusedOnXero: 0, lastAdminRefused: 0, adminChanges: 0, adminAddRefused: 0, syncs: 0 };
    for (let seed = 1; seed <= 300; seed++) {
      const next = mulberry32(seed);
      let state: OrganisationState = organisationDecider.initialState;
      let everHadAdmin = false;
      for (let step = 0; step < 60; step++) {
        const command = randomCommand(next);
        const decision = organisationDecider.decide(command, state);
        if (isDomainError(decision)) {
          if (decision.code === 'xero_requires_enforcement') seen.offRefusedOnXero++;
          if (decision.code === 'last_admin') seen.lastAdminRefused++;
          if (decision.code === 'members_added_by_platform') seen.adminAddRefused++;
          continue;
        }
        if (decision.length > 0) {
          expect({ seed, step, command: command.type, allowed: mayChange(command, state), joinsOnlyByPlatform: joinsOnlyByPlatform(command, decision) }).toMatchObject({ allowed: true, joinsOnlyByPlatform: true });
          if (!command.actor.roles.includes('platform')) seen.adminChanges++;
          if (command.type === 'SyncMembers') seen.syncs++;
        }
        if (decision.some((e) => e.type === 'EnforcementModeChanged' && e.data.reason === XERO_ENFORCEMENT_REASON)) seen.connectedFromOff++;
        state = decision.reduce(organisationDecider.evolve, state);
        const connectedAndOff = state.status === 'registered' && state.xero !== null && state.mode === 'off';
        everHadAdmin ||= adminIds(state).length > 0;
        expect({ seed, step, connectedAndOff, adminless: everHadAdmin && adminIds(state).length === 0 }).toEqual({
          seed,
          step,
          connectedAndOff: false,
          adminless: false,
        });
      }
    }
    // The property is only meaningful if the random walk actually reached the interesting states.
    for (const count of Object.values(seen)) expect(count).toBeGreaterThan(0);
  });
});
