import { startHarness, type Harness, type JsonResponse } from '../support/http-harness.js';
import { expectCommandAnswer, expectProblem, registerOrg, registerUser, setMember, streamLength, uniqueId } from './http-steps.js';

describe('HTTP organisations', () => {
  let h: Harness;
  let platform: string;

  beforeAll(async () => {
    h = await startHarness();
    platform = await h.token('host-platform', 'platform');
  });
  afterAll(() => h.dispose());

  /** A refused command must leave the whole store untouched, not only its own stream. */
  async function expectNothingAppended(stream: string, refused: () => Promise<JsonResponse>): Promise<JsonResponse> {
    const headBefore = await h.service.runtime.eventStore.headPosition();
    const lengthBefore = await streamLength(h, stream);
    const response = await refused();
    expect(await h.service.runtime.eventStore.headPosition()).toBe(headBefore);
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
    it('lets the admin add, promote, demote and remove members', async () => {
      const { orgId, admin, adminId, memberId } = await orgWithAdmin();
      const newcomer = await registerUser(h, platform);
      expectCommandAnswer(await setMember(h, admin, orgId, newcomer, 'member'));
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

    it('appends nothing when a member is given the role they already have', async () => {
      const { orgId, memberId } = await orgWithAdmin();
      const before = await streamLength(h, `organisation-${orgId}`);
      const same = await setMember(h, platform, orgId, memberId, 'member');
      expect(same.status).toBe(200);
      expect(same.body.revision).toBe(before - 1);
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
      expectProblem(await expectNothingAppended(stream, () => h.call('DELETE', `/v1/organisations/${orgId}/members/${memberId}`, { token: elsewhere.admin })), 403, 'not_organisation_admin');
    });

    it('answers 404 for an unknown user, an unknown organisation, or a user who is not a member', async () => {
      const { orgId, admin } = await orgWithAdmin();
      const stream = `organisation-${orgId}`;
      const unknownUser = await expectNothingAppended(stream, () => setMember(h, admin, orgId, uniqueId('ghost'), 'member'));
      expectProblem(unknownUser, 404, 'user_not_found');
      const user = await registerUser(h, platform);
      expectProblem(await setMember(h, platform, uniqueId('missing'), user, 'member'), 404, 'organisation_not_found');
      expectProblem(await expectNothingAppended(stream, () => h.call('DELETE', `/v1/organisations/${orgId}/members/${user}`, { token: admin })), 404, 'member_not_found');
    });

    it('does not tell an outsider whether a user exists: 403 before 404', async () => {
      const { orgId, member } = await orgWithAdmin();
      const ghost = await setMember(h, member, orgId, uniqueId('ghost'), 'member');
      expectProblem(ghost, 403, 'not_organisation_admin');
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
  });
});
