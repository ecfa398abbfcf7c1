import { generateTotpCode } from '../../src/two-factor/totp.js';
import { parseMessage } from '../mail/raw-message.js';
import { SmtpTestServer, type ReceivedMail } from '../mail/smtp-test-server.js';
import { RealTimeClock } from '../support/real-time.clock.js';
import { BURST_ENV, startHarness, type Harness } from '../support/http-harness.js';
import { waitFor } from '../support/wait-for.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const STEP = 30_000;

function messageId(raw: string): string {
  return /^Message-ID:\s*(<[^>]+>)/im.exec(raw)?.[1] ?? '';
}

/**
 * Every security notice, received by a real SMTP server on loopback, from two service instances
 * running the scheduler on one SQLite file (one of them also the projector): each sent once and
 * recorded once as NoticeSent on the recipient's stream; a failing SMTP server loses none.
 */
describe('security notices by email (two scheduler processes, real SMTP on loopback)', () => {
  let smtp: SmtpTestServer;
  let first: Harness;
  let second: Harness;
  let refusing = false;
  const clock = new RealTimeClock();
  const env = { ...BURST_ENV, SCHEDULER_PROCESS_EVERY: '0.1 seconds', APP_BASE_URL: 'https://app.example.com', SUPPORT_URL: 'https://help.example.com/security', PRODUCT_NAME: 'Ledger' };
  const mailTo = (user: string): ReceivedMail[] => smtp.received.filter((m) => m.to.includes(`${user}@example.com`));
  const secrets = new Map<string, string>();

  beforeAll(async () => {
    smtp = await SmtpTestServer.start({ refuseData: () => (refusing ? { responseCode: 451, message: 'try again later' } : null) });
    first = await startHarness({ clock, env: { ...env, SMTP_URL: smtp.url, ROLES: 'api,projector,scheduler' } });
    second = await startHarness({ clock, env: { ...env, SMTP_URL: smtp.url, ROLES: 'api,scheduler' }, dataDir: first.dataDir });
  });
  afterAll(async () => {
    await second.dispose();
    await first.dispose();
    await smtp.close();
  });

  async function call(h: Harness, token: string, method: string, path: string, body?: unknown): Promise<any> {
    const response = await h.call(method, path, { token, ...(body === undefined ? {} : { body }) });
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }
  const platform = async (method: string, path: string, body?: unknown) => call(first, await first.token('host-platform', 'platform'), method, path, body);
  const self = async (userId: string, method: string, path: string, body?: unknown) => call(second, await second.token(userId), method, path, body);
  const code = (userId: string) => generateTotpCode({ secret: secrets.get(userId)!, at: clock.now() });

  async function enable(userId: string): Promise<string[]> {
    clock.advance(STEP);
    const setup = await self(userId, 'POST', `/v1/users/${userId}/two-factor/setup`);
    secrets.set(userId, new URL(setup.otpauthUri).searchParams.get('secret')!);
    return (await self(userId, 'POST', `/v1/users/${userId}/two-factor/confirm`, { code: code(userId) })).backupCodes;
  }
  const noticesOf = async (userId: string) => (await first.service.runtime.eventStore.readStream(`user-${userId}`)).filter((e) => e.type === 'NoticeSent');

  it('tells the user of every change once, and the admins of a support reset; codes never appear', async () => {
    for (const user of ['alice', 'boss', 'carol', 'dave']) await platform('POST', '/v1/users', { id: user, email: `${user}@example.com` });
    await platform('POST', '/v1/organisations', { id: 'acme', name: 'Acme & <Co>' });
    await platform('PUT', '/v1/organisations/acme/members/boss', { role: 'admin' });
    await platform('PUT', '/v1/organisations/acme/members/dave', { role: 'admin' });
    await platform('PUT', '/v1/organisations/acme/members/alice', { role: 'member' });
    await platform('PUT', '/v1/organisations/acme/members/carol', { role: 'member' });
    // A forgotten admin gets nothing.
    await call(first, await first.token('ops', 'operator'), 'POST', '/v1/users/dave/forget');

    const firstCodes = await enable('alice');
    await waitFor('the enabled notice', () => mailTo('alice').length >= 1);
    clock.advance(STEP);
    const codes: string[] = (await self('alice', 'POST', '/v1/users/alice/two-factor/backup-codes', { code: code('alice') })).backupCodes;
    for (const backupCode of codes.slice(0, 9)) await self('alice', 'POST', '/v1/users/alice/two-factor/verify', { backupCode });
    const wrong = generateTotpCode({ secret: secrets.get('alice')!, at: new Date(clock.now().getTime() - 3_600_000) });
    for (let i = 0; i < 5; i += 1) await second.call('POST', '/v1/users/alice/two-factor/verify', { token: await second.token('alice'), body: { code: wrong } });
    await waitFor('the lockout notice', async () => (await noticesOf('alice')).some((e) => e.data['kind'] === 'verification_locked'));
    await call(first, await first.token('agent-7', 'support'), 'POST', '/v1/users/alice/two-factor/reset', { reason: 'lost phone, identity checked' });
    await enable('alice');
    clock.advance(STEP);
    await call(second, await second.token('alice'), 'DELETE', '/v1/users/alice/two-factor', { code: code('alice') });

    const kinds = ['two_factor_enabled', 'backup_codes_regenerated', 'backup_codes_low', 'verification_locked', 'two_factor_reset', 'two_factor_enabled', 'two_factor_disabled'];
    await waitFor('every notice to alice and the admin', () => mailTo('alice').length >= kinds.length && mailTo('boss').length >= 1);
    await sleep(1_500);
    expect(mailTo('alice')).toHaveLength(kinds.length);
    expect(mailTo('boss')).toHaveLength(1);
    expect(mailTo('carol')).toHaveLength(0);
    expect(mailTo('dave')).toHaveLength(0);

    // Recorded once each, in order, with the message the server accepted.
    const alice = await noticesOf('alice');
    expect(alice.map((e) => e.data['kind'])).toEqual(kinds);
    expect(alice.find((e) => e.data['kind'] === 'backup_codes_low')!.data).toMatchObject({ aboutUserId: 'alice' });
    const boss = await noticesOf('boss');
    expect(boss.map((e) => e.data)).toEqual([expect.objectContaining({ kind: 'member_two_factor_reset', aboutUserId: 'alice' })]);
    const received = smtp.received.map((m) => messageId(m.raw));
    const recorded = [...alice, ...boss].map((e) => e.data['messageId']);
    expect(new Set(received)).toEqual(new Set(recorded));
    expect(received).toHaveLength(recorded.length);

    // Content: what, when, where to undo or report; escaped; never a code.
    const texts = mailTo('alice').map((m) => parseMessage(m.raw));
    const low = texts.find((m) => /running out of backup codes/.test(m.headers.get('subject') ?? ''))!;
    expect(low.text).toMatch(/1 backup code is left|2 backup codes are left/);
    expect(low.text).toContain('2 backup codes are left');
    for (const mail of texts) {
      expect(mail.headers.get('subject')).toMatch(/^Ledger: /);
      expect(mail.text).toMatch(/When: \w+day \d+ \w+ \d{4} at \d\d:\d\d UTC \(\d{4}-\d\d-\d\dT/);
      expect(mail.text).toContain('https://help.example.com/security');
      expect(mail.text).toContain('https://app.example.com/two-factor/manage');
      for (const secretish of [...firstCodes, ...codes, secrets.get('alice')!]) {
        expect(mail.text).not.toContain(secretish);
        expect(mail.html).not.toContain(secretish);
      }
    }
    const admin = parseMessage(mailTo('boss')[0]!.raw);
    expect(admin.text).toContain('alice@example.com');
    expect(admin.text).toContain('Acme & <Co>');
    expect(admin.html).toContain('Acme &amp; &lt;Co&gt;');
    expect(admin.html).not.toContain('<Co>');
    expect(admin.text).not.toContain('lost phone');

    // The user view counts them; the audit timeline shows them.
    const view = await call(second, await second.token('alice'), 'GET', '/v1/users/alice');
    expect(view.notices).toEqual({ count: kinds.length, lastSentAt: expect.any(String), lastKind: 'two_factor_disabled' });
    const audit = await call(first, await first.token('auditor-1', 'auditor'), 'GET', '/v1/audit/streams/user-alice?limit=500');
    expect(audit.events.filter((e: { type: string }) => e.type === 'NoticeSent')).toHaveLength(kinds.length);
  }, 120_000);

  it('loses no notice while the SMTP server refuses, and sends it once when it accepts again', async () => {
    await platform('POST', '/v1/users', { id: 'erin', email: 'erin@example.com' });
    refusing = true;
    const attemptsBefore = smtp.dataAttempts;
    await enable('erin');
    // The job's quick retries fail, and the scheduler's first retry waits a few seconds.
    await waitFor('the refused attempts', () => smtp.dataAttempts >= attemptsBefore + 3);
    expect(mailTo('erin')).toHaveLength(0);
    expect(await noticesOf('erin')).toHaveLength(0);
    refusing = false;
    await waitFor('the notice after the server recovered', () => mailTo('erin').length >= 1, 60_000);
    await sleep(1_500);
    expect(mailTo('erin')).toHaveLength(1);
    const recorded = await noticesOf('erin');
    expect(recorded).toHaveLength(1);
    expect(recorded[0]!.data['messageId']).toBe(messageId(mailTo('erin')[0]!.raw));
    // Run by hand again (a replayed event, a second projector): recorded, so nothing is sent.
    const cause = recorded[0]!.data['cause'] as string;
    expect(await second.service.runtime.notices.run('erin', cause)).toEqual({ sent: 0, alreadySent: 1, skipped: 0 });
    expect(mailTo('erin')).toHaveLength(1);
  }, 120_000);

  it("tells a user's notices in the order things happened, whichever job runs first", async () => {
    await platform('POST', '/v1/users', { id: 'frank', email: 'frank@example.com' });
    refusing = true;
    await enable('frank');
    clock.advance(STEP);
    await call(second, await second.token('frank'), 'DELETE', '/v1/users/frank/two-factor', { code: code('frank') });
    const history = await first.service.runtime.eventStore.readStream('user-frank');
    const disabled = history.find((e) => e.type === 'TwoFactorDisabled')!.metadata.eventId;
    // The "disabled" job run before the "enabled" one was sent: it waits, without trying the server.
    await expect(first.service.runtime.notices.run('frank', disabled)).rejects.toMatchObject({ name: 'EarlierNoticePending' });
    refusing = false;
    await waitFor('both notices to frank', () => mailTo('frank').length >= 2, 90_000);
    await sleep(1_500);
    const subjects = mailTo('frank').map((m) => parseMessage(m.raw).headers.get('subject'));
    expect(subjects).toEqual([expect.stringMatching(/turned on/i), expect.stringMatching(/turned off/i)]);
    expect((await noticesOf('frank')).map((e) => e.data['kind'])).toEqual(['two_factor_enabled', 'two_factor_disabled']);
  }, 150_000);
});
