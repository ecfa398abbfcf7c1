import { SmtpTestServer, closedLoopbackPort } from '../mail/smtp-test-server.js';
import { RealTimeClock } from '../support/real-time.clock.js';
import { startHarness, type Harness } from '../support/http-harness.js';
import { expectCommandAnswer } from '../http/http-steps.js';
import { waitUntil } from './service-process.js';

/**
 * SMTP down: reminders fall due while nothing listens on the SMTP server's port (a real refused
 * connection on loopback), then a real SMTP server (smtp-server) comes up on that same port. Every
 * recipient must then get exactly one reminder, and `ReminderSent` must be recorded exactly once
 * per user and only for mail the server accepted. The job's own retry (Agenda's backoff, about 30 s
 * for the first one) is what brings them out; nothing here runs a job by hand.
 *
 * Time is real (Agenda schedules on the wall clock): the hard cadence is an hour, so within the
 * test only the first reminder, due as soon as enforcement begins, can be sent.
 */

const USERS = ['down-1', 'down-2', 'down-3'];

describe('reminders while the SMTP server is down (real SMTP on loopback)', () => {
  let h: Harness;
  let smtp: SmtpTestServer | null = null;

  afterAll(async () => {
    await h?.dispose();
    await smtp?.close();
  });

  it('sends each due reminder once the server is back: none twice, none lost, ReminderSent only after acceptance', async () => {
    const port = await closedLoopbackPort();
    h = await startHarness({
      clock: new RealTimeClock(),
      env: { SMTP_URL: `smtp://127.0.0.1:${port}`, REMINDER_HARD_EVERY: '1 hour', REMINDER_SOFT_EVERY: '1 week', SCHEDULER_PROCESS_EVERY: '0.1 seconds', APP_BASE_URL: 'https://app.example.com' },
    });
    const platform = await h.token('host-platform', 'platform');
    const auditor = await h.token('auditor-1', 'auditor');
    const reminderEvents = async (): Promise<Array<{ stream: string }>> => (await h.call('GET', '/v1/audit/events?type=ReminderSent&limit=100', { token: auditor })).body.events;

    expectCommandAnswer(await h.call('POST', '/v1/organisations', { token: platform, body: { id: 'down-org', name: 'Down Ltd' } }), 201);
    for (const userId of USERS) {
      expectCommandAnswer(await h.call('POST', '/v1/users', { token: platform, body: { id: userId, email: `${userId}@example.com` } }), 201);
      expectCommandAnswer(await h.call('PUT', `/v1/organisations/down-org/members/${userId}`, { token: platform, body: { role: 'member' } }));
    }
    expectCommandAnswer(await h.call('PUT', '/v1/organisations/down-org/enforcement', { token: platform, body: { mode: 'hard' } }));

    // Every user's reminder is due now; each attempt meets a refused connection and its job fails.
    await waitUntil('a failed send for every user', () => (h.logs().match(/reminder job failed; will retry/g) ?? []).length >= USERS.length, 30_000);
    expect(await reminderEvents()).toEqual([]);

    smtp = await SmtpTestServer.start({}, port);
    const mailTo = (userId: string) => smtp!.received.filter((mail) => mail.to.includes(`${userId}@example.com`));
    await waitUntil('one reminder for every user', () => USERS.every((userId) => mailTo(userId).length >= 1), 120_000, 200);
    await waitUntil('ReminderSent for every user', async () => (await reminderEvents()).length >= USERS.length, 30_000, 200);
    // Room for a duplicate to show up, had a retry sent again what was already accepted.
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    expect(Object.fromEntries(USERS.map((userId) => [userId, mailTo(userId).length]))).toEqual(Object.fromEntries(USERS.map((userId) => [userId, 1])));
    expect(smtp.received).toHaveLength(USERS.length);
    expect((await reminderEvents()).map((event) => event.stream).sort()).toEqual(USERS.map((userId) => `user-${userId}`));
  }, 200_000);
});
