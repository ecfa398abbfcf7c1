import type { Doc } from '../../src/ports/read-store.port.js';
import { ENFORCEMENT } from '../../src/enforcement/enforcement.projection.js';
import { EXEMPTION_EXPIRIES } from '../../src/organisations/exemption-expiry.saga.js';
import { ORG_MEMBERS, ORGANISATIONS } from '../../src/organisations/directory.projection.js';
import { REMINDER_SUBJECTS, type SubjectDoc } from '../../src/reminders/reminder.saga.js';
import { startHarness, type Harness } from '../support/http-harness.js';
import { enableTwoFactor, expectCommandAnswer, expectProblem, MAIL_RECORDS, registerOrg, registerUser, setMember } from './http-steps.js';

const DAY = 86_400_000;

describe('exemptions and the enforcement preview over HTTP', () => {
  let h: Harness;
  let platform: string;
  let support: string;
  let auditor: string;
  let orgA: string;
  let orgB: string;
  let admin: string;
  let adminToken: string;
  let bob: string; // member of A (hard) and B (soft)
  let carol: string; // member of A only
  let dave: string; // member of A with 2FA
  let erin: string; // member of A only, never exempt

  const iso = (offsetMs: number): string => new Date(h.clock.now().getTime() + offsetMs).toISOString();
  const exemption = (orgId: string, userId: string) => `/v1/organisations/${orgId}/members/${userId}/exemption`;
  const stream = async (orgId: string) => (await h.service.runtime.eventStore.readStream(`organisation-${orgId}`)).map((e) => ({ type: e.type, data: e.data }));

  beforeAll(async () => {
    h = await startHarness();
    platform = await h.token('host-platform', 'platform');
    support = await h.token('agent-1', 'support');
    auditor = await h.token('auditor-1', 'auditor');
    orgA = await registerOrg(h, platform, 'Alpha');
    orgB = await registerOrg(h, platform, 'Beta');
    [admin, bob, carol, dave, erin] = (await Promise.all([1, 2, 3, 4, 5].map(() => registerUser(h, platform)))) as [string, string, string, string, string];
    adminToken = await h.token(admin);
    expect((await setMember(h, platform, orgA, admin, 'admin')).status).toBe(200);
    for (const user of [bob, carol, dave, erin]) expect((await setMember(h, platform, orgA, user, 'member')).status).toBe(200);
    expect((await setMember(h, platform, orgB, bob, 'member')).status).toBe(200);
    expectCommandAnswer(await h.call('PUT', `/v1/organisations/${orgA}/enforcement`, { token: platform, body: { mode: 'hard' } }));
    expectCommandAnswer(await h.call('PUT', `/v1/organisations/${orgB}/enforcement`, { token: platform, body: { mode: 'soft' } }));
    await enableTwoFactor(h, await h.token(dave), dave);
    await enableTwoFactor(h, await h.token(admin), admin);
  }, 60_000);
  afterAll(async () => {
    await h.dispose();
  });

  it('lets an admin of the organisation and support exempt a member; the decision allows for that organisation only', async () => {
    const until = iso(30 * DAY);
    const put = await h.call('PUT', exemption(orgA, bob), { token: adminToken, body: { reason: 'On parental leave', until } });
    expectCommandAnswer(put);
    const byOrg = await h.call('GET', `/v1/enforcement/${bob}?orgId=${orgA}&minPosition=${put.body.position}`, { token: platform });
    expect(byOrg.body).toMatchObject({ requirement: 'none', action: 'allow', exemptUntil: until, enforcedBy: [{ orgId: orgA, mode: 'hard', exemptUntil: until }] });
    // Without an organisation: A drops out of strictest-wins, B (soft) still prompts.
    const overall = await h.call('GET', `/v1/enforcement/${bob}`, { token: platform });
    expect(overall.body).toMatchObject({ requirement: 'soft', action: 'prompt', exemptUntil: until });
    expect(overall.body.enforcedBy).toEqual([{ orgId: orgA, mode: 'hard', xeroConnected: false, exemptUntil: until }, { orgId: orgB, mode: 'soft', xeroConnected: false }]);

    const bySupport = await h.call('PUT', exemption(orgA, carol), { token: support, body: { reason: 'Hardware token on order', until: iso(10 * DAY) } });
    expectCommandAnswer(bySupport);
    const carolDecision = await h.call('GET', `/v1/enforcement/${carol}?minPosition=${bySupport.body.position}`, { token: platform });
    expect(carolDecision.body).toMatchObject({ requirement: 'none', action: 'allow', exemptUntil: iso(10 * DAY) });
  });

  it('refuses the platform, members and admins of other organisations, bad bodies and non-members', async () => {
    const body = { reason: 'x', until: iso(DAY) };
    expectProblem(await h.call('PUT', exemption(orgA, erin), { token: platform, body }), 403);
    expectProblem(await h.call('PUT', exemption(orgA, erin), { token: await h.token(erin), body }), 403);
    expectProblem(await h.call('PUT', exemption(orgB, bob), { token: adminToken, body }), 403);
    expectProblem(await h.call('PUT', exemption(orgA, 'stranger'), { token: adminToken, body }), 404, 'membership_not_found');
    expectProblem(await h.call('PUT', exemption(orgA, admin), { token: adminToken, body }), 403, 'self_exemption');
    expectProblem(await h.call('PUT', exemption('no-such-org', erin), { token: support, body }), 404, 'organisation_not_found');
    expectProblem(await h.call('PUT', exemption(orgA, erin), { token: adminToken, body: { reason: 'x', until: iso(91 * DAY) } }), 400, 'until_too_far');
    expectProblem(await h.call('PUT', exemption(orgA, erin), { token: adminToken, body: { reason: 'x', until: iso(-1000) } }), 400, 'until_not_in_future');
    expectProblem(await h.call('PUT', exemption(orgA, erin), { token: adminToken, body: { reason: 'x', until: 'soon' } }), 400, 'invalid_until');
    expectProblem(await h.call('PUT', exemption(orgA, erin), { token: adminToken, body: { until: iso(DAY) } }), 400);
    expectProblem(await h.call('PUT', exemption(orgA, erin), { token: adminToken, body: { reason: 'y'.repeat(501), until: iso(DAY) } }), 400);
    expect((await stream(orgA)).filter((e) => e.type === 'MemberExempted' && e.data['userId'] === erin)).toEqual([]);
  });

  it('shows exemptions in the member list, with a filter', async () => {
    const exempt = await h.call('GET', `/v1/organisations/${orgA}/members?exempt=true`, { token: adminToken });
    expect(exempt.status).toBe(200);
    expect(exempt.body.items.map((m: { userId: string }) => m.userId).sort()).toEqual([bob, carol].sort());
    expect(exempt.body.items.find((m: { userId: string }) => m.userId === bob).exemption).toEqual({ reason: 'On parental leave', until: iso(30 * DAY) });
    const notExempt = await h.call('GET', `/v1/organisations/${orgA}/members?exempt=false`, { token: support });
    expect(notExempt.body.items.map((m: { userId: string }) => m.userId).sort()).toEqual([admin, dave, erin].sort());
    expect(notExempt.body.items.every((m: { exemption: unknown }) => m.exemption === null)).toBe(true);
    expectProblem(await h.call('GET', `/v1/organisations/${orgA}/members?exempt=maybe`, { token: support }), 400);
  });

  it('reminds nobody for an organisation that exempts them; another enforcing organisation still reminds', async () => {
    const readStore = h.service.runtime.readStore;
    const carolSubject = await readStore.get<SubjectDoc>(REMINDER_SUBJECTS, carol);
    expect(carolSubject).toMatchObject({ dueAt: null, jobId: null });
    expect(await h.service.runtime.reminders.run(carol)).toBe('not_subject');
    const bobSubject = await readStore.get<SubjectDoc>(REMINDER_SUBJECTS, bob);
    expect(bobSubject?.dueAt).toEqual(expect.any(String));
    const erinSubject = await readStore.get<SubjectDoc>(REMINDER_SUBJECTS, erin);
    expect(erinSubject?.dueAt).toEqual(expect.any(String));
  });

  it('previews newcomers in their grace as prompted, not redirected, until the grace ends', async () => {
    const orgId = await registerOrg(h, platform, 'Gamma');
    const [owner, newcomer] = (await Promise.all([1, 2].map(() => registerUser(h, platform)))) as [string, string];
    expectCommandAnswer(await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: platform, body: { mode: 'soft', graceDays: 14 } }));
    expect((await setMember(h, platform, orgId, owner, 'admin')).status).toBe(200);
    const joined = await setMember(h, platform, orgId, newcomer, 'member');
    const preview = (query: string) => h.call('GET', `/v1/organisations/${orgId}/enforcement/preview?${query}&minPosition=${joined.body.position}`, { token: platform });
    // Both joined just now: under `hard` both would still be in their 14 days of grace.
    expect((await preview('mode=hard')).body.counts).toEqual({ members: 2, prompted: 2, redirected: 0, exempt: 0, compliant: 0 });
    // A schedule that hardens after the grace redirects them at that instant.
    const later = (await preview(`mode=soft&hardFrom=${encodeURIComponent(iso(20 * DAY))}`)).body;
    expect(later.atHardFrom).toEqual({ members: 2, prompted: 0, redirected: 2, exempt: 0, compliant: 0 });
  });

  it('previews a mode without writing anything, with the decision\'s own rules', async () => {
    const runtime = h.service.runtime;
    // What a preview could write: command events and the views it reads. The scheduler's mail
    // records (a notice, a reminder) and the checkpoints they move come and go on their own time.
    const snapshot = async () => {
      const head = await runtime.eventStore.headPosition();
      if (head !== null) expect(await runtime.progress.waitFor(head, 10_000)).toBe(true);
      return {
        events: (await runtime.eventStore.readAll({})).filter((e) => !MAIL_RECORDS.includes(e.type)).map((e) => `${e.position} ${e.stream} ${e.type}`),
        docs: await Promise.all(
          [ORG_MEMBERS, ORGANISATIONS, ENFORCEMENT, EXEMPTION_EXPIRIES].map(async (c) =>
            // A reminder sent meanwhile stamps the member's lastReminderAt; the preview never does.
            (await runtime.readStore.find<Doc>(c, {}, { limit: 1000 })).items.map(({ lastReminderAt: _sent, ...doc }) => doc),
          ),
        ),
      };
    };
    const before = await snapshot();

    const soft = await h.call('GET', `/v1/organisations/${orgA}/enforcement/preview?mode=soft`, { token: adminToken });
    expect(soft.status).toBe(200);
    expect(soft.body.counts).toEqual({ members: 5, prompted: 1, redirected: 0, exempt: 2, compliant: 2 });
    expect(soft.body.items).toEqual(
      [
        { userId: bob, outcome: 'exempt', exemptUntil: iso(30 * DAY) },
        { userId: carol, outcome: 'exempt', exemptUntil: iso(10 * DAY) },
        { userId: erin, outcome: 'prompt', exemptUntil: null },
      ].sort((a, b) => (a.userId < b.userId ? -1 : 1)),
    );
    const hard = await h.call('GET', `/v1/organisations/${orgA}/enforcement/preview?mode=hard&limit=1`, { token: support });
    expect(hard.body.counts).toEqual({ members: 5, prompted: 0, redirected: 1, exempt: 2, compliant: 2 });
    expect(hard.body.items).toHaveLength(1);
    const rest = await h.call('GET', `/v1/organisations/${orgA}/enforcement/preview?mode=hard&limit=500&cursor=${hard.body.nextCursor}`, { token: platform });
    expect(rest.body.items).toHaveLength(2);
    expect(rest.body.nextCursor).toBeNull();
    expect([...hard.body.items, ...rest.body.items].map((i: { userId: string }) => i.userId)).toEqual([bob, carol, erin].sort());
    const off = await h.call('GET', `/v1/organisations/${orgA}/enforcement/preview?mode=off`, { token: adminToken });
    expect(off.body).toMatchObject({ counts: { members: 5, prompted: 0, redirected: 0, exempt: 0, compliant: 2 }, items: [], atHardFrom: null });

    // With a schedule 20 days out: carol's exemption (10 days) has ended by then, bob's (30 days) has not.
    const hardFrom = iso(20 * DAY);
    const scheduled = await h.call('GET', `/v1/organisations/${orgA}/enforcement/preview?mode=soft&hardFrom=${encodeURIComponent(hardFrom)}`, { token: adminToken });
    expect(scheduled.body).toMatchObject({ hardFrom, atHardFrom: { members: 5, prompted: 0, redirected: 2, exempt: 1, compliant: 2 } });

    expectProblem(await h.call('GET', `/v1/organisations/${orgA}/enforcement/preview?mode=hard&hardFrom=${encodeURIComponent(hardFrom)}`, { token: adminToken }), 400, 'hard_from_requires_soft');
    expectProblem(await h.call('GET', `/v1/organisations/${orgA}/enforcement/preview?mode=soft&hardFrom=${encodeURIComponent(iso(-DAY))}`, { token: adminToken }), 400, 'hard_from_not_in_future');
    expectProblem(await h.call('GET', `/v1/organisations/${orgA}/enforcement/preview?mode=hard&cursor=bogus`, { token: adminToken }), 400, 'invalid_cursor');
    expectProblem(await h.call('GET', `/v1/organisations/${orgA}/enforcement/preview?mode=sideways`, { token: adminToken }), 400);
    expectProblem(await h.call('GET', `/v1/organisations/${orgA}/enforcement/preview?mode=hard&limit=501`, { token: adminToken }), 400);
    expectProblem(await h.call('GET', `/v1/organisations/${orgA}/enforcement/preview?mode=hard`, { token: await h.token(erin) }), 403);
    expectProblem(await h.call('GET', `/v1/organisations/${orgA}/enforcement/preview?mode=hard`, { token: auditor }), 403);

    expect(await snapshot()).toEqual(before);
  });

  it('refuses to preview `off` for a Xero-connected organisation', async () => {
    const xeroOrg = await registerOrg(h, platform, 'On Xero');
    expectCommandAnswer(await h.call('PUT', `/v1/organisations/${xeroOrg}/xero-connection`, { token: platform, body: { tenantId: 'tenant-x' } }));
    expectProblem(await h.call('GET', `/v1/organisations/${xeroOrg}/enforcement/preview?mode=off`, { token: platform }), 409, 'xero_requires_enforcement');
  });

  it('expires by the scheduler\'s job driven by the fake clock: not before `until`, once after, never for a stale version', async () => {
    const job = { orgId: orgA, userId: carol, version: 2 };
    const expiries = h.service.runtime.exemptions;
    expect(await expiries.run(job)).toBe('not_due');
    const ended = async () => (await stream(orgA)).filter((e) => e.type === 'MemberExemptionEnded' && e.data['userId'] === carol);
    expect(await ended()).toEqual([]);
    h.clock.advance(10 * DAY);
    expect(await expiries.run({ ...job, version: 1 })).toBe('nothing_to_expire');
    await expiries.run(job);
    await expiries.run(job);
    expect(await ended()).toEqual([{ type: 'MemberExemptionEnded', data: { userId: carol, version: 2, reason: 'expired', note: null } }]);
    const head = await h.service.runtime.eventStore.headPosition();
    const decision = await h.call('GET', `/v1/enforcement/${carol}?minPosition=${head}`, { token: platform });
    expect(decision.body).toMatchObject({ requirement: 'hard', action: 'redirect', exemptUntil: null });
    const subject = await h.service.runtime.readStore.get<SubjectDoc>(REMINDER_SUBJECTS, carol);
    expect(subject?.dueAt).toEqual(expect.any(String));
    expect(await h.service.runtime.readStore.find(EXEMPTION_EXPIRIES, { userId: carol }, {})).toMatchObject({ items: [] });
    h.clock.advance(-10 * DAY);
  });

  it('ends early on DELETE, ends on leaving, and carries nothing over to a new membership', async () => {
    const token = await h.token(admin);
    const revoke = await h.call('DELETE', exemption(orgA, bob), { token, body: { reason: 'Back early' } });
    expectCommandAnswer(revoke);
    expect((await h.call('GET', `/v1/enforcement/${bob}?orgId=${orgA}&minPosition=${revoke.body.position}`, { token: platform })).body).toMatchObject({ action: 'redirect', exemptUntil: null });
    expectCommandAnswer(await h.call('DELETE', exemption(orgA, bob), { token: support }));
    expectProblem(await h.call('DELETE', exemption(orgA, bob), { token: platform }), 403);

    expectCommandAnswer(await h.call('PUT', exemption(orgA, erin), { token: support, body: { reason: 'Travelling', until: iso(5 * DAY) } }));
    expectCommandAnswer(await h.call('DELETE', `/v1/organisations/${orgA}/members/${erin}`, { token }));
    const types = (await stream(orgA)).slice(-2);
    expect(types).toEqual([
      { type: 'MemberExemptionEnded', data: { userId: erin, version: 3, reason: 'left', note: null } },
      { type: 'MemberLeftOrg', data: expect.objectContaining({ userId: erin }) },
    ]);
    const rejoin = await setMember(h, platform, orgA, erin, 'member');
    const list = await h.call('GET', `/v1/organisations/${orgA}/members?exempt=true&minPosition=${rejoin.body.position}`, { token });
    expect(list.body.items).toEqual([]);
    expect((await h.call('GET', `/v1/enforcement/${erin}?orgId=${orgA}`, { token: platform })).body).toMatchObject({ action: 'redirect', exemptUntil: null });
    const revoked = (await stream(orgA)).find((e) => e.type === 'MemberExemptionEnded' && e.data['reason'] === 'revoked');
    expect(revoked?.data).toEqual({ userId: bob, version: 1, reason: 'revoked', note: 'Back early' });
  });

  it('shows exemptions in the audit trail and in the state as of an instant', async () => {
    const history = await h.call('GET', `/v1/audit/streams/organisation-${orgA}`, { token: auditor });
    expect(history.status).toBe(200);
    const types = history.body.events.map((e: { type: string }) => e.type);
    expect(types).toContain('MemberExempted');
    expect(types).toContain('MemberExemptionEnded');
    const HOUR = 3_600_000;
    h.clock.advance(HOUR);
    const grantedAt = iso(0);
    const until = iso(DAY);
    expectCommandAnswer(await h.call('PUT', exemption(orgA, dave), { token: support, body: { reason: 'Audit trail check', until } }));
    h.clock.advance(HOUR);
    expectCommandAnswer(await h.call('DELETE', exemption(orgA, dave), { token: support }));
    const during = await h.call('GET', `/v1/audit/organisations/${orgA}/state?at=${encodeURIComponent(grantedAt)}`, { token: auditor });
    expect(during.status).toBe(200);
    expect(during.body.state.exemptions[dave]).toEqual({ reason: 'Audit trail check', until, version: 4 });
    const after = await h.call('GET', `/v1/audit/organisations/${orgA}/state?at=${encodeURIComponent(iso(0))}`, { token: auditor });
    expect(after.body.state.exemptions[dave]).toBeUndefined();
    const report = await h.call('GET', `/v1/audit/organisations/${orgA}/compliance?from=${encodeURIComponent(iso(-3 * HOUR))}&to=${encodeURIComponent(iso(0))}`, { token: auditor });
    expect(report.status).toBe(200);
    expect(report.body.exemptions.filter((e: { userId: string }) => e.userId === dave)).toEqual([
      { at: grantedAt, userId: dave, change: 'exempted', until, reason: 'Audit trail check', actor: { id: 'agent-1', roles: ['support'] } },
      { at: iso(0), userId: dave, change: 'ended', until: null, reason: 'revoked', actor: { id: 'agent-1', roles: ['support'] } },
    ]);
  });

  it('never logs an exemption\'s reason', () => {
    for (const reason of ['On parental leave', 'Hardware token on order', 'Back early', 'Travelling', 'Audit trail check']) expect(h.logs()).not.toContain(reason);
  });
});
