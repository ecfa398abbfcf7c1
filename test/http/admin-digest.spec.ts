import { FakeClock } from '../../src/kernel/clock.js';
import { deadlinePhrase } from '../../src/reminders/reminder.email.js';
import { generateTotpCode } from '../../src/two-factor/totp.js';
import { parseMessage } from '../mail/raw-message.js';
import { SmtpTestServer, type ReceivedMail } from '../mail/smtp-test-server.js';
import { BURST_ENV, startHarness, type Harness } from '../support/http-harness.js';
import { waitFor } from '../support/wait-for.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const DAY = 86_400_000;
const WEEK = 7 * DAY;
const MEMBERS = 55;
const member = (i: number) => `m${String(i).padStart(2, '0')}`;

/**
 * The admins' digest with a fake clock: two service instances (both running the scheduler) on one
 * SQLite file share the clock; a period passes in a call, both fan out, and each admin of an
 * enforcing organisation receives exactly one digest per period over real SMTP on loopback.
 */
describe('admins\' digest (fake clock, two scheduler processes)', () => {
  let smtp: SmtpTestServer;
  let first: Harness;
  let second: Harness;
  const clock = new FakeClock(new Date());
  const env = { ...BURST_ENV, SCHEDULER_PROCESS_EVERY: '0.1 seconds', APP_BASE_URL: 'https://app.example.com' };
  const isDigest = (m: ReceivedMail) => /without two-factor authentication$/.test(parseMessage(m.raw).headers.get('subject') ?? '');
  const digestsTo = (user: string) => smtp.received.filter((m) => m.to.includes(`${user}@example.com`) && isDigest(m));
  const recorded = async () => first.service.runtime.eventStore.readAll({ types: ['AdminDigestSent'] });

  beforeAll(async () => {
    smtp = await SmtpTestServer.start();
    first = await startHarness({ clock, env: { ...env, SMTP_URL: smtp.url, ROLES: 'api,projector,scheduler' } });
    second = await startHarness({ clock, env: { ...env, SMTP_URL: smtp.url, ROLES: 'api,scheduler' }, dataDir: first.dataDir });
  });
  afterAll(async () => {
    await second.dispose();
    await first.dispose();
    await smtp.close();
  });

  async function ok(method: string, path: string, body?: unknown, token?: string): Promise<any> {
    const response = await first.call(method, path, { token: token ?? (await first.token('host-platform', 'platform')), ...(body === undefined ? {} : { body }) });
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }
  async function enable(userId: string): Promise<string> {
    const setup = await ok('POST', `/v1/users/${userId}/two-factor/setup`);
    const secret = new URL(setup.otpauthUri).searchParams.get('secret')!;
    return (await ok('POST', `/v1/users/${userId}/two-factor/confirm`, { code: generateTotpCode({ secret, at: clock.now() }) })).position;
  }
  const fanOutOnBoth = async () => Promise.all([first.service.runtime.digests.fanOut(), second.service.runtime.digests.fanOut()]);

  it('sends each admin of an enforcing organisation one digest per period, listing at most 50 members', async () => {
    const users = ['a1', 'a2', 'good', 'ex', 'calm-admin', 'off-admin', ...Array.from({ length: MEMBERS }, (_, i) => member(i + 1))];
    for (const id of users) await ok('POST', '/v1/users', { id, email: `${id}@example.com` });
    await ok('POST', '/v1/organisations', { id: 'big', name: 'Big & <Co>' });
    await ok('POST', '/v1/organisations', { id: 'calm', name: 'Calm Ltd' });
    await ok('POST', '/v1/organisations', { id: 'loose', name: 'Loose Ltd' });
    const hardFrom = new Date(clock.now().getTime() + 20 * DAY).toISOString();
    await ok('PUT', '/v1/organisations/big/enforcement', { mode: 'soft', hardFrom });
    await ok('PUT', '/v1/organisations/calm/enforcement', { mode: 'hard' });
    for (const id of ['a1', 'a2']) await ok('PUT', `/v1/organisations/big/members/${id}`, { role: 'admin' });
    for (const id of ['good', 'ex', ...Array.from({ length: MEMBERS }, (_, i) => member(i + 1))]) await ok('PUT', `/v1/organisations/big/members/${id}`, { role: 'member' });
    await ok('PUT', '/v1/organisations/calm/members/calm-admin', { role: 'admin' });
    await ok('PUT', '/v1/organisations/loose/members/off-admin', { role: 'admin' });
    await ok('PUT', '/v1/organisations/loose/members/m01', { role: 'member' });
    await enable('good');
    await enable('a1');
    await enable('a2');
    // Ten days ahead: after a week it ends within the next period, so the digest names it.
    const until = new Date(clock.now().getTime() + 10 * DAY).toISOString();
    await ok('PUT', '/v1/organisations/big/members/ex/exemption', { reason: 'travelling', until }, await first.token('agent', 'support'));
    const position = await enable('calm-admin');
    await ok('GET', `/v1/organisations/big?minPosition=${position}`);

    clock.advance(WEEK);
    await fanOutOnBoth();
    await waitFor('one digest to each admin of big', () => digestsTo('a1').length >= 1 && digestsTo('a2').length >= 1);
    await fanOutOnBoth();
    await sleep(1_500);
    expect(digestsTo('a1')).toHaveLength(1);
    expect(digestsTo('a2')).toHaveLength(1);
    // Nobody missing in calm: no digest; loose does not enforce.
    expect(digestsTo('calm-admin')).toHaveLength(0);
    expect(digestsTo('off-admin')).toHaveLength(0);
    const events = await recorded();
    expect(events.map((e) => `${e.stream} ${e.data['orgId']} ${e.data['missing']}`).sort()).toEqual([`user-a1 big ${MEMBERS}`, `user-a2 big ${MEMBERS}`]);
    const period = events[0]!.data['period'] as string;
    expect(first.service.runtime.digests.currentPeriod()).toBe(period);

    const mail = parseMessage(digestsTo('a1')[0]!.raw);
    const text = mail.text!;
    expect(mail.headers.get('subject')).toBe(`Approvals: Big & <Co>: ${MEMBERS} members without two-factor authentication`);
    const listed = Array.from({ length: MEMBERS }, (_, i) => member(i + 1)).filter((id) => text.includes(`  - ${id}@example.com`));
    expect(listed).toHaveLength(50);
    expect(text).toContain(`… and ${MEMBERS - 50} more, listed in the console.`);
    expect(text).toContain('https://app.example.com/console/organisations/big');
    for (const id of ['good', 'a1', 'a2']) expect(text).not.toContain(`  - ${id}@example.com`);
    expect(text).toContain(`ex@example.com: ends ${deadlinePhrase(until)}`);
    expect(text).toContain(`from ${deadlinePhrase(hardFrom)}`);
    expect(mail.html).toContain('Big &amp; &lt;Co&gt;');
    expect(mail.html).not.toContain('<Co>');

    // The next period: one more each.
    clock.advance(WEEK);
    await fanOutOnBoth();
    await waitFor('the next period\'s digests', () => digestsTo('a1').length >= 2 && digestsTo('a2').length >= 2);
    await fanOutOnBoth();
    await sleep(1_500);
    expect(digestsTo('a1')).toHaveLength(2);
    expect(digestsTo('a2')).toHaveLength(2);
    expect(await recorded()).toHaveLength(4);
  }, 120_000);
});
