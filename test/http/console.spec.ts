import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DERIVED_DATABASE_FILE } from '../../src/runtime/data-dir.files.js';
import { startHarness, type Harness } from '../support/http-harness.js';
import { attribute, csrfOf, HOST_ORIGIN, PageClient, PAGES_ENV, type PageResponse } from '../support/page-client.js';
import { CONSOLE_STRINGS as C } from '../../src/pages/console.strings.js';
import { ORG_MEMBERS, type MemberDoc } from '../../src/organisations/directory.projection.js';
import { orgMemberId } from '../../src/projections/org-member.index.js';
import { buildFindQuery } from '../../src/infrastructure/read-store/sqlite.query.js';
import type { Filter } from '../../src/ports/read-store.port.js';
import { normalizeSort } from '../../src/infrastructure/read-store/read-store.pagination.js';
import { enableTwoFactor, registerOrg, registerUser, setMember, wrongCode } from './http-steps.js';

/**
 * The console (DESIGN §8, purpose `console`) over real HTTP: hand-off, session, CSRF and Origin,
 * each role's pages and forms, refusals as HTML pages, and the JSON routes the console needed.
 */
describe('console', () => {
  let h: Harness;
  let platform: string;
  let support: string;
  let orgId: string;
  let xeroOrgId: string;
  let admin: string;
  let member: string;
  let memberSecret: string;

  beforeAll(async () => {
    h = await startHarness({ env: { ...PAGES_ENV, RATE_LIMIT_PER_USER: '1000' } });
    platform = await h.token('platform-1', 'platform');
    support = await h.token('support-1', 'support');
    [admin, member] = [await registerUser(h, platform), await registerUser(h, platform)];
    orgId = await registerOrg(h, platform, 'Acme Books');
    xeroOrgId = await registerOrg(h, platform, 'Ledger & Co');
    for (const [org, user, role] of [[orgId, admin, 'admin'], [orgId, member, 'member'], [xeroOrgId, admin, 'admin']] as const) expect((await setMember(h, platform, org, user, role)).status).toBe(200);
    expect((await h.call('PUT', `/v1/organisations/${xeroOrgId}/xero-connection`, { token: platform, body: { tenantId: 'tenant-1' } })).status).toBe(200);
    memberSecret = (await enableTwoFactor(h, await h.token(member), member)).secret;
  }, 60_000);
  afterAll(() => h.dispose());

  async function consoleAs(sub: string, roles: string[] = []): Promise<{ browser: PageClient; index: PageResponse }> {
    const browser = new PageClient(h);
    const index = await browser.handoff({ sub, purpose: 'console', roles });
    return { browser, index };
  }

  function expectHtml(page: PageResponse, status: number): void {
    expect({ status: page.status, type: page.headers.get('content-type') }).toEqual({ status, type: 'text/html; charset=utf-8' });
    expect(page.text).not.toMatch(/at .*\.(ts|js):\d+/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'nonce-");
    expect(page.text).not.toMatch(/<style|style="|<script>/);
  }

  /** Downloads of JSON lines, read as text (the page client parses JSON answers). */
  async function download(browser: PageClient, path: string): Promise<{ status: number; headers: Headers; text: string }> {
    const response = await fetch(`${h.url}${path}`, { headers: { cookie: `tfa_pages=${browser.cookie('tfa_pages')!}` } });
    return { status: response.status, headers: response.headers, text: await response.text() };
  }

  const text = (page: PageResponse) => page.text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

  describe('hand-off and the index', () => {
    it('lands a console hand-off on /console; the old address redirects there', async () => {
      const browser = new PageClient(h);
      const { handoffToken } = await import('../support/page-client.js');
      const landing = await browser.get(`/two-factor/handoff?token=${await handoffToken(h, { sub: admin, purpose: 'console' })}`);
      expect({ status: landing.status, location: landing.location }).toEqual({ status: 303, location: '/console' });
      const old = await browser.get('/two-factor/console');
      expect({ status: old.status, location: old.location }).toEqual({ status: 303, location: '/console' });
    });

    it('lists each console the session may use: an admin\'s organisations, support, audit', async () => {
      const { index } = await consoleAs(admin, ['support', 'auditor']);
      expectHtml(index, 200);
      expect(index.text).toContain(`href="/console/organisations/${orgId}"`);
      expect(index.text).toContain(`href="/console/organisations/${xeroOrgId}"`);
      expect(index.text).toContain('href="/console/support"');
      expect(index.text).toContain('href="/console/audit"');
      const staffOnly = await consoleAs('auditor-7', ['auditor']);
      expectHtml(staffOnly.index, 200);
      expect(staffOnly.index.text).toContain('href="/console/audit"');
      expect(staffOnly.index.text).not.toContain('href="/console/support"');
    });

    it('shows a plain member the 403 "not allowed" page on every console route, never data', async () => {
      const { browser, index } = await consoleAs(member);
      expectHtml(index, 403);
      expect(index.text).toContain(`<h1>${C.titles.notAllowed}</h1>`);
      expect(index.text).toContain(C.notAllowed.body);
      const gets = [
        `/console/organisations/${orgId}`,
        `/console/organisations/${orgId}?mode=hard`,
        `/console/organisations/${orgId}/members.csv`,
        '/console/support',
        `/console/support/users/${admin}`,
        '/console/audit',
        `/console/audit?subject=organisation&id=${orgId}`,
        '/console/audit/integrity/AAAAAAAAAAAAAAAAAAAAAA',
        `/console/audit/compliance?orgId=${orgId}&from=2026-01-01&to=2026-12-31`,
        `/console/audit/compliance/download?orgId=${orgId}&from=2026-01-01&to=2026-12-31&format=csv`,
        '/console/audit/export?format=jsonl',
      ];
      for (const path of gets) {
        const page = await browser.get(path);
        expect({ path, status: page.status }).toEqual({ path, status: 403 });
        expectHtml(page, 403);
        expect(page.text).toContain(`<h1>${C.titles.notAllowed}</h1>`);
        expect(page.text).not.toContain(admin);
      }
      const csrf = csrfOf(index.text);
      const before = await h.service.runtime.eventStore.headPosition();
      const posts: Array<[string, Record<string, string>]> = [
        [`/console/organisations/${orgId}/enforcement`, { csrf, mode: 'off', reason: 'member tries' }],
        ['/console/support/search', { csrf, q: `${admin}@example.test` }],
        [`/console/support/users/${admin}/reset`, { csrf, reason: 'member tries', confirm: 'yes' }],
        ['/console/audit/integrity', { csrf }],
      ];
      for (const [path, form] of posts) {
        const page = await browser.post(path, form);
        expect({ path, status: page.status }).toEqual({ path, status: 403 });
        expectHtml(page, 403);
      }
      // Background work (a reminder to a soft organisation's admin) may append meanwhile; the member's posts appended nothing.
      const appended = await h.service.runtime.eventStore.readAll(before ? { after: before } : {});
      expect(appended.filter((event) => event.metadata.actor.id === member)).toEqual([]);
    });

    it('answers without a session with the 401 page', async () => {
      const page = await new PageClient(h).get('/console');
      expectHtml(page, 401);
    });
  });

  describe('organisation (admin)', () => {
    it('previews the effect, requires a reason, saves the mode and records it in the history', async () => {
      expect((await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: platform, body: { mode: 'soft', reason: 'start' } })).status).toBe(200);
      const { browser } = await consoleAs(admin);
      const page = await browser.get(`/console/organisations/${orgId}?mode=hard&minPosition=0`);
      expectHtml(page, 200);
      // The admin has no 2FA, the member has: one member would be redirected.
      expect(text(page)).toContain(C.org.effect.hard(1));
      const csrf = csrfOf(page.text);

      const noReason = await browser.post(`/console/organisations/${orgId}/enforcement`, { csrf, mode: 'hard', reason: '  ' });
      expectHtml(noReason, 422);
      expect(noReason.text).toContain(C.org.reasonMissing);

      const saved = await browser.post(`/console/organisations/${orgId}/enforcement`, { csrf, mode: 'hard', reason: 'Auditor asked for it' });
      expect(saved.status).toBe(303);
      expect(saved.location).toMatch(new RegExp(`^/console/organisations/${orgId}\\?saved=hard&minPosition=`));
      const after = await browser.get(saved.location!);
      expectHtml(after, 200);
      expect(text(after)).toContain(C.org.saved('Hard'));
      expect(text(after)).toContain('Auditor asked for it');
      const view = await h.call('GET', `/v1/organisations/${orgId}`, { token: platform });
      expect(view.body.mode).toBe('hard');
      const history = await h.call('GET', `/v1/organisations/${orgId}/history`, { token: platform });
      expect(history.body.items[0]).toMatchObject({ type: 'EnforcementModeChanged', reason: 'Auditor asked for it', actor: { id: admin, roles: [] }, details: { from: 'soft', to: 'hard' } });
    });

    it('does not offer off while Xero-connected, says why, and refuses it if posted anyway', async () => {
      const { browser } = await consoleAs(admin);
      const page = await browser.get(`/console/organisations/${xeroOrgId}`);
      expectHtml(page, 200);
      expect(page.text).not.toContain('value="off"');
      expect(page.text).toContain('data-off-not-offered');
      expect(text(page)).toContain(C.org.offNotOffered);
      const refused = await browser.post(`/console/organisations/${xeroOrgId}/enforcement`, { csrf: csrfOf(page.text), mode: 'off', reason: 'try anyway' });
      expectHtml(refused, 409);
      expect(refused.text).toContain(C.org.refusedXero);
      expect((await h.call('GET', `/v1/organisations/${xeroOrgId}`, { token: platform })).body.mode).toBe('soft');
    });

    it('refuses a form without the session\'s CSRF token or from another origin, and changes nothing', async () => {
      const { browser } = await consoleAs(admin);
      const page = await browser.get(`/console/organisations/${orgId}`);
      const csrf = csrfOf(page.text);
      const before = await h.service.runtime.eventStore.headPosition();
      const form = { mode: 'soft', reason: 'csrf test' };
      for (const [label, response] of [
        ['no token', await browser.post(`/console/organisations/${orgId}/enforcement`, form)],
        ['wrong token', await browser.post(`/console/organisations/${orgId}/enforcement`, { ...form, csrf: `${csrf}x` })],
        ['other origin', await browser.post(`/console/organisations/${orgId}/enforcement`, { ...form, csrf }, { origin: 'https://evil.example' })],
        ['no origin', await browser.post(`/console/organisations/${orgId}/enforcement`, { ...form, csrf }, { origin: null })],
        ['other origin, support reset', await browser.post(`/console/support/users/${member}/reset`, { csrf, reason: 'x', confirm: 'yes' }, { origin: HOST_ORIGIN })],
      ] as const) {
        expect({ label, status: response.status }).toEqual({ label, status: 403 });
        expectHtml(response, 403);
      }
      const appended = await h.service.runtime.eventStore.readAll(before ? { after: before } : {});
      expect(appended.filter((event) => event.metadata.actor.id === admin)).toEqual([]);
    });

    it('lists members with filters and streams them as CSV', async () => {
      const memberToken = await h.token(member);
      // Lock the member out: five wrong codes.
      for (let i = 0; i < 5; i++) await h.call('POST', `/v1/users/${member}/two-factor/verify`, { token: memberToken, body: { code: wrongCode(h, memberSecret) } });
      const { browser } = await consoleAs(admin);
      const locked = await browser.get(`/console/organisations/${orgId}?filter=locked&minPosition=0`);
      expectHtml(locked, 200);
      expect(locked.text).toContain(`data-user-id="${member}"`);
      expect(locked.text).not.toContain(`data-user-id="${admin}"`);
      const none = await browser.get(`/console/organisations/${orgId}?filter=none`);
      expect(none.text).toContain(`data-user-id="${admin}"`);
      expect(none.text).not.toContain(`data-user-id="${member}"`);
      const csv = await browser.get(`/console/organisations/${orgId}/members.csv`);
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="members-${orgId}.csv"`);
      const lines = csv.text.trim().split('\r\n');
      expect(lines[0]).toBe('userId,role,twoFactor,enabledSince,backupCodesLeft,lockedUntil,exemptUntil,lastReminderAt,joinedAt');
      expect(lines.slice(1).map((line) => line.split(',')[0]).sort()).toEqual([admin, member].sort());
      const lockedJson = await h.call('GET', `/v1/organisations/${orgId}/members?locked=true`, { token: platform });
      expect(lockedJson.body.items.map((m: { userId: string }) => m.userId)).toEqual([member]);
    });

    it('answers bad input with a 4xx page, never a 500', async () => {
      const { browser, index } = await consoleAs(admin, ['auditor', 'support']);
      const csrf = csrfOf(index.text);
      for (const path of [`/console/organisations/${orgId}?filter=bogus`, `/console/organisations/${orgId}?cursor=%00nope`, '/console/organisations/a%20b', `/console/audit?subject=planet&id=x`, `/console/audit?subject=organisation&id=${orgId}&at=yesterday`, '/console/audit/integrity/short', `/console/audit/compliance?orgId=${orgId}&from=2026-02-01&to=2026-01-01`, '/console/audit/export?format=xml']) {
        const page = await browser.get(path);
        expect({ path, status: page.status >= 400 && page.status < 500 }).toEqual({ path, status: true });
        expectHtml(page, page.status);
      }
      const unknownMode = await browser.post(`/console/organisations/${orgId}/enforcement`, { csrf, mode: 'extreme', reason: 'x' });
      expectHtml(unknownMode, 400);
      const longReason = await browser.post(`/console/support/users/${member}/reset`, { csrf, reason: 'x'.repeat(501) });
      expectHtml(longReason, 400);
      const unknownOrg = await browser.get('/console/organisations/no-such-org');
      expectHtml(unknownOrg, 404);
    });
  });

  describe('support', () => {
    it('finds a user by e-mail (blind index) and resets their factor after a confirmation; the reason is in the timeline', async () => {
      const user = await registerUser(h, platform, 'Pat.Lost@Example.test');
      expect((await setMember(h, platform, orgId, user, 'member')).status).toBe(200);
      await enableTwoFactor(h, await h.token(user), user);
      const { browser } = await consoleAs('support-9', ['support']);
      const search = await browser.get('/console/support');
      expectHtml(search, 200);
      const nothing = await browser.post('/console/support/search', { csrf: csrfOf(search.text), q: 'nobody@example.test' });
      expectHtml(nothing, 200);
      expect(text(nothing)).toContain(C.empty.searchResult);
      const found = await browser.post('/console/support/search', { csrf: csrfOf(search.text), q: '  pat.lost@example.TEST ' });
      expect({ status: found.status, location: found.location }).toEqual({ status: 303, location: `/console/support/users/${user}` });
      const page = await browser.get(found.location!);
      expectHtml(page, 200);
      expect(page.text).toContain('Pat.Lost@Example.test');
      expect(page.text).toContain('data-two-factor-status="enabled"');
      expect(text(page)).toContain('Acme Books');

      const noReason = await browser.post(`/console/support/users/${user}/reset`, { csrf: csrfOf(page.text), reason: '' });
      expectHtml(noReason, 422);
      expect(noReason.text).toContain(C.support.resetReasonMissing);
      const confirm = await browser.post(`/console/support/users/${user}/reset`, { csrf: csrfOf(page.text), reason: 'Lost phone; identity checked by video call' });
      expectHtml(confirm, 200);
      expect(confirm.text).toContain('name="confirm" value="yes"');
      expect((await h.call('GET', `/v1/users/${user}`, { token: support })).body.twoFactor.status).toBe('enabled');
      const done = await browser.post(`/console/support/users/${user}/reset`, { csrf: csrfOf(confirm.text), reason: attribute(confirm.text, 'name="reason" value') ?? 'Lost phone; identity checked by video call', confirm: 'yes' });
      expect(done.status).toBe(303);
      const after = await browser.get(done.location!);
      expectHtml(after, 200);
      expect(text(after)).toContain(C.support.done.reset);
      expect(after.text).toContain('data-two-factor-status="none"');
      expect(text(after)).toContain('TwoFactorReset');
      expect(text(after)).toContain('Lost phone; identity checked by video call');
      const timeline = await h.call('GET', `/v1/users/${user}/timeline`, { token: support });
      expect(timeline.body.items[0]).toMatchObject({ type: 'TwoFactorReset', reason: 'Lost phone; identity checked by video call', actor: { id: 'support-9', roles: ['support'] } });
      expect(JSON.stringify(timeline.body)).not.toMatch(/pat\.lost|ciphertext|hashes/i);
    });

    it('looks users up by e-mail over the API through the blind index only', async () => {
      const lookup = await h.call('GET', `/v1/users?email=${encodeURIComponent(`${admin}@example.test`.toUpperCase())}`, { token: support });
      expect(lookup.body).toEqual({ items: [{ id: admin }] });
      expect((await h.call('GET', '/v1/users?email=nobody%40example.test', { token: support })).body).toEqual({ items: [] });
      expect((await h.call('GET', `/v1/users?email=${admin}%40example.test`, { token: await h.token(admin) })).status).toBe(403);
      expect((await h.call('GET', '/v1/users?email=not-an-address', { token: support })).status).toBe(400);
    });
  });

  describe('audit', () => {
    it('shows a timeline with its chain status and the state as of an earlier instant', async () => {
      const org = await registerOrg(h, platform, 'Time Travel Ltd');
      h.clock.advance(1_000);
      const softAt = h.clock.now();
      h.clock.advance(60_000);
      expect((await h.call('PUT', `/v1/organisations/${org}/enforcement`, { token: platform, body: { mode: 'hard', reason: 'later' } })).status).toBe(200);
      const { browser } = await consoleAs('auditor-1', ['auditor']);
      const timeline = await browser.get(`/console/audit?subject=organisation&id=${org}`);
      expectHtml(timeline, 200);
      expect(timeline.text).toContain('data-chain-status="intact"');
      expect(text(timeline)).toContain('EnforcementModeChanged');
      expect(text(timeline)).toContain('later');
      const earlier = await browser.get(`/console/audit?subject=organisation&id=${org}&at=${softAt.toISOString().slice(0, 19)}&tz=0`);
      expectHtml(earlier, 200);
      expect(text(earlier)).toMatch(/Mode Off/);
      h.clock.advance(1_000);
      const now = await browser.get(`/console/audit?subject=organisation&id=${org}&at=${h.clock.now().toISOString().slice(0, 19)}&tz=0`);
      expect(text(now)).toMatch(/Mode Hard/);
      const unknown = await browser.get('/console/audit?subject=user&id=nobody-here');
      expectHtml(unknown, 404);
    });

    it('runs the integrity check as a job whose page refreshes until done, for its own session only', async () => {
      const { browser, index } = await consoleAs('auditor-2', ['auditor']);
      const started = await browser.post('/console/audit/integrity', { csrf: csrfOf(index.text) });
      expect(started.status).toBe(303);
      expect(started.location).toMatch(/^\/console\/audit\/integrity\/[A-Za-z0-9_-]{22}$/);
      let page = await browser.get(started.location!);
      for (let i = 0; i < 100 && page.text.includes('data-job-state="running"'); i++) {
        expect(page.text).toContain('http-equiv="refresh"');
        await new Promise((resolve) => setTimeout(resolve, 50));
        page = await browser.get(started.location!);
      }
      expectHtml(page, 200);
      expect(page.text).toContain('data-job-state="done"');
      expect(page.text).not.toContain('http-equiv="refresh"');
      const other = await consoleAs('auditor-3', ['auditor']);
      expectHtml(await other.browser.get(started.location!), 404);
    });

    it('shows the compliance report and downloads it as CSV and JSONL; exports the log', async () => {
      const { browser } = await consoleAs('auditor-1', ['auditor']);
      const day = h.clock.now().toISOString().slice(0, 10);
      const report = await browser.get(`/console/audit/compliance?orgId=${orgId}&from=${day}&to=${day}`);
      expectHtml(report, 200);
      expect(report.text).toContain('data-download="csv"');
      const csv = await browser.get(`/console/audit/compliance/download?orgId=${orgId}&from=${day}&to=${day}&format=csv`);
      expect(csv.status).toBe(200);
      expect(csv.text.split('\r\n')[0]).toMatch(/^record,orgId,userId/);
      expect(csv.text).toContain('mode_change');
      const jsonl = await download(browser, `/console/audit/compliance/download?orgId=${orgId}&from=${day}&to=${day}&format=jsonl`);
      const records = jsonl.text.trim().split('\n').map((line) => JSON.parse(line) as { record: string });
      expect(records[0]).toMatchObject({ record: 'report', orgId });
      expect(records.some((r) => r.record === 'member')).toBe(true);
      const exported = await download(browser, '/console/audit/export?format=jsonl');
      expect(exported.status).toBe(200);
      expect(exported.headers.get('content-disposition')).toBe('attachment; filename="audit-export.jsonl"');
      expect(exported.text.trim().split('\n').length).toBeGreaterThan(10);
    });
  });

  describe('members at scale', () => {
    it('pages 10,000 members with keyset cursors and indexed filters, each member exactly once', async () => {
      const big = await registerOrg(h, platform, 'Big Org');
      // Seeded straight into the read model (the directory projection's own document shape): registering
      // 10,000 users through the API would take minutes; paging is what this test is about.
      const docs: MemberDoc[] = Array.from({ length: 10_000 }, (_, i) => {
        const userId = `bulk-${String(i).padStart(5, '0')}`;
        const enabled = i % 7 !== 0;
        const lockedUntil = i % 500 === 3 ? new Date(h.clock.now().getTime() + 600_000).toISOString() : null;
        return {
          id: orgMemberId(big, userId), orgId: big, userId, role: 'member', joinedAt: h.clock.now().toISOString(), twoFactorEnabled: enabled,
          twoFactor: { status: enabled ? 'enabled' : 'none', enabledSince: null, backupCodesLeft: enabled ? 10 : 0, lockedUntil },
          forgotten: false, exemption: null, exempt: false, graceFrom: null, lastReminderAt: null,
        };
      });
      await h.service.runtime.readStore.write(docs.map((doc) => ({ kind: 'upsert', collection: ORG_MEMBERS, doc })));
      const pageThrough = async (query: string): Promise<string[]> => {
        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const response: { status: number; body: { items: Array<{ userId: string }>; nextCursor: string | null } } = await h.call('GET', `/v1/organisations/${big}/members?limit=500${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: support });
          expect(response.status).toBe(200);
          seen.push(...response.body.items.map((m) => m.userId));
          cursor = response.body.nextCursor;
        } while (cursor);
        return seen;
      };
      const all = await pageThrough('');
      expect(all).toHaveLength(10_000);
      expect(new Set(all).size).toBe(10_000);
      expect([...all].sort()).toEqual(all);
      expect(await pageThrough('&twoFactor=disabled')).toHaveLength(docs.filter((d) => !d.twoFactorEnabled).length);
      expect(await pageThrough('&locked=true')).toEqual(docs.filter((d) => d.twoFactor.lockedUntil !== null).map((d) => d.userId));
      // The filters are served by indexes, not by a scan of the organisation's members.
      // A read-only connection of its own: the service's stores sit behind the storage-failure guard.
      const db = new Database(join(h.dataDir, DERIVED_DATABASE_FILE), { readonly: true });
      const filters: Filter[] = [{ orgId: big, twoFactorEnabled: false }, { orgId: big, 'twoFactor.lockedUntil': { $gt: h.clock.now().toISOString() } }];
      for (const filter of filters) {
        const query = buildFindQuery(ORG_MEMBERS, filter, normalizeSort(undefined), { limit: 50 });
        const plan = db.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).all(...query.params);
        expect((plan as Array<{ detail: string }>).map((row) => row.detail).join(' ')).toMatch(/USING (COVERING )?INDEX "?rm_org_members:/);
      }
      db.close();
      // The console's own page shows the first 50 and a cursor to the next.
      const { browser } = await consoleAs('support-2', ['support']);
      const page = await browser.get(`/console/organisations/${big}?filter=none`);
      expectHtml(page, 200);
      expect(page.text.match(/data-user-id=/g)).toHaveLength(50);
      expect(page.text).toContain('rel="next"');
    }, 60_000);
  });
});
