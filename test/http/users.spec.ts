import { toNewEvents } from '../../src/application/command-handling.js';
import type { MemberJoinedOrg } from '../../src/organisations/organisation.events.js';
import { startHarness, type Harness, type JsonResponse } from '../support/http-harness.js';
import { commandEventsSince, enableTwoFactor, expectCommandAnswer, expectProblem, registerOrg, registerUser, setMember, streamLength, uniqueId, userView } from './http-steps.js';

interface MemberItem {
  readonly userId: string;
  readonly role: string;
  readonly twoFactor: { readonly status: string };
}

describe('HTTP users and read models', () => {
  let h: Harness;
  let platform: string;
  let support: string;

  beforeAll(async () => {
    h = await startHarness();
    platform = await h.token('host-platform', 'platform');
    support = await h.token('support-1', 'support');
  });
  afterAll(() => h.dispose());

  /** Every page of the members view, following nextCursor; bounded so a cursor loop fails instead of hanging. */
  async function allMembers(harness: Harness, token: string, orgId: string, query: string, maxPages: number): Promise<{ items: MemberItem[]; pages: number }> {
    const items: MemberItem[] = [];
    let cursor: string | null = null;
    for (let pages = 1; pages <= maxPages; pages++) {
      const page: JsonResponse = await harness.call('GET', `/v1/organisations/${orgId}/members?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
      expect(page.status).toBe(200);
      items.push(...page.body.items);
      cursor = page.body.nextCursor;
      if (cursor === null) return { items, pages };
    }
    throw new Error(`members view did not end within ${maxPages} pages`);
  }

  describe('POST /v1/users', () => {
    it('registers a user, answering id, revision and position; the user view shows the email to the user', async () => {
      const id = uniqueId('user');
      const response = await h.call('POST', '/v1/users', { token: platform, body: { id, email: 'Ada@Example.test' } });
      expect(response.status).toBe(201);
      expect(response.body).toEqual({ id, revision: 0, position: expect.stringMatching(/^\d+$/) });
      const view = await userView(h, await h.token(id), id, response.body.position);
      expect(view.status).toBe(200);
      expect(view.body).toMatchObject({ id, email: 'Ada@Example.test', forgotten: false, memberships: [], twoFactor: { status: 'none', enabledSince: null, backupCodesLeft: 0, lockedUntil: null, locked: false } });
    });

    it('answers 400 for an invalid body, 401, 403 for a non-platform caller and 409 for a duplicate, appending nothing', async () => {
      const id = uniqueId('user');
      const stream = `user-${id}`;
      expectProblem(await h.call('POST', '/v1/users', { token: platform, body: { id, email: 'not-an-email' } }), 400, 'invalid_request');
      expectProblem(await h.call('POST', '/v1/users', { token: platform, body: { id } }), 400, 'invalid_request');
      expectProblem(await h.call('POST', '/v1/users', { body: { id, email: 'a@example.test' } }), 401);
      expectProblem(await h.call('POST', '/v1/users', { token: support, body: { id, email: 'a@example.test' } }), 403);
      expectProblem(await h.call('POST', '/v1/users', { token: await h.token(id), body: { id, email: 'a@example.test' } }), 403);
      expect(await streamLength(h, stream)).toBe(0);
      expectCommandAnswer(await h.call('POST', '/v1/users', { token: platform, body: { id, email: 'a@example.test' } }), 201);
      const head = await h.service.runtime.eventStore.headPosition();
      expectProblem(await h.call('POST', '/v1/users', { token: platform, body: { id, email: 'b@example.test' } }), 409, 'user_already_registered');
      expect(await commandEventsSince(h, head)).toEqual([]);
      expect(await streamLength(h, stream)).toBe(1);
    });
  });

  describe('one live user per e-mail address', () => {
    const register = (id: string, email: string, headers: Record<string, string> = {}) => h.call('POST', '/v1/users', { token: platform, body: { id, email }, headers });
    const address = () => `${uniqueId('shared')}@example.test`;

    it('refuses a second user with the same address, in any letter case (409 email_in_use), storing nothing for them', async () => {
      const email = address();
      expectCommandAnswer(await register(uniqueId('user'), email), 201);
      const head = await h.service.runtime.eventStore.headPosition();
      const second = uniqueId('user');
      expectProblem(await register(second, email.toUpperCase()), 409, 'email_in_use');
      expect(await streamLength(h, `user-${second}`)).toBe(0);
      expect(await commandEventsSince(h, head)).toEqual([]);
    });

    it('keeps no address in clear: the claim is a keyed hash that differs from a plain hash', async () => {
      const email = address();
      const id = uniqueId('user');
      expectCommandAnswer(await register(id, email), 201);
      const stored = JSON.stringify(await h.service.runtime.eventStore.readAll());
      expect(stored).not.toContain(email);
      expect(stored).not.toContain(email.split('@')[0]);
      const { createHash } = await import('node:crypto');
      expect(stored).not.toContain(createHash('sha256').update(email).digest('hex'));
    });

    it('frees the address of a forgotten user', async () => {
      const email = address();
      const first = uniqueId('user');
      expectCommandAnswer(await register(first, email), 201);
      expectCommandAnswer(await h.call('POST', `/v1/users/${first}/forget`, { token: await h.token('operator-1', 'operator') }));
      expectCommandAnswer(await register(uniqueId('user'), email), 201);
    });

    it('gives the address back when the registration that claimed it is refused', async () => {
      const taken = uniqueId('user');
      expectCommandAnswer(await register(taken, address()), 201);
      const email = address();
      expectProblem(await register(taken, email), 409, 'user_already_registered');
      expectCommandAnswer(await register(uniqueId('user'), email), 201);
    });

    it('answers a retry of the same registration (same Idempotency-Key) with the first answer', async () => {
      const email = address();
      const id = uniqueId('user');
      const first = await register(id, email, { 'idempotency-key': `key-${id}` });
      expectCommandAnswer(first, 201);
      const again = await register(id, email, { 'idempotency-key': `key-${id}` });
      expect({ status: again.status, body: again.body }).toEqual({ status: 201, body: first.body });
    });

    it('registers exactly one of 20 concurrent users with one address', async () => {
      const email = address();
      const ids = Array.from({ length: 20 }, () => uniqueId('racer'));
      const answers = await Promise.all(ids.map((id, i) => register(id, i % 2 === 0 ? email : email.toUpperCase())));
      expect(answers.map((a) => a.status).sort()).toEqual([201, ...Array<number>(19).fill(409)]);
      for (const refused of answers.filter((a) => a.status === 409)) expectProblem(refused, 409, 'email_in_use');
      const lengths = await Promise.all(ids.map((id) => streamLength(h, `user-${id}`)));
      expect(lengths.sort()).toEqual([...Array<number>(19).fill(0), 1]);
    });
  });

  describe('GET /v1/users/:userId', () => {
    it('shows memberships, for the user and support; 403 for another user, 404 for an unknown one', async () => {
      const userId = await registerUser(h, platform);
      const orgA = await registerOrg(h, platform, 'A');
      const orgB = await registerOrg(h, platform, 'B');
      await setMember(h, platform, orgA, userId, 'admin');
      const joined = await setMember(h, platform, orgB, userId, 'member');
      const view = await userView(h, support, userId, joined.body.position);
      expect(view.status).toBe(200);
      expect(view.body.memberships).toEqual(expect.arrayContaining([{ orgId: orgA, role: 'admin' }, { orgId: orgB, role: 'member' }]));
      expect(view.body.memberships).toHaveLength(2);
      const left = await h.call('DELETE', `/v1/organisations/${orgB}/members/${userId}`, { token: platform });
      expect((await userView(h, await h.token(userId), userId, left.body.position)).body.memberships).toEqual([{ orgId: orgA, role: 'admin' }]);
      expectProblem(await userView(h, await h.token('someone-else'), userId), 403);
      expectProblem(await userView(h, support, uniqueId('ghost')), 404, 'user_not_found');
      expectProblem(await h.call('GET', `/v1/users/${userId}`), 401);
      expectProblem(await h.call('GET', `/v1/users/${userId}?minPosition=abc`, { token: support }), 400, 'invalid_request');
    });
  });

  describe('GET /v1/organisations/:orgId/members', () => {
    it('lists members with role and 2FA status, filters by twoFactor and pages with a cursor', async () => {
      const orgId = await registerOrg(h, platform, 'Compliance');
      const users: string[] = [];
      for (let i = 0; i < 5; i++) users.push(await registerUser(h, platform));
      await setMember(h, platform, orgId, users[0]!, 'admin');
      for (const userId of users.slice(1)) await setMember(h, platform, orgId, userId, 'member');
      const enabled = [users[1]!, users[3]!];
      let position = '';
      for (const userId of enabled) position = (await enableTwoFactor(h, await h.token(userId), userId)).position;

      const view = await h.call('GET', `/v1/organisations/${orgId}?minPosition=${position}`, { token: support });
      expect(view.body.members).toEqual({ total: 5, withTwoFactor: 2, withoutTwoFactor: 3 });
      const all = await allMembers(h, support, orgId, 'limit=2', 10);
      expect(all.pages).toBe(3);
      expect(all.items.map((m) => m.userId).sort()).toEqual([...users].sort());
      expect(all.items.find((m) => m.userId === users[0])).toMatchObject({ role: 'admin', twoFactor: { status: 'none' } });
      const withFactor = await allMembers(h, support, orgId, 'twoFactor=enabled&limit=1', 10);
      expect(withFactor.items.map((m) => m.userId).sort()).toEqual([...enabled].sort());
      expect(withFactor.items.every((m) => m.twoFactor.status === 'enabled')).toBe(true);
      const without = await allMembers(h, support, orgId, 'twoFactor=disabled', 10);
      expect(without.items.map((m) => m.userId).sort()).toEqual(users.filter((u) => !enabled.includes(u)).sort());
    });

    it('is for support, the platform and the organisation\'s admins only', async () => {
      const orgId = await registerOrg(h, platform, 'Private');
      const adminId = await registerUser(h, platform);
      const memberId = await registerUser(h, platform);
      await setMember(h, platform, orgId, adminId, 'admin');
      const joined = await setMember(h, platform, orgId, memberId, 'member');
      const path = `/v1/organisations/${orgId}/members?minPosition=${joined.body.position}`;
      expect((await h.call('GET', path, { token: await h.token(adminId) })).status).toBe(200);
      expect((await h.call('GET', `/v1/organisations/${orgId}`, { token: await h.token(adminId) })).status).toBe(200);
      expect((await h.call('GET', path, { token: platform })).status).toBe(200);
      expectProblem(await h.call('GET', path, { token: await h.token(memberId) }), 403);
      expectProblem(await h.call('GET', `/v1/organisations/${orgId}`, { token: await h.token(memberId) }), 403);
      expectProblem(await h.call('GET', path, { token: await h.token('auditor-1', 'auditor') }), 403);
      expectProblem(await h.call('GET', path), 401);
      expectProblem(await h.call('GET', `/v1/organisations/${uniqueId('missing')}/members`, { token: support }), 404, 'organisation_not_found');
      expectProblem(await h.call('GET', `/v1/organisations/${orgId}/members?limit=0`, { token: support }), 400, 'invalid_request');
      expectProblem(await h.call('GET', `/v1/organisations/${orgId}/members?twoFactor=maybe`, { token: support }), 400, 'invalid_request');
      expectProblem(await h.call('GET', `/v1/organisations/${orgId}/members?cursor=not-a-cursor`, { token: support }), 400);
    });

    it('walks 10,000 members of one organisation page by page without duplicates or gaps', async () => {
      const orgId = await registerOrg(h, platform, 'Big Org');
      // Appended in batches straight to the store (the same envelopes the handler writes): 10,000
      // HTTP commands would each fold the whole growing stream. The reads below are real HTTP.
      const store = h.service.runtime.eventStore;
      const userIds = Array.from({ length: 10_000 }, (_, i) => `bulk-${orgId}-${String(i).padStart(5, '0')}`);
      let revision = (await store.readStream(`organisation-${orgId}`)).length - 1;
      let position = '';
      for (let start = 0; start < userIds.length; start += 1000) {
        const events: MemberJoinedOrg[] = userIds.slice(start, start + 1000).map((userId, i) => ({ type: 'MemberJoinedOrg', data: { userId, role: start + i === 0 ? 'admin' : 'member' } }));
        const context = { commandId: uniqueId('bulk'), correlationId: uniqueId('corr'), actor: { id: 'host-platform', roles: ['platform'] }, now: h.clock.now() };
        const result = await store.append(`organisation-${orgId}`, toNewEvents(events, context), revision);
        revision = result.nextRevision;
        position = result.position;
      }
      // 10,000 joins take the projections longer than one read-your-writes wait on a busy machine.
      expect(await h.service.runtime.progress.waitFor(position, 60_000)).toBe(true);
      const view = await h.call('GET', `/v1/organisations/${orgId}?minPosition=${position}`, { token: support });
      expect(view.status).toBe(200);
      expect(view.body.members).toEqual({ total: 10_000, withTwoFactor: 0, withoutTwoFactor: 10_000 });

      const all = await allMembers(h, support, orgId, 'limit=500', 25);
      expect(all.pages).toBe(20);
      const seen = new Set(all.items.map((m) => m.userId));
      expect(all.items).toHaveLength(10_000);
      expect(seen.size).toBe(10_000);
      expect([...seen].sort()).toEqual(userIds);
      const filtered = await allMembers(h, support, orgId, 'twoFactor=disabled&limit=499', 25);
      expect(new Set(filtered.items.map((m) => m.userId)).size).toBe(10_000);
      expect(filtered.items).toHaveLength(10_000);
    }, 60_000);
  });
});

describe('HTTP read models across a restart', () => {
  it('catch up from their checkpoint with events appended while no projector ran, counting nothing twice', async () => {
    const first = await startHarness();
    const { dataDir } = first;
    let second: Harness | null = null;
    let third: Harness | null = null;
    try {
      const platform = await first.token('host-platform', 'platform');
      const orgId = await registerOrg(first, platform, 'Restart Org');
      const adminId = await registerUser(first, platform);
      const memberId = await registerUser(first, platform);
      await setMember(first, platform, orgId, adminId, 'admin');
      const joined = await setMember(first, platform, orgId, memberId, 'member');
      const enabled = await enableTwoFactor(first, await first.token(adminId), adminId);
      expect((await first.call('GET', `/v1/organisations/${orgId}?minPosition=${enabled.position}`, { token: platform })).body.members).toEqual({ total: 2, withTwoFactor: 1, withoutTwoFactor: 1 });
      expect(joined.status).toBe(200);
      await first.stop();

      // An API-only process appends; nobody projects meanwhile.
      second = await startHarness({ dataDir, env: { ROLES: 'api' } });
      const lateId = await registerUser(second, platform);
      await setMember(second, platform, orgId, lateId, 'member');
      await second.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: await second.token(adminId), body: { mode: 'hard', reason: 'After restart' } });
      const lateFactor = await enableTwoFactor(second, await second.token(memberId), memberId);
      await second.stop();

      third = await startHarness({ dataDir });
      const view = await third.call('GET', `/v1/organisations/${orgId}?minPosition=${lateFactor.position}`, { token: platform });
      expect(view.status).toBe(200);
      expect(view.body).toMatchObject({ mode: 'hard', modeLastChanged: { by: adminId, reason: 'After restart' }, members: { total: 3, withTwoFactor: 2, withoutTwoFactor: 1 } });
      const admin = await userView(third, platform, adminId);
      // Backup-code counts are read-modify-write: a replay past the checkpoint would show 20.
      expect(admin.body.twoFactor).toMatchObject({ status: 'enabled', backupCodesLeft: 10 });
      expect((await userView(third, platform, memberId)).body.twoFactor).toMatchObject({ status: 'enabled', backupCodesLeft: 10 });
      expect((await userView(third, platform, lateId)).body.memberships).toEqual([{ orgId, role: 'member' }]);
    } finally {
      await third?.stop();
      await second?.stop();
      await first.dispose();
    }
  }, 30_000);
});
