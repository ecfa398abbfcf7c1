import { generateTotpCode } from '../../src/two-factor/totp.js';
import { parseMessage } from '../mail/raw-message.js';
import { SmtpTestServer } from '../mail/smtp-test-server.js';
import { RealTimeClock } from '../support/real-time.clock.js';
import { startHarness, type Harness } from '../support/http-harness.js';
import { waitFor } from '../support/wait-for.js';

const HARD_EVERY_MS = 1_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function messageId(raw: string): string {
  return /^Message-ID:\s*(<[^>]+>)/im.exec(raw)?.[1] ?? '';
}

describe('reminders end to end (real SMTP on loopback, short intervals)', () => {
  let smtp: SmtpTestServer;
  let h: Harness;
  let platform: string;
  const env = (smtpUrl: string) => ({ SMTP_URL: smtpUrl, REMINDER_SOFT_EVERY: '6 seconds', REMINDER_HARD_EVERY: `${HARD_EVERY_MS / 1000} second`, SCHEDULER_PROCESS_EVERY: '0.1 seconds', APP_BASE_URL: 'https://app.example.com' });
  // Security notices (e.g. "turned on") go to the same server; these tests count reminders.
  const isReminder = (raw: string) => /^Approvals: (Reminder|Action required)/.test(parseMessage(raw).headers.get('subject') ?? '');
  const mailTo = (user: string) => smtp.received.filter((m) => m.to.includes(`${user}@example.com`) && isReminder(m.raw));

  beforeAll(async () => {
    smtp = await SmtpTestServer.start();
    h = await startHarness({ clock: new RealTimeClock(), env: env(smtp.url) });
    platform = await h.token('host-platform', 'platform');
  });
  afterAll(async () => {
    await h.dispose();
    await smtp.close();
  });

  async function ok(method: string, path: string, body?: unknown): Promise<any> {
    const response = await h.call(method, path, { token: platform, ...(body === undefined ? {} : { body }) });
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }
  async function enableTwoFactor(userId: string): Promise<string> {
    const setup = await ok('POST', `/v1/users/${userId}/two-factor/setup`);
    const secret = new URL(setup.otpauthUri).searchParams.get('secret')!;
    const confirm = await ok('POST', `/v1/users/${userId}/two-factor/confirm`, { code: generateTotpCode({ secret, at: h.clock.now() }) });
    return confirm.position;
  }

  it('sends hard members more mail than soft ones, none to members with 2FA, stops on enabling, and records every message', async () => {
    for (const user of ['soft-user', 'hard-user', 'has-2fa', 'enables-later']) await ok('POST', '/v1/users', { id: user, email: `${user}@example.com` });
    await enableTwoFactor('has-2fa');
    await ok('POST', '/v1/organisations', { id: 'soft-org', name: 'Soft & <Co>' });
    await ok('POST', '/v1/organisations', { id: 'hard-org', name: 'Hard Ltd' });
    await ok('PUT', '/v1/organisations/soft-org/enforcement', { mode: 'soft' });
    await ok('PUT', '/v1/organisations/hard-org/enforcement', { mode: 'hard' });
    await ok('PUT', '/v1/organisations/soft-org/members/soft-user', { role: 'member' });
    for (const user of ['hard-user', 'has-2fa', 'enables-later']) await ok('PUT', `/v1/organisations/hard-org/members/${user}`, { role: 'member' });

    await waitFor('three hard reminders', () => mailTo('hard-user').length >= 3);
    expect(mailTo('soft-user').length).toBeGreaterThanOrEqual(1);
    await waitFor('a reminder to the user who enables 2FA later', () => mailTo('enables-later').length >= 1);
    const enabledAt = await enableTwoFactor('enables-later');
    await h.call('GET', `/v1/users/enables-later?minPosition=${enabledAt}`, { token: platform });
    await sleep(300);
    const afterEnabling = mailTo('enables-later').length;
    await waitFor('two more hard reminders', () => mailTo('hard-user').length >= 5);

    expect(mailTo('hard-user').length).toBeGreaterThan(mailTo('soft-user').length);
    expect(mailTo('has-2fa')).toHaveLength(0);
    expect(mailTo('enables-later').length).toBe(afterEnabling);

    const hardMail = parseMessage(mailTo('hard-user')[0]!.raw);
    expect(hardMail.text).toMatch(/Hard Ltd/);
    expect(hardMail.text).toMatch(/blocked/i);
    expect(hardMail.text).toContain('https://app.example.com');
    expect(hardMail.headers.get('subject')).toMatch(/^Approvals: /);
    const softMail = parseMessage(mailTo('soft-user')[0]!.raw);
    expect(softMail.html).toContain('&amp; &lt;Co&gt;');
    expect(softMail.html).not.toMatch(/<li>[^<]*<Co>/);

    // Every accepted message has its ReminderSent, and every ReminderSent its message.
    // Reminders keep coming, and each is recorded just after the sink accepted it: compare what was
    // received by one instant with what is recorded once those are, then the other way round.
    const receivedIds = (): unknown[] => smtp.received.filter((m) => isReminder(m.raw)).map((m) => messageId(m.raw));
    const received = receivedIds();
    expect(new Set(received).size).toBe(received.length);
    expect(received.length).toBeGreaterThan(0);
    let recorded: unknown[] = [];
    await waitFor('every accepted reminder recorded', async () => {
      recorded = (await h.service.runtime.eventStore.readAll({ types: ['ReminderSent'] })).map((e) => e.data['messageId']);
      return received.every((id) => recorded.includes(id));
    });
    const receivedSince = receivedIds();
    for (const id of recorded) expect(receivedSince).toContain(id);

    // The members list shows each member's last reminder (the console's column), the user's own last one.
    // Hard reminders keep coming every second, so the value is one of hard-user's recorded sending times.
    const head = await h.service.runtime.eventStore.headPosition();
    const members = await h.call('GET', `/v1/organisations/hard-org/members?minPosition=${head}`, { token: platform });
    const byUser = new Map(members.body.items.map((m: { userId: string; lastReminderAt: string | null }) => [m.userId, m.lastReminderAt]));
    const sentToHardUser = (await h.service.runtime.eventStore.readAll({ types: ['ReminderSent'], streamPrefix: 'user-hard-user' })).map((e) => e.data['sentAt']);
    expect(sentToHardUser).toContain(byUser.get('hard-user'));
    expect(byUser.get('has-2fa')).toBeNull();
  }, 60_000);

  it('lists a user\'s reminders newest first, for the user and support only', async () => {
    const self = await h.token('hard-user');
    const list = await h.call('GET', '/v1/users/hard-user/reminders?limit=2', { token: self });
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(2);
    expect(list.body.items[0].sentAt >= list.body.items[1].sentAt).toBe(true);
    expect(list.body.items[0]).toMatchObject({ cadence: 'hard', orgIds: ['hard-org'] });
    expect(list.body.nextCursor).toEqual(expect.any(String));
    const next = await h.call('GET', `/v1/users/hard-user/reminders?limit=2&cursor=${encodeURIComponent(list.body.nextCursor)}`, { token: await h.token('agent', 'support') });
    expect(next.status).toBe(200);
    expect(next.body.items[0].sentAt <= list.body.items[1].sentAt).toBe(true);
    expect((await h.call('GET', '/v1/users/hard-user/reminders', { token: await h.token('soft-user') })).status).toBe(403);
    expect((await h.call('GET', '/v1/users/nobody/reminders', { token: await h.token('agent', 'support') })).status).toBe(404);
    const view = await h.call('GET', '/v1/users/hard-user', { token: self });
    expect(view.body.reminders.count).toBeGreaterThanOrEqual(5);
    expect(view.body.reminders.lastCadence).toBe('hard');
  });

  it('survives a restart: no reminder lost, no burst of missed ones', async () => {
    const dataDir = h.dataDir;
    await h.stop();
    const before = mailTo('hard-user').length;
    await sleep(4_000);
    expect(mailTo('hard-user').length).toBe(before);
    // Taken before the start: the catch-up may go out while the service is still starting.
    const restartedAt = Date.now();
    h = await startHarness({ clock: new RealTimeClock(), env: env(smtp.url), dataDir });
    await waitFor('the catch-up reminder and the next regular one', () => mailTo('hard-user').length >= before + 2);
    // Four periods were missed; a burst would send them within milliseconds of each other. One
    // catch-up, then the cadence: judged on the instants the service recorded, not on when this
    // test happened to look (a loaded machine delays the looking, never the recorded schedule).
    // A message is recorded (ReminderSent) just after the sink accepted it, so wait for the records too.
    let sentSinceRestart: number[] = [];
    await waitFor('both sends recorded', async () => {
      sentSinceRestart = (await h.service.runtime.eventStore.readAll({ types: ['ReminderSent'] }))
        .filter((e) => e.stream === 'user-hard-user' && Date.parse(String(e.data['sentAt'])) >= restartedAt)
        .map((e) => Date.parse(String(e.data['sentAt'])));
      return sentSinceRestart.length >= 2;
    });
    expect(sentSinceRestart.length).toBeGreaterThanOrEqual(2);
    const [catchUp, next] = sentSinceRestart as [number, number];
    expect(next - catchUp).toBeGreaterThanOrEqual(HARD_EVERY_MS);
  }, 60_000);
});
