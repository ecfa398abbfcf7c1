import { startHarness, type Harness, type JsonResponse } from '../support/http-harness.js';
import { commandEventsSince, enableTwoFactor, expectCommandAnswer, expectProblem, registerOrg, registerUser, setMember, streamLength, uniqueId } from './http-steps.js';

describe('HTTP organisations', () => {
  let h: Harness;
  let platform: string;

  beforeAll(async () => {
    h = await startHarness();
    platform = await h.token('host-platform', 'platform');
  });
  afterAll(() => h.dispose());

  /**
   * A refused command must leave the whole store untouched, not only its own stream. The scheduler
   * keeps sending reminders for earlier tests' organisations meanwhile; those are not the command's.
   */
  async function expectNothingAppended(stream: string, refused: () => Promise<JsonResponse>): Promise<JsonResponse> {
    const store = h.service.runtime.eventStore;
    const headBefore = await store.headPosition();
    const lengthBefore = await streamLength(h, stream);
    const response = await refused();
    // So do security notices (NoticeSent) of earlier tests' changes, and the admins' digest.
    expect(await commandEventsSince(h, headBefore)).toEqual([]);
    expect(await streamLength(h, stream)).toBe(lengthBefore);
    return response;
  }

  async function orgView(orgId: string, minPosition: string, token = platform): Promise<JsonResponse> {
    return h.call('GET', `/v1/organisations/${orgId}?minPosition=${minPosition}`, { token });
  }

  /** An organisation with an admin (whose token is returned) and a plain member. */
  async function orgWithAdmin(): Promise<{ orgId: string; adminId: string; admin: string; memberId: string; member: string }> {
    const orgId = await registerOrg(h, platform, 'Admin Org');
    const adminId = await registerUser(h, platform);
    const memberId = await registerUser(h, platform);
    expectCommandAnswer(await setMember(h, platform, orgId, adminId, 'admin'));
    expectCommandAnswer(await setMember(h, platform, orgId, memberId, 'member'));
    return { orgId, adminId, admin: await h.token(adminId), memberId, member: await h.token(memberId) };
  }

  describe('POST /v1/organisations', () => {
    it('registers an organisation that starts with enforcement off, answering revision and position', async () => {
      const id = uniqueId('org');
      const response = await h.call('POST', '/v1/organisations', { token: platform, body: { id, name: '  Acme Approvals  ' } });
      expect(response.status).toBe(201);
      expect(response.body).toEqual({ id, revision: 0, position: expect.stringMatching(/^\d+$/) });
      const view = await orgView(id, response.body.position);
      expect(view.status).toBe(200);
      expect(view.body).toMatchObject({ id, name: 'Acme Approvals', mode: 'off', xeroConnected: false, tenantId: null, modeLastChanged: null, members: { total: 0, withTwoFactor: 0, withoutTwoFactor: 0 } });
    });

    it('generates an id when none is given', async () => {
      const response = await h.call('POST', '/v1/organisations', { token: platform, body: { name: 'No Id Ltd' } });
      expect(response.status).toBe(201);
      expect(response.body.id).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('answers 400 for an invalid body, 401 without a token, 403 for a non-platform caller, appending nothing', async () => {
      const id = uniqueId('org');
      const stream = `organisation-${id}`;
      const invalid = await expectNothingAppended(stream, () => h.call('POST', '/v1/organisations', { token: platform, body: { id, name: '   ' } }));
      expectProblem(invalid, 400, 'invalid_request');
      expect(invalid.body.errors).toEqual([expect.objectContaining({ field: 'body.name' })]);
      expectProblem(await h.call('POST', '/v1/organisations', { token: platform, body: { id: 'bad id!', name: 'X' } }), 400, 'invalid_request');
      expectProblem(await expectNothingAppended(stream, () => h.call('POST', '/v1/organisations', { body: { id, name: 'X' } })), 401);
      const support = await h.token('support-1', 'support');
      expectProblem(await expectNothingAppended(stream, () => h.call('POST', '/v1/organisations', { token: support, body: { id, name: 'X' } })), 403);
      expectProblem(await expectNothingAppended(stream, () => h.call('POST', '/v1/organisations', { token: platform, body: { id, name: 'X', plan: 'gold' } })), 400);
    });

    it('answers 409 for a duplicate registration and appends nothing', async () => {
      const id = await registerOrg(h, platform, 'First');
      const duplicate = await expectNothingAppended(`organisation-${id}`, () => h.call('POST', '/v1/organisations', { token: platform, body: { id, name: 'Second' } }));
      expectProblem(duplicate, 409, 'organisation_already_registered');
    });

    it('does not append twice when a request is retried with the same Idempotency-Key', async () => {
      const id = uniqueId('org');
      const headers = { 'idempotency-key': uniqueId('key') };
      const first = await h.call('POST', '/v1/organisations', { token: platform, body: { id, name: 'Retry Ltd' }, headers });
      const retry = await h.call('POST', '/v1/organisations', { token: platform, body: { id, name: 'Retry Ltd' }, headers });
      expect(first.status).toBe(201);
      expect(retry.status).toBe(201);
      expect(retry.body).toEqual(first.body);
      expect(await streamLength(h, `organisation-${id}`)).toBe(1);
    });
  });

  describe('Xero connection', () => {
    it('switches an organisation that was off to soft, naming the Xero connection as the reason', async () => {
      const orgId = await registerOrg(h, platform, 'Xero Co');
      const connected = await h.call('PUT', `/v1/organisations/${orgId}/xero-connection`, { token: platform, body: { tenantId: 'tenant-1' } });
      expectCommandAnswer(connected);
      expect(connected.body.revision).toBe(2);
      const view = await orgView(orgId, connected.body.position);
      expect(view.body).toMatchObject({ mode: 'soft', xeroConnected: true, tenantId: 'tenant-1' });
      expect(view.body.modeLastChanged).toEqual({ at: expect.any(String), by: 'host-platform', reason: expect.stringContaining('Xero') });
      const types = (await h.service.runtime.eventStore.readStream(`organisation-${orgId}`)).map((e) => e.type);
      expect(types).toEqual(['OrganisationRegistered', 'OrgConnectedToXero', 'EnforcementModeChanged']);
    });

    it('keeps a hard mode when connecting, and keeps the mode when disconnecting; the admin may then turn it off', async () => {
      const { orgId, admin } = await orgWithAdmin();
      expectCommandAnswer(await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: admin, body: { mode: 'hard' } }));
      const connected = await h.call('PUT', `/v1/organisations/${orgId}/xero-connection`, { token: platform, body: { tenantId: 'tenant-2' } });
      expect((await orgView(orgId, connected.body.position)).body).toMatchObject({ mode: 'hard', xeroConnected: true });
      const disconnected = await h.call('DELETE', `/v1/organisations/${orgId}/xero-connection`, { token: platform });
      expectCommandAnswer(disconnected);
      expect((await orgView(orgId, disconnected.body.position)).body).toMatchObject({ mode: 'hard', xeroConnected: false, tenantId: null });
      const off = await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: admin, body: { mode: 'off', reason: 'No longer on Xero' } });
      expectCommandAnswer(off);
      expect((await orgView(orgId, off.body.position)).body).toMatchObject({ mode: 'off', modeLastChanged: { by: expect.any(String), reason: 'No longer on Xero' } });
    });

    it('answers 400, 401, 403 (even for the admin) and 404 as problem+json', async () => {
      const { orgId, admin } = await orgWithAdmin();
      const stream = `organisation-${orgId}`;
      expectProblem(await expectNothingAppended(stream, () => h.call('PUT', `/v1/organisations/${orgId}/xero-connection`, { token: platform, body: {} })), 400, 'invalid_request');
      expectProblem(await expectNothingAppended(stream, () => h.call('PUT', `/v1/organisations/${orgId}/xero-connection`, { body: { tenantId: 't' } })), 401);
      expectProblem(await expectNothingAppended(stream, () => h.call('PUT', `/v1/organisations/${orgId}/xero-connection`, { token: admin, body: { tenantId: 't' } })), 403, 'platform_only');
      expectProblem(await expectNothingAppended(stream, () => h.call('DELETE', `/v1/organisations/${orgId}/xero-connection`, { token: admin })), 403, 'platform_only');
      expectProblem(await h.call('PUT', `/v1/organisations/${uniqueId('missing')}/xero-connection`, { token: platform, body: { tenantId: 't' } }), 404, 'organisation_not_found');
      expectProblem(await h.call('DELETE', `/v1/organisations/${uniqueId('missing')}/xero-connection`, { token: platform }), 404, 'organisation_not_found');
    });

    it('refuses a second tenant with 409 while connected, appending nothing', async () => {
      const orgId = await registerOrg(h, platform);
      await h.call('PUT', `/v1/organisations/${orgId}/xero-connection`, { token: platform, body: { tenantId: 'tenant-a' } });
      const other = await expectNothingAppended(`organisation-${orgId}`, () => h.call('PUT', `/v1/organisations/${orgId}/xero-connection`, { token: platform, body: { tenantId: 'tenant-b' } }));
      expectProblem(other, 409, 'xero_connected_to_other_tenant');
    });
  });

  describe('PUT /v1/organisations/:orgId/enforcement', () => {
    it("refuses 'off' with 409 while connected to Xero, appending nothing", async () => {
      const { orgId, admin } = await orgWithAdmin();
      await h.call('PUT', `/v1/organisations/${orgId}/xero-connection`, { token: platform, body: { tenantId: 'tenant-3' } });
      for (const token of [admin, platform]) {
        const refused = await expectNothingAppended(`organisation-${orgId}`, () => h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token, body: { mode: 'off' } }));
        expectProblem(refused, 409, 'xero_requires_enforcement');
      }
      expectCommandAnswer(await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: admin, body: { mode: 'hard' } }));
    });

    it('lets the admin of the organisation and the platform choose any mode; the same mode again appends nothing', async () => {
      const { orgId, admin, adminId } = await orgWithAdmin();
      const soft = await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: admin, body: { mode: 'soft', reason: 'Security review' } });
      expectCommandAnswer(soft);
      expect((await orgView(orgId, soft.body.position)).body.modeLastChanged).toEqual({ at: expect.any(String), by: adminId, reason: 'Security review' });
      const again = await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: admin, body: { mode: 'soft' } });
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ revision: soft.body.revision, position: soft.body.position });
      const hard = await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: platform, body: { mode: 'hard' } });
      expectCommandAnswer(hard);
      expect((await orgView(orgId, hard.body.position)).body).toMatchObject({ mode: 'hard', modeLastChanged: { by: 'host-platform', reason: null } });
    });

    it('answers 403 for a plain member and for an admin of another organisation, appending nothing', async () => {
      const { orgId, member } = await orgWithAdmin();
      const elsewhere = await orgWithAdmin();
      const stream = `organisation-${orgId}`;
      const byMember = await expectNothingAppended(stream, () => h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: member, body: { mode: 'hard' } }));
      expectProblem(byMember, 403, 'not_organisation_admin');
      const byOtherAdmin = await expectNothingAppended(stream, () => h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: elsewhere.admin, body: { mode: 'hard' } }));
      expectProblem(byOtherAdmin, 403, 'not_organisation_admin');
      // A support token carries no admin right over organisations either.
      expectProblem(await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: await h.token('support-1', 'support'), body: { mode: 'hard' } }), 403);
    });

    it('answers 400 for an invalid mode, 401 without a token, 404 for an unknown organisation', async () => {
      const { orgId, admin } = await orgWithAdmin();
      const invalid = await expectNothingAppended(`organisation-${orgId}`, () => h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: admin, body: { mode: 'strict' } }));
      expectProblem(invalid, 400, 'invalid_request');
      expect(invalid.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.mode']);
      expectProblem(await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { body: { mode: 'hard' } }), 401);
      expectProblem(await h.call('PUT', `/v1/organisations/${uniqueId('missing')}/enforcement`, { token: platform, body: { mode: 'hard' } }), 404, 'organisation_not_found');
    });

    it('does not append twice when retried with the same Idempotency-Key', async () => {
      const { orgId, admin } = await orgWithAdmin();
      const before = await streamLength(h, `organisation-${orgId}`);
      const headers = { 'idempotency-key': uniqueId('key') };
      const first = await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: admin, body: { mode: 'hard' }, headers });
      const retry = await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: admin, body: { mode: 'hard' }, headers });
      expectCommandAnswer(first);
      expect(retry.body).toEqual(first.body);
      expect(await streamLength(h, `organisation-${orgId}`)).toBe(before + 1);
    });
  });

  describe('members', () => {
    async function forgottenUser(): Promise<string> {
      const userId = await registerUser(h, platform);
      expect((await h.call('POST', `/v1/users/${userId}/forget`, { token: await h.token('operator-1', 'operator') })).status).toBe(200);
      return userId;
    }

    it('lets the platform add members and the admin promote, demote and remove them', async () => {
      const { orgId, admin, adminId, memberId } = await orgWithAdmin();
      const newcomer = await registerUser(h, platform);
      expectCommandAnswer(await setMember(h, platform, orgId, newcomer, 'member'));
      expectCommandAnswer(await setMember(h, admin, orgId, newcomer, 'admin'));
      // With a second admin the first may step down.
      expectCommandAnswer(await setMember(h, admin, orgId, adminId, 'member'));
      const newAdmin = await h.token(newcomer);
      const removed = await h.call('DELETE', `/v1/organisations/${orgId}/members/${memberId}`, { token: newAdmin });
      expectCommandAnswer(removed);
      const members = await h.call('GET', `/v1/organisations/${orgId}/members?minPosition=${removed.body.position}`, { token: platform });
      expect(members.body.items.map((m: { userId: string; role: string }) => [m.userId, m.role]).sort()).toEqual([[adminId, 'member'], [newcomer, 'admin']].sort());
      const types = (await h.service.runtime.eventStore.readStream(`organisation-${orgId}`)).map((e) => e.type);
      expect(types.slice(-4)).toEqual(['MemberJoinedOrg', 'MemberRoleChanged', 'MemberRoleChanged', 'MemberLeftOrg']);
    });

    it('answers an admin adding a non-member 403 members_added_by_platform, the same for any user, appending nothing', async () => {
      const { orgId, admin } = await orgWithAdmin();
      const stream = `organisation-${orgId}`;
      const elsewhere = await orgWithAdmin();
      const former = await registerUser(h, platform);
      await setMember(h, platform, orgId, former, 'member');
      expectCommandAnswer(await h.call('DELETE', `/v1/organisations/${orgId}/members/${former}`, { token: admin }));
      // A registered user of another organisation, a user never registered, a forgotten one, a former member.
      const targets = [elsewhere.memberId, uniqueId('ghost'), await forgottenUser(), former];
      const answers = [];
      for (const userId of targets) {
        for (const role of ['member', 'admin'] as const) {
          const refused = await expectNothingAppended(stream, () => setMember(h, admin, orgId, userId, role));
          expectProblem(refused, 403, 'members_added_by_platform');
          expect(JSON.stringify(refused.body)).not.toContain(userId);
          answers.push(refused.body);
        }
      }
      for (const answer of answers) expect(answer).toEqual(answers[0]);
    });

    it('tells the platform about unknown (404) and forgotten (410) users, appending nothing', async () => {
      const { orgId } = await orgWithAdmin();
      const stream = `organisation-${orgId}`;
      expectProblem(await expectNothingAppended(stream, () => setMember(h, platform, orgId, uniqueId('ghost'), 'member')), 404, 'user_not_found');
      const forgotten = await forgottenUser();
      expectProblem(await expectNothingAppended(stream, () => setMember(h, platform, orgId, forgotten, 'member')), 410, 'user_forgotten');
    });

    it('appends nothing when a member is given the role they already have', async () => {
      const { orgId, memberId, admin } = await orgWithAdmin();
      const before = await streamLength(h, `organisation-${orgId}`);
      for (const token of [platform, admin]) {
        const same = await setMember(h, token, orgId, memberId, 'member');
        expect(same.status).toBe(200);
        expect(same.body.revision).toBe(before - 1);
      }
      expect(await streamLength(h, `organisation-${orgId}`)).toBe(before);
    });

    it('refuses to lose the last admin with 409, by demotion or removal, appending nothing', async () => {
      const { orgId, admin, adminId } = await orgWithAdmin();
      const stream = `organisation-${orgId}`;
      expectProblem(await expectNothingAppended(stream, () => setMember(h, admin, orgId, adminId, 'member')), 409, 'last_admin');
      expectProblem(await expectNothingAppended(stream, () => h.call('DELETE', `/v1/organisations/${orgId}/members/${adminId}`, { token: platform })), 409, 'last_admin');
    });

    it('answers 403 for a plain member and an admin of another organisation', async () => {
      const { orgId, member, memberId } = await orgWithAdmin();
      const elsewhere = await orgWithAdmin();
      const stream = `organisation-${orgId}`;
      const someone = await registerUser(h, platform);
      expectProblem(await expectNothingAppended(stream, () => setMember(h, member, orgId, someone, 'member')), 403, 'not_organisation_admin');
      expectProblem(await expectNothingAppended(stream, () => setMember(h, elsewhere.admin, orgId, someone, 'admin')), 403, 'not_organisation_admin');
      expectProblem(await expectNothingAppended(stream, () => setMember(h, elsewhere.admin, orgId, memberId, 'admin')), 403, 'not_organisation_admin');
      expectProblem(await expectNothingAppended(stream, () => h.call('DELETE', `/v1/organisations/${orgId}/members/${memberId}`, { token: elsewhere.admin })), 403, 'not_organisation_admin');
    });

    it('answers 404 for an unknown organisation, and membership_not_found for a non-member whether or not the user exists', async () => {
      const { orgId, admin } = await orgWithAdmin();
      const stream = `organisation-${orgId}`;
      const user = await registerUser(h, platform);
      expectProblem(await setMember(h, platform, uniqueId('missing'), user, 'member'), 404, 'organisation_not_found');
      for (const token of [admin, platform]) {
        const answers = [];
        for (const userId of [user, uniqueId('ghost'), await forgottenUser()]) {
          const refused = await expectNothingAppended(stream, () => h.call('DELETE', `/v1/organisations/${orgId}/members/${userId}`, { token }));
          expectProblem(refused, 404, 'membership_not_found');
          answers.push(refused.body);
        }
        for (const answer of answers) expect(answer).toEqual(answers[0]);
      }
    });

    it('does not tell an outsider whether a user exists: 403 before 404', async () => {
      const { orgId, member } = await orgWithAdmin();
      const ghost = await setMember(h, member, orgId, uniqueId('ghost'), 'member');
      expectProblem(ghost, 403, 'not_organisation_admin');
    });

    it('lets an org admin learn nothing about a user outside the organisation, on any route', async () => {
      const { orgId, admin } = await orgWithAdmin();
      const outsider = await registerUser(h, platform);
      const other = await orgWithAdmin();
      expectCommandAnswer(await setMember(h, platform, other.orgId, outsider, 'member'));
      const ghost = uniqueId('ghost');
      const probes = (userId: string): Array<[string, string, unknown?]> => [
        ['PUT', `/v1/organisations/${orgId}/members/${userId}`, { role: 'member' }],
        ['DELETE', `/v1/organisations/${orgId}/members/${userId}`],
        ['GET', `/v1/users/${userId}`],
        ['GET', `/v1/users/${userId}/reminders`],
        ['GET', `/v1/enforcement/${userId}`],
        ['GET', `/v1/enforcement/${userId}?orgId=${orgId}`],
        ['GET', `/v1/enforcement/${userId}?orgId=${other.orgId}`],
      ];
      const [real, fake] = [probes(outsider), probes(ghost)];
      for (let i = 0; i < real.length; i++) {
        const [method, path, body] = real[i]!;
        const seen = await h.call(method, path, { token: admin, ...(body ? { body } : {}) });
        const [, ghostPath, ghostBody] = fake[i]!;
        const unseen = await h.call(method, ghostPath, { token: admin, ...(ghostBody ? { body: ghostBody } : {}) });
        expect({ path, status: seen.status }).toEqual({ path, status: unseen.status });
        expect(seen.status).toBeGreaterThanOrEqual(400);
        expect(JSON.stringify(seen.body).replaceAll(outsider, 'X')).toEqual(JSON.stringify(unseen.body).replaceAll(ghost, 'X'));
      }
      // Their own organisation's views count and list members only.
      const view = await h.call('GET', `/v1/organisations/${orgId}`, { token: admin });
      expect(view.body.members.total).toBe(2);
      const members = await h.call('GET', `/v1/organisations/${orgId}/members`, { token: admin });
      expect(members.body.items.map((m: { userId: string }) => m.userId)).not.toContain(outsider);
      expectProblem(await h.call('GET', `/v1/organisations/${other.orgId}/members`, { token: admin }), 403);
    });

    it('answers 400 for an invalid role or user id, and 401 without a token', async () => {
      const { orgId, admin, memberId } = await orgWithAdmin();
      const invalid = await expectNothingAppended(`organisation-${orgId}`, () => h.call('PUT', `/v1/organisations/${orgId}/members/${memberId}`, { token: admin, body: { role: 'owner' } }));
      expectProblem(invalid, 400, 'invalid_request');
      expect(invalid.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.role']);
      expectProblem(await h.call('PUT', `/v1/organisations/${orgId}/members/${encodeURIComponent('bad id')}`, { token: admin, body: { role: 'member' } }), 400, 'invalid_request');
      expectProblem(await h.call('PUT', `/v1/organisations/${orgId}/members/${memberId}`, { body: { role: 'member' } }), 401);
      expectProblem(await h.call('DELETE', `/v1/organisations/${orgId}/members/${memberId}`, {}), 401);
    });

    it('answers 200 to each of 200 concurrent membership commands on one organisation, appending 200 joins', async () => {
      const orgId = await registerOrg(h, platform, 'Busy Org');
      const userIds = await Promise.all(Array.from({ length: 200 }, () => registerUser(h, platform)));
      const answers = await Promise.all(userIds.map((userId, i) => setMember(h, platform, orgId, userId, i === 0 ? 'admin' : 'member')));
      expect(answers.map((a) => a.status)).toEqual(userIds.map(() => 200));
      const events = await h.service.runtime.eventStore.readStream(`organisation-${orgId}`);
      const joined = events.filter((e) => e.type === 'MemberJoinedOrg').map((e) => (e.data as { userId: string }).userId);
      expect(joined.sort()).toEqual([...userIds].sort());
      // Every answer names a distinct revision: each command was decided on the state its predecessor left.
      expect(new Set(answers.map((a) => a.body.revision)).size).toBe(200);
      // 400 requests on a loaded 2-core machine; a bound against hanging, not a timing assertion.
    }, 120_000);
  });

  describe('PUT /v1/organisations/:orgId/members (bulk sync)', () => {
    async function sync(orgId: string, body: unknown, token = platform): Promise<JsonResponse> {
      return h.call('PUT', `/v1/organisations/${orgId}/members`, { token, body });
    }

    it('applies only the differences in one append, and appends nothing when called again', async () => {
      const { orgId, adminId, memberId } = await orgWithAdmin();
      const keep = await registerUser(h, platform);
      const [joinA, joinB] = [await registerUser(h, platform), await registerUser(h, platform)];
      expectCommandAnswer(await setMember(h, platform, orgId, keep, 'member'));
      const before = await streamLength(h, `organisation-${orgId}`);
      // memberId leaves, keep stays as is, adminId hands admin over to joinA, joinB joins.
      const desired = { members: [{ userId: adminId, role: 'member' }, { userId: keep, role: 'member' }, { userId: joinA, role: 'admin' }, { userId: joinB, role: 'member' }], removeOthers: true };
      const first = await sync(orgId, desired);
      expectCommandAnswer(first);
      expect(first.body.changes).toEqual({ joined: 2, roleChanged: 1, left: 1 });
      const events = (await h.service.runtime.eventStore.readStream(`organisation-${orgId}`)).slice(before);
      expect(events.map((e) => [e.type, e.data])).toEqual([
        ['MemberJoinedOrg', { userId: joinA, role: 'admin', joinedAt: expect.any(String), graceFrom: expect.any(String) }],
        ['MemberJoinedOrg', { userId: joinB, role: 'member', joinedAt: expect.any(String), graceFrom: expect.any(String) }],
        ['MemberRoleChanged', { userId: adminId, from: 'admin', to: 'member' }],
        ['MemberLeftOrg', { userId: memberId, leftAt: expect.any(String) }],
      ]);
      // One decision, one append: the events share one command.
      expect(new Set(events.map((e) => e.metadata.causationId)).size).toBe(1);
      const members = await h.call('GET', `/v1/organisations/${orgId}/members?minPosition=${first.body.position}`, { token: platform });
      expect(members.body.items.map((m: { userId: string; role: string }) => [m.userId, m.role]).sort()).toEqual(desired.members.map((m) => [m.userId, m.role]).sort());

      const again = await sync(orgId, { members: [...desired.members].reverse(), removeOthers: true });
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ revision: first.body.revision, position: first.body.position, changes: { joined: 0, roleChanged: 0, left: 0 } });
      expect(await streamLength(h, `organisation-${orgId}`)).toBe(before + 4);
    });

    it('keeps unlisted members unless removeOthers is true', async () => {
      const { orgId, adminId, memberId } = await orgWithAdmin();
      const newcomer = await registerUser(h, platform);
      const added = await sync(orgId, { members: [{ userId: newcomer, role: 'member' }] });
      expect(added.body.changes).toEqual({ joined: 1, roleChanged: 0, left: 0 });
      const members = await h.call('GET', `/v1/organisations/${orgId}/members?minPosition=${added.body.position}`, { token: platform });
      expect(members.body.items.map((m: { userId: string }) => m.userId).sort()).toEqual([adminId, memberId, newcomer].sort());
    });

    it('answers 422 listing unknown and forgotten users, appending nothing', async () => {
      const { orgId, adminId } = await orgWithAdmin();
      const ghost = uniqueId('ghost');
      const forgotten = await registerUser(h, platform);
      await h.call('POST', `/v1/users/${forgotten}/forget`, { token: await h.token('operator-1', 'operator') });
      const fine = await registerUser(h, platform);
      const refused = await expectNothingAppended(`organisation-${orgId}`, () =>
        sync(orgId, { members: [{ userId: adminId, role: 'admin' }, { userId: fine, role: 'member' }, { userId: ghost, role: 'member' }, { userId: forgotten, role: 'member' }], removeOthers: true }),
      );
      expectProblem(refused, 422, 'unknown_users');
      expect(refused.body).toMatchObject({ unknownUserIds: [ghost], forgottenUserIds: [forgotten] });
    });

    it('is for the platform only: admins, members and staff get 403 and learn nothing about the listed users', async () => {
      const { orgId, admin, adminId, member } = await orgWithAdmin();
      const stream = `organisation-${orgId}`;
      const body = { members: [{ userId: adminId, role: 'admin' }, { userId: uniqueId('ghost'), role: 'member' }] };
      for (const token of [admin, member, await h.token('support-1', 'support'), await h.token('operator-1', 'operator')]) {
        expectProblem(await expectNothingAppended(stream, () => sync(orgId, body, token)), 403, 'platform_only');
      }
      expectProblem(await h.call('PUT', `/v1/organisations/${orgId}/members`, { body }), 401);
      expectProblem(await sync(uniqueId('missing'), { members: [] }), 404, 'organisation_not_found');
    });

    it('refuses to leave an organisation without its admins with 409, appending nothing', async () => {
      const { orgId, memberId } = await orgWithAdmin();
      const refused = await expectNothingAppended(`organisation-${orgId}`, () => sync(orgId, { members: [{ userId: memberId, role: 'member' }], removeOthers: true }));
      expectProblem(refused, 409, 'last_admin');
    });

    it('answers 400 for duplicate users, too long a list, invalid ids, roles and unknown keys', async () => {
      const { orgId, adminId } = await orgWithAdmin();
      const stream = `organisation-${orgId}`;
      const duplicate = await expectNothingAppended(stream, () => sync(orgId, { members: [{ userId: adminId, role: 'admin' }, { userId: adminId, role: 'member' }] }));
      expectProblem(duplicate, 400, 'invalid_request');
      expect(duplicate.body.errors).toEqual([expect.objectContaining({ field: 'body.members.1.userId' })]);
      const tooMany = Array.from({ length: 1001 }, (_, i) => ({ userId: `u${i}`, role: 'member' }));
      expectProblem(await expectNothingAppended(stream, () => sync(orgId, { members: tooMany })), 400, 'invalid_request');
      for (const body of [{}, { members: [{ userId: 'bad id', role: 'member' }] }, { members: [{ userId: adminId, role: 'owner' }] }, { members: [], removeOthers: 'yes' }, { members: [], extra: 1 }]) {
        expectProblem(await expectNothingAppended(stream, () => sync(orgId, body)), 400, 'invalid_request');
      }
    });
  });

  describe('GET /v1/organisations/:orgId/members?twoFactor=', () => {
    it('filters by the member status vocabulary none, pending, enabled; disabled stays as a deprecated "not enabled"', async () => {
      const { orgId, adminId, memberId } = await orgWithAdmin();
      const pendingId = await registerUser(h, platform);
      await setMember(h, platform, orgId, pendingId, 'member');
      const setup = await h.call('POST', `/v1/users/${pendingId}/two-factor/setup`, { token: await h.token(pendingId) });
      expect(setup.status).toBe(201);
      const { position } = await enableTwoFactor(h, await h.token(memberId), memberId);
      const ids = async (filter: string): Promise<string[]> => {
        const page = await h.call('GET', `/v1/organisations/${orgId}/members?twoFactor=${filter}&minPosition=${position}`, { token: platform });
        expect(page.status).toBe(200);
        for (const item of page.body.items) if (filter !== 'disabled') expect(item.twoFactor.status).toBe(filter);
        return page.body.items.map((m: { userId: string }) => m.userId).sort();
      };
      expect(await ids('enabled')).toEqual([memberId]);
      expect(await ids('pending')).toEqual([pendingId]);
      expect(await ids('none')).toEqual([adminId]);
      expect(await ids('disabled')).toEqual([adminId, pendingId].sort());
      const unknown = await h.call('GET', `/v1/organisations/${orgId}/members?twoFactor=off`, { token: platform });
      expectProblem(unknown, 400, 'invalid_request');
    });
  });
});
