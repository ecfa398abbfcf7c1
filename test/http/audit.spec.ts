import { startHarness, type Harness } from '../support/http-harness.js';
import { enableTwoFactor, expectCommandAnswer, expectProblem, registerOrg, registerUser, setMember } from './http-steps.js';

const HOUR = 3_600_000;

describe('HTTP audit', () => {
  let h: Harness;
  let platform: string;
  let auditor: string;

  beforeAll(async () => {
    h = await startHarness();
    platform = await h.token('host-platform', 'platform');
    auditor = await h.token('auditor-1', 'auditor');
  });
  afterAll(() => h.dispose());

  const get = (path: string, token = auditor) => h.call('GET', path, { token });

  describe('who may read', () => {
    const routes = [
      '/v1/audit/streams/organisation-x',
      '/v1/audit/events',
      '/v1/audit/organisations/x/state?at=2026-01-01T00:00:00Z',
      '/v1/audit/users/x/state?at=2026-01-01T00:00:00Z',
      '/v1/audit/integrity?stream=organisation-x',
      '/v1/audit/integrity',
      '/v1/audit/export',
      '/v1/audit/organisations/x/compliance?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z',
    ];

    it('answers 401 without a token and 403 to every role but auditor, on every route', async () => {
      const others = [platform, await h.token('support-1', 'support'), await h.token('operator-1', 'operator'), await h.token('user-1')];
      for (const route of routes) {
        expectProblem(await h.call('GET', route), 401);
        for (const token of others) expectProblem(await get(route, token), 403, 'forbidden');
      }
    });

    it('validates every query parameter with a 400 problem naming the field', async () => {
      const invalid: Array<[string, string]> = [
        ['/v1/audit/streams/organisation-x?direction=sideways', 'query.direction'],
        ['/v1/audit/streams/organisation-x?fromRevision=-1', 'query.fromRevision'],
        ['/v1/audit/streams/organisation-x?limit=0', 'query.limit'],
        ['/v1/audit/streams/organisation-x?limit=5000', 'query.limit'],
        ['/v1/audit/streams/organisation-x?colour=red', 'query'],
        ['/v1/audit/streams/bad%20stream', 'path.stream'],
        ['/v1/audit/events?type=Bad%20Type', 'query.type.0'],
        ['/v1/audit/events?cursor=abc', 'query.cursor'],
        ['/v1/audit/events?from=yesterday', 'query.from'],
        ['/v1/audit/events?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'query.from'],
        ['/v1/audit/events?actor=bad%20actor', 'query.actor'],
        ['/v1/audit/organisations/x/state', 'query.at'],
        ['/v1/audit/users/x/state?at=noon', 'query.at'],
        ['/v1/audit/integrity?stream=a%20b', 'query.stream'],
        ['/v1/audit/export?format=xml', 'query.format'],
        ['/v1/audit/organisations/x/compliance?from=2026-01-01T00:00:00Z', 'query.to'],
        ['/v1/audit/organisations/x/compliance?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&format=pdf', 'query.format'],
      ];
      for (const [route, field] of invalid) {
        const response = await get(route);
        expectProblem(response, 400, 'invalid_request');
        expect({ route, fields: response.body.errors.map((e: { field: string }) => e.field) }).toEqual({ route, fields: expect.arrayContaining([field]) });
      }
    });
  });

  describe('GET /v1/audit/streams/:stream', () => {
    it('pages a stream forwards and backwards with type, data, revision, position and full metadata', async () => {
      const orgId = await registerOrg(h, platform, 'History Ltd');
      expectCommandAnswer(await h.call('PUT', `/v1/organisations/${orgId}/xero-connection`, { token: platform, body: { tenantId: 'tenant-1' }, headers: { 'x-correlation-id': 'corr-1' } }));
      const stream = `organisation-${orgId}`;

      const first = await get(`/v1/audit/streams/${stream}?limit=2`);
      expect(first.status).toBe(200);
      expect(first.body.stream).toBe(stream);
      expect(first.body.events.map((e: { type: string }) => e.type)).toEqual(['OrganisationRegistered', 'OrgConnectedToXero']);
      expect(first.body.nextRevision).toBe(2);
      const [registered, connected] = first.body.events;
      expect(registered).toEqual({
        stream,
        revision: 0,
        position: expect.stringMatching(/^\d+$/),
        type: 'OrganisationRegistered',
        data: { orgId, name: 'History Ltd' },
        metadata: {
          eventId: expect.any(String),
          occurredAt: h.clock.now().toISOString(),
          actor: { id: 'host-platform', roles: ['platform'] },
          correlationId: expect.any(String),
          causationId: expect.any(String),
          schemaVersion: 1,
          prevHash: '',
          hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        },
      });
      expect(connected.metadata).toMatchObject({ correlationId: 'corr-1', prevHash: registered.metadata.hash });

      const rest = await get(`/v1/audit/streams/${stream}?fromRevision=2`);
      expect(rest.body.events.map((e: { type: string; data: { reason?: string } }) => e.type)).toEqual(['EnforcementModeChanged']);
      expect(rest.body.nextRevision).toBeNull();

      const backwards = await get(`/v1/audit/streams/${stream}?direction=backwards&limit=2`);
      expect(backwards.body.events.map((e: { revision: number }) => e.revision)).toEqual([2, 1]);
      expect(backwards.body.nextRevision).toBe(0);
      const last = await get(`/v1/audit/streams/${stream}?direction=backwards&fromRevision=0`);
      expect(last.body.events.map((e: { revision: number }) => e.revision)).toEqual([0]);
      expect(last.body.nextRevision).toBeNull();
    });

    it('answers 404 for a stream that never existed', async () => {
      expectProblem(await get('/v1/audit/streams/organisation-never-there'), 404, 'stream_not_found');
    });

    it('shows encrypted values and backup-code hashes redacted, and a forgotten user as shredded', async () => {
      const email = `audit-${Date.now()}@example.test`;
      const userId = await registerUser(h, platform, email);
      const factor = await enableTwoFactor(h, await h.token(userId), userId);
      const stream = `user-${userId}`;

      const before = await get(`/v1/audit/streams/${stream}`);
      const byType = Object.fromEntries(before.body.events.map((e: { type: string; data: unknown }) => [e.type, e.data]));
      expect(byType['UserRegistered']).toEqual({ userId, email: { encrypted: true, keyId: expect.any(String) } });
      expect(byType['TwoFactorSetupStarted']).toEqual({ secret: { encrypted: true, keyId: expect.any(String) }, expiresAt: expect.any(String) });
      expect(byType['BackupCodesGenerated']).toEqual({ hashes: Array.from({ length: 10 }, () => ({ redacted: true })), timeStep: expect.any(Number) });
      const text = JSON.stringify(before.body);
      for (const secretThing of [email, factor.secret, ...factor.backupCodes]) expect(text).not.toContain(secretThing);
      expect(text).not.toMatch(/ciphertext|"iv"|"tag"/);

      expectCommandAnswer(await h.call('POST', `/v1/users/${userId}/forget`, { token: await h.token('operator-1', 'operator') }));
      const after = await get(`/v1/audit/streams/${stream}`);
      const registered = after.body.events.find((e: { type: string }) => e.type === 'UserRegistered');
      expect(registered.data).toEqual({ userId, email: { shredded: true } });
      expect(after.body.events.at(-1).type).toBe('UserForgotten');
    });
  });

  describe('GET /v1/audit/events', () => {
    it('filters by type, stream prefix, actor and time, and walks every match once by cursor', async () => {
      h.clock.advance(HOUR);
      const from = h.clock.now().toISOString();
      const admin = await registerUser(h, platform);
      const orgIds = [await registerOrg(h, platform, 'Filter A'), await registerOrg(h, platform, 'Filter B'), await registerOrg(h, platform, 'Filter C')];
      for (const orgId of orgIds) expectCommandAnswer(await setMember(h, platform, orgId, admin, 'admin'));
      h.clock.advance(HOUR);
      const adminToken = await h.token(admin);
      for (const orgId of orgIds) expectCommandAnswer(await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: adminToken, body: { mode: 'hard' } }));
      const to = h.clock.now().toISOString();
      h.clock.advance(HOUR);
      const late = await registerOrg(h, platform, 'Too late');

      const byAdmin = await get(`/v1/audit/events?actor=${admin}&type=EnforcementModeChanged`);
      expect(byAdmin.body.events.map((e: { stream: string }) => e.stream)).toEqual(orgIds.map((id) => `organisation-${id}`));

      const inWindow: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 20; page++) {
        const response = await get(`/v1/audit/events?type=OrganisationRegistered,MemberJoinedOrg&stream=organisation-&from=${from}&to=${to}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(response.status).toBe(200);
        expect(response.body.events.length).toBeLessThanOrEqual(2);
        inWindow.push(...response.body.events.map((e: { type: string; stream: string }) => `${e.type} ${e.stream}`));
        cursor = response.body.nextCursor;
        if (cursor === null) break;
      }
      expect(cursor).toBeNull();
      expect(inWindow).toEqual([
        ...orgIds.map((id) => `OrganisationRegistered organisation-${id}`),
        ...orgIds.map((id) => `MemberJoinedOrg organisation-${id}`),
      ]);
      expect(inWindow.join(' ')).not.toContain(late);
    });
  });

  describe('state as of an instant', () => {
    it('replays an organisation up to the instant through its decider, 404 before its first event', async () => {
      const t0 = h.clock.now();
      h.clock.advance(HOUR);
      const orgId = await registerOrg(h, platform, 'Time Travel Ltd');
      const t1 = h.clock.now();
      h.clock.advance(HOUR);
      const member = await registerUser(h, platform);
      expectCommandAnswer(await setMember(h, platform, orgId, member, 'admin'));
      expectCommandAnswer(await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: platform, body: { mode: 'soft', reason: 'policy' } }));
      const t2 = h.clock.now();
      h.clock.advance(HOUR);
      expectCommandAnswer(await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: platform, body: { mode: 'hard' } }));

      expectProblem(await get(`/v1/audit/organisations/${orgId}/state?at=${t0.toISOString()}`), 404, 'no_state_at_instant');
      const atT1 = await get(`/v1/audit/organisations/${orgId}/state?at=${t1.toISOString()}`);
      expect(atT1.body).toMatchObject({ stream: `organisation-${orgId}`, revision: 0, eventsApplied: 1 });
      expect(atT1.body.state).toEqual({ status: 'registered', orgId, name: 'Time Travel Ltd', mode: 'off', xero: null, members: {}, escalation: null, graceDays: 0, tenure: {} });
      const atT2 = await get(`/v1/audit/organisations/${orgId}/state?at=${t2.toISOString()}`);
      expect(atT2.body.state).toEqual({ status: 'registered', orgId, name: 'Time Travel Ltd', mode: 'soft', xero: null, members: { [member]: 'admin' }, escalation: null, graceDays: 0, tenure: { [member]: { graceFrom: expect.any(String), leftAt: null } } });
      const now = await get(`/v1/audit/organisations/${orgId}/state?at=${h.clock.now().toISOString()}`);
      expect(now.body.state.mode).toBe('hard');
      expect(now.body.revision).toBe(3);
    });

    it('replays a user with protected values redacted, shredded once forgotten', async () => {
      const userId = await registerUser(h, platform);
      const registeredAt = h.clock.now();
      h.clock.advance(HOUR);
      const factor = await enableTwoFactor(h, await h.token(userId), userId);

      const atRegistration = await get(`/v1/audit/users/${userId}/state?at=${registeredAt.toISOString()}`);
      expect(atRegistration.body.state).toMatchObject({ status: 'registered', userId, factor: { kind: 'none' } });
      const enabled = await get(`/v1/audit/users/${userId}/state?at=${h.clock.now().toISOString()}`);
      expect(enabled.body.state.factor).toEqual({
        kind: 'enabled',
        secret: { encrypted: true, keyId: expect.any(String) },
        backupCodeHashes: Array.from({ length: 10 }, () => ({ redacted: true })),
      });
      expect(JSON.stringify(enabled.body)).not.toContain(factor.secret);

      expectCommandAnswer(await h.call('POST', `/v1/users/${userId}/forget`, { token: await h.token('operator-1', 'operator') }));
      const beforeForgetting = await get(`/v1/audit/users/${userId}/state?at=${h.clock.now().toISOString()}`);
      expect(beforeForgetting.body.state).toEqual({ status: 'forgotten' });
      const past = await get(`/v1/audit/users/${userId}/state?at=${new Date(h.clock.now().getTime() - 1).toISOString()}`);
      expect(past.body.state.factor.secret).toEqual({ shredded: true });
      expectProblem(await get(`/v1/audit/users/nobody-here/state?at=${h.clock.now().toISOString()}`), 404);
    });
  });

  describe('GET /v1/audit/integrity', () => {
    it('verifies one stream, and the whole store as NDJSON progress ending in a summary', async () => {
      const orgId = await registerOrg(h, platform, 'Verified Ltd');
      const one = await get(`/v1/audit/integrity?stream=organisation-${orgId}`);
      expect(one.status).toBe(200);
      expect(one.body).toEqual({ stream: `organisation-${orgId}`, ok: true, eventsChecked: 1, streamsChecked: 1, brokenStreams: 0, firstBroken: null });
      expectProblem(await get('/v1/audit/integrity?stream=organisation-nothing'), 404, 'stream_not_found');

      const all = await get('/v1/audit/integrity');
      expect(all.status).toBe(200);
      expect(all.headers.get('content-type')).toContain('application/x-ndjson');
      const lines = String(all.body).trim().split('\n').map((line) => JSON.parse(line));
      const total = (await h.service.runtime.eventStore.readAll()).length;
      expect(lines.at(-1)).toEqual({ type: 'summary', ok: true, eventsChecked: total, streamsChecked: expect.any(Number), brokenStreams: 0, firstBroken: null });
      expect(lines.slice(0, -1).every((line) => line.type === 'progress')).toBe(true);
    });
  });

  describe('GET /v1/audit/organisations/:orgId/compliance', () => {
    it('reports time without 2FA under enforcement, reminders and mode changes, as JSON and CSV', async () => {
      const start = h.clock.now();
      const orgId = await registerOrg(h, platform, 'Compliance Ltd');
      const adminId = await registerUser(h, platform);
      const laggard = await registerUser(h, platform);
      expectCommandAnswer(await setMember(h, platform, orgId, adminId, 'admin'));
      expectCommandAnswer(await setMember(h, platform, orgId, laggard, 'member'));
      expectCommandAnswer(await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: await h.token(adminId), body: { mode: 'hard', reason: 'audit' } }));
      h.clock.advance(2 * HOUR);
      await enableTwoFactor(h, await h.token(adminId), adminId);
      h.clock.advance(HOUR);
      const end = h.clock.now();
      const query = `from=${start.toISOString()}&to=${end.toISOString()}`;

      const json = await get(`/v1/audit/organisations/${orgId}/compliance?${query}`);
      expect(json.status).toBe(200);
      const adminRow = json.body.members.find((m: { userId: string }) => m.userId === adminId);
      const laggardRow = json.body.members.find((m: { userId: string }) => m.userId === laggard);
      expect(adminRow).toMatchObject({ withoutTwoFactorSeconds: 2 * 3600, twoFactorEnabledAtEnd: true });
      expect(laggardRow).toMatchObject({ withoutTwoFactorSeconds: 3 * 3600 + 30, twoFactorEnabledAtEnd: false, reminders: [] });
      expect(json.body.modeChanges).toEqual([{ at: start.toISOString(), from: 'off', to: 'hard', reason: 'audit', actor: { id: adminId, roles: [] } }]);

      const csv = await get(`/v1/audit/organisations/${orgId}/compliance?${query}&format=csv`);
      expect(csv.headers.get('content-type')).toContain('text/csv');
      expect(String(csv.body)).toContain(`member,${orgId},${laggard},`);
      expect(String(csv.body)).toContain(`mode_change,${orgId},,,,,${start.toISOString()},,off,hard,${adminId},,audit`);
      expectProblem(await get(`/v1/audit/organisations/nothing-here/compliance?${query}`), 404);
    });

    it('neutralises a reason a spreadsheet would run as a formula (OWASP CSV injection)', async () => {
      const start = h.clock.now();
      const orgId = await registerOrg(h, platform, '=HYPERLINK("http://evil.example","Open")');
      const adminId = await registerUser(h, platform);
      expectCommandAnswer(await setMember(h, platform, orgId, adminId, 'admin'));
      const reason = '=cmd|\' /C calc\'!A0';
      expectCommandAnswer(await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: await h.token(adminId), body: { mode: 'soft', reason } }));
      h.clock.advance(HOUR);
      const query = `from=${start.toISOString()}&to=${h.clock.now().toISOString()}`;

      const csv = String((await get(`/v1/audit/organisations/${orgId}/compliance?${query}&format=csv`)).body);
      expect(csv).toContain(`,${adminId},,"'${reason}",,\r\n`);
      expect(csv).not.toMatch(/(^|,)[=+\-@]/m);
    });
  });

  describe('GET /v1/audit/export', () => {
    it('exports JSON lines and RFC 4180 CSV, filtered by type and time, redacted', async () => {
      h.clock.advance(HOUR);
      const from = h.clock.now().toISOString();
      const email = `export-${Date.now()}@example.test`;
      await registerUser(h, platform, email);
      const orgId = await registerOrg(h, platform, 'Quote "Comma, Newline\u2028" Ltd');
      const to = h.clock.now().toISOString();

      const jsonl = await h.call('GET', `/v1/audit/export?format=jsonl&from=${from}&to=${to}`, { token: auditor });
      expect(jsonl.headers.get('content-type')).toContain('application/x-ndjson');
      const events = String(jsonl.body).trim().split('\n').map((line) => JSON.parse(line));
      expect(events.map((e) => e.type)).toEqual(['EmailClaimed', 'UserRegistered', 'OrganisationRegistered']);
      expect(events[0].stream).toMatch(/^email-[0-9a-f]{64}$/);
      expect(events[1].data.email).toEqual({ encrypted: true, keyId: expect.any(String) });
      expect(JSON.stringify(events)).not.toContain(email);

      const csv = await h.call('GET', `/v1/audit/export?format=csv&type=OrganisationRegistered&from=${from}`, { token: auditor });
      expect(csv.headers.get('content-type')).toContain('text/csv');
      const text = String(csv.body);
      const [header, row, end] = text.split('\r\n');
      expect(header).toBe('position,stream,revision,type,occurredAt,eventId,actorId,actorRoles,correlationId,causationId,schemaVersion,prevHash,hash,data');
      expect(end).toBe('');
      expect(row).toContain(`,organisation-${orgId},0,OrganisationRegistered,`);
      const data = JSON.stringify({ orgId, name: 'Quote "Comma, Newline\u2028" Ltd' });
      expect(row!.endsWith(`,"${data.replace(/"/g, '""')}"`)).toBe(true);
    });
  });
});
