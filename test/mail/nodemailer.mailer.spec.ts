import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MailDeliveryError, NodemailerMailer, messageIdFor, recipientTag } from '../../src/infrastructure/mail/nodemailer.mailer.js';
import { backoffDelay, sendWithRetry } from '../../src/reminders/send-with-retry.js';
import type { OutgoingMail } from '../../src/ports/mailer.port.js';
import { makeTempDir } from '../support/temp-dir.js';
import { parseMessage } from './raw-message.js';
import { SmtpTestServer, closedLoopbackPort } from './smtp-test-server.js';

const FROM = 'Security <security@example.test>';
const RECIPIENT = 'ada.lovelace@example.test';
const BODY_MARKER = 'body-marker-7f3a';

function aMail(overrides: Partial<OutgoingMail> = {}): OutgoingMail {
  return {
    to: RECIPIENT,
    recipientId: 'user-42',
    subject: 'Reminder: please turn on two-factor authentication',
    text: `Plain part ${BODY_MARKER} – Grüße`,
    html: `<p>HTML part ${BODY_MARKER} – Grüße</p>`,
    idempotencyKey: 'user-42:soft:2026-01-05',
    ...overrides,
  };
}

/** `reminder-<hash>` out of `<reminder-<hash>@two-factor.local>`. */
function hashOf(messageId: string): string {
  const match = /^<(reminder-[0-9a-f]{32})@two-factor\.local>$/.exec(messageId);
  if (!match?.[1]) throw new Error(`unexpected Message-ID ${messageId}`);
  return match[1];
}

/** Asserts a send failed without leaking the recipient or the body into the error. */
async function expectSafeFailure(sending: Promise<unknown>): Promise<MailDeliveryError> {
  const error = await sending.then(
    () => {
      throw new Error('expected the send to fail');
    },
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(MailDeliveryError);
  const delivery = error as MailDeliveryError;
  const exposed = `${delivery.message} ${delivery.stack ?? ''} ${JSON.stringify(delivery)}`;
  expect(exposed).not.toContain(RECIPIENT);
  expect(exposed).not.toContain('ada.lovelace');
  expect(exposed).not.toContain(BODY_MARKER);
  expect((delivery as { cause?: unknown }).cause).toBeUndefined();
  return delivery;
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('NodemailerMailer over SMTP (real smtp-server on loopback)', () => {
  let server: SmtpTestServer | undefined;
  let mailer: NodemailerMailer | undefined;

  afterEach(async () => {
    await mailer?.close();
    await server?.close();
    mailer = undefined;
    server = undefined;
  });

  it('delivers text and HTML, and returns the Message-ID the server received', async () => {
    server = await SmtpTestServer.start();
    mailer = new NodemailerMailer({ smtpUrl: server.url, outboxDir: '/nonexistent-unused', from: FROM });

    const sent = await mailer.send(aMail());

    expect(server.received).toHaveLength(1);
    const [received] = server.received;
    expect(received?.to).toEqual([RECIPIENT]);
    expect(received?.from).toBe('security@example.test');
    const message = parseMessage(received?.raw ?? '');
    expect(message.headers.get('message-id')).toBe(sent.messageId);
    expect(sent.messageId).toBe(messageIdFor('user-42:soft:2026-01-05'));
    expect(message.headers.get('auto-submitted')).toBe('auto-generated');
    expect(message.text).toContain(`Plain part ${BODY_MARKER} – Grüße`);
    expect(message.html).toContain(`<p>HTML part ${BODY_MARKER} – Grüße</p>`);
  });

  it('uses the same Message-ID for the same idempotency key, and a different one otherwise', async () => {
    server = await SmtpTestServer.start();
    mailer = new NodemailerMailer({ smtpUrl: server.url, outboxDir: '/nonexistent-unused', from: FROM });

    const first = await mailer.send(aMail());
    const again = await mailer.send(aMail());
    const nextPeriod = await mailer.send(aMail({ idempotencyKey: 'user-42:soft:2026-01-12' }));

    expect(again.messageId).toBe(first.messageId);
    expect(nextPeriod.messageId).not.toBe(first.messageId);
    expect(first.messageId).toMatch(/^<reminder-[0-9a-f]{32}@two-factor\.local>$/);
    expect(first.messageId).not.toContain('user-42');
    expect(server.received.map((m) => parseMessage(m.raw).headers.get('message-id'))).toEqual([
      first.messageId,
      first.messageId,
      nextPeriod.messageId,
    ]);
  });

  it('rejects without naming the recipient when the server refuses the recipient', async () => {
    server = await SmtpTestServer.start({
      refuseRecipient: (address) => ({ responseCode: 550, message: `5.1.1 <${address}> mailbox unavailable` }),
    });
    mailer = new NodemailerMailer({ smtpUrl: server.url, outboxDir: '/nonexistent-unused', from: FROM });

    const error = await expectSafeFailure(mailer.send(aMail()));

    expect(error.message).toContain('550');
    expect(error.permanent).toBe(true);
    expect(server.received).toHaveLength(0);
  });

  it('rejects without quoting the body when the server refuses the message data', async () => {
    server = await SmtpTestServer.start({
      refuseData: (_attempt, raw) => ({ responseCode: 451, message: `4.7.1 deferred: ${raw.slice(-200)} for ${RECIPIENT}` }),
    });
    mailer = new NodemailerMailer({ smtpUrl: server.url, outboxDir: '/nonexistent-unused', from: FROM });

    const error = await expectSafeFailure(mailer.send(aMail()));

    expect(error.message).toContain('451');
    expect(error.permanent).toBe(false);
    expect(server.received).toHaveLength(0);
  });

  it('reuses a bounded pool of connections for many messages sent at once', async () => {
    server = await SmtpTestServer.start();
    mailer = new NodemailerMailer({ smtpUrl: server.url, outboxDir: '/nonexistent-unused', from: FROM, smtpConnections: 2 });

    const keys = Array.from({ length: 20 }, (_, i) => `user-${i}:hard:2026-01-05`);
    await Promise.all(keys.map((key, i) => mailer!.send(aMail({ to: `user-${i}@example.test`, recipientId: `user-${i}`, idempotencyKey: key }))));

    expect(server.received).toHaveLength(20);
    expect(server.connections).toBeGreaterThanOrEqual(1);
    expect(server.connections).toBeLessThanOrEqual(2);
  });

  it('keeps delivering over the pool after the server refused one message', async () => {
    server = await SmtpTestServer.start({
      refuseRecipient: (address) => (address === RECIPIENT ? { responseCode: 550, message: `5.1.1 <${address}> mailbox unavailable` } : null),
    });
    mailer = new NodemailerMailer({ smtpUrl: server.url, outboxDir: '/nonexistent-unused', from: FROM, smtpConnections: 1 });

    await expectSafeFailure(mailer.send(aMail()));
    await mailer.send(aMail({ to: 'grace.hopper@example.test', recipientId: 'user-43', idempotencyKey: 'user-43:soft:2026-01-05' }));

    expect(server.received.map((mail) => mail.to)).toEqual([['grace.hopper@example.test']]);
    expect(server.connections).toBe(1);
  });

  it('delivers again once a server that was down is back on the same port', async () => {
    const port = await closedLoopbackPort();
    mailer = new NodemailerMailer({ smtpUrl: `smtp://127.0.0.1:${port}`, outboxDir: '/nonexistent-unused', from: FROM, smtpConnections: 2 });
    await expectSafeFailure(mailer.send(aMail()));

    server = await SmtpTestServer.start({}, port);
    await mailer.send(aMail());

    expect(server.received).toHaveLength(1);
  });

  it('lets a close during a send finish that send, then holds no connection open', async () => {
    server = await SmtpTestServer.start();
    const closing = new NodemailerMailer({ smtpUrl: server.url, outboxDir: '/nonexistent-unused', from: FROM, smtpConnections: 1 });
    await closing.send(aMail());
    const inFlight = closing.send(aMail({ idempotencyKey: 'user-42:soft:2026-01-12' }));
    await closing.close();

    await inFlight.catch(() => undefined);
    await expect(closing.send(aMail({ idempotencyKey: 'user-42:soft:2026-01-19' }))).rejects.toBeInstanceOf(MailDeliveryError);
    // A pooled connection left open would keep the process (and a test run) alive after shutdown.
    await waitFor(() => server!.openConnections === 0);
    expect(server.openConnections).toBe(0);
  });

  it('rejects when nothing listens on the SMTP port', async () => {
    const port = await closedLoopbackPort();
    mailer = new NodemailerMailer({ smtpUrl: `smtp://127.0.0.1:${port}`, outboxDir: '/nonexistent-unused', from: FROM });

    const error = await expectSafeFailure(mailer.send(aMail()));

    expect(error.message).toContain('ESOCKET');
    expect(error.permanent).toBe(false);
  });
});

describe('NodemailerMailer into the outbox (no SMTP_URL)', () => {
  const temp = makeTempDir('tfe-outbox-');
  const outboxDir = join(temp.path, 'data', 'outbox');

  afterAll(() => temp.remove());

  const fileOf = (recipientId: string, messageId: string) => `${recipientTag(recipientId)}.${hashOf(messageId)}_two-factor.local.eml`;

  it('writes a parsable .eml, readable by the owner only, named after the recipient tag and Message-ID', async () => {
    const mailer = new NodemailerMailer({ outboxDir, from: FROM });

    const sent = await mailer.send(aMail());
    await mailer.close();

    const files = readdirSync(outboxDir);
    expect(files).toEqual([fileOf('user-42', sent.messageId)]);
    expect(files[0]).not.toContain('user-42');
    const file = join(outboxDir, files[0] ?? '');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(outboxDir).mode & 0o777).toBe(0o700);
    const raw = readFileSync(file, 'utf8');
    expect(raw).toContain('\r\n');
    expect(raw.replace(/\r\n/g, '')).not.toContain('\n');
    const message = parseMessage(raw);
    expect(message.headers.get('message-id')).toBe(messageIdFor('user-42:soft:2026-01-05'));
    expect(message.headers.get('to')).toBe(RECIPIENT);
    expect(message.headers.get('subject')).toBe('Reminder: please turn on two-factor authentication');
    expect(message.text).toContain(`Plain part ${BODY_MARKER} – Grüße`);
    expect(message.html).toContain(`<p>HTML part ${BODY_MARKER} – Grüße</p>`);
  });

  it('replaces the same file on a resend of the same period and leaves no temporary files', async () => {
    const mailer = new NodemailerMailer({ outboxDir, from: FROM });

    const first = await mailer.send(aMail());
    const again = await mailer.send(aMail({ subject: 'Resent' }));
    const other = await mailer.send(aMail({ recipientId: 'user-43', idempotencyKey: 'user-43:hard:2026-01-06' }));
    await mailer.close();

    expect(again.messageId).toBe(first.messageId);
    const files = readdirSync(outboxDir).sort();
    expect(files).toHaveLength(2);
    expect(files).toEqual([fileOf('user-42', first.messageId), fileOf('user-43', other.messageId)].sort());
    const resent = readFileSync(join(outboxDir, fileOf('user-42', first.messageId)), 'utf8');
    expect(parseMessage(resent).headers.get('subject')).toBe('Resent');
    expect(other.messageId).not.toBe(first.messageId);
  });

  it('erases every file of a forgotten recipient, and only theirs, idempotently', async () => {
    const dir = join(temp.path, 'forget', 'outbox');
    const mailer = new NodemailerMailer({ outboxDir: dir, from: FROM });
    await mailer.forgetRecipient('user-42');

    await mailer.send(aMail({ recipientId: 'user-42', idempotencyKey: 'user-42|a' }));
    await mailer.send(aMail({ recipientId: 'user-42', idempotencyKey: 'user-42|b' }));
    const kept = await mailer.send(aMail({ recipientId: 'user-420', to: 'someone.else@example.test', idempotencyKey: 'user-420|a' }));
    writeFileSync(join(dir, `.${recipientTag('user-42')}.x.eml.tmp`), RECIPIENT);
    await mailer.forgetRecipient('user-42');
    await mailer.forgetRecipient('user-42');
    await mailer.close();

    expect(readdirSync(dir)).toEqual([fileOf('user-420', kept.messageId)]);
    expect(readdirSync(dir).map((name) => readFileSync(join(dir, name), 'utf8')).join('')).not.toContain(RECIPIENT);
  });

  it('rejects without leaking when the outbox cannot be written', async () => {
    const blocked = join(temp.path, 'not-a-dir');
    const mailer = new NodemailerMailer({ outboxDir: join(blocked, 'outbox'), from: FROM });
    writeFileSync(blocked, 'a file where the outbox parent should be');

    const error = await expectSafeFailure(mailer.send(aMail()));

    expect(error.message).toContain('outbox');
    expect(error.message).not.toContain(temp.path);
  });
});

describe('sendWithRetry', () => {
  let server: SmtpTestServer | undefined;
  let mailer: NodemailerMailer | undefined;

  afterEach(async () => {
    await mailer?.close();
    await server?.close();
    mailer = undefined;
    server = undefined;
  });

  async function startRefusing(refusals: number, responseCode: number): Promise<NodemailerMailer> {
    server = await SmtpTestServer.start({
      refuseData: (attempt) => (attempt <= refusals ? { responseCode, message: 'try again later' } : null),
    });
    mailer = new NodemailerMailer({ smtpUrl: server.url, outboxDir: '/nonexistent-unused', from: FROM });
    return mailer;
  }

  function recordingSleep(delays: number[]): (ms: number) => Promise<void> {
    return async (ms) => {
      delays.push(ms);
    };
  }

  it('retries a transiently failing server with growing delays until it accepts', async () => {
    const delays: number[] = [];
    const retrying = await startRefusing(2, 451);

    const sent = await sendWithRetry(retrying, aMail(), { attempts: 5, baseDelayMs: 10, maxDelayMs: 1_000, sleep: recordingSleep(delays) });

    expect(server?.dataAttempts).toBe(3);
    expect(server?.received).toHaveLength(1);
    expect(parseMessage(server?.received[0]?.raw ?? '').headers.get('message-id')).toBe(sent.messageId);
    expect(delays).toEqual([10, 20]);
  });

  it('gives up after the configured attempts and rethrows the last failure', async () => {
    const delays: number[] = [];
    const failing = await startRefusing(Number.MAX_SAFE_INTEGER, 451);

    const error = await expectSafeFailure(
      sendWithRetry(failing, aMail(), { attempts: 3, baseDelayMs: 1, maxDelayMs: 2, sleep: recordingSleep(delays) }),
    );

    expect(error.message).toContain('451');
    expect(server?.dataAttempts).toBe(3);
    expect(server?.received).toHaveLength(0);
    expect(delays).toEqual([1, 2]);
  });

  it('does not retry a permanent rejection', async () => {
    const delays: number[] = [];
    const refusing = await startRefusing(Number.MAX_SAFE_INTEGER, 554);

    const error = await expectSafeFailure(
      sendWithRetry(refusing, aMail(), { attempts: 5, baseDelayMs: 1, maxDelayMs: 2, sleep: recordingSleep(delays) }),
    );

    expect(error.permanent).toBe(true);
    expect(server?.dataAttempts).toBe(1);
    expect(delays).toEqual([]);
  });

  it('retries with the real timer when no sleep is given', async () => {
    const retrying = await startRefusing(1, 421);

    await sendWithRetry(retrying, aMail(), { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 });

    expect(server?.dataAttempts).toBe(2);
    expect(server?.received).toHaveLength(1);
  });

  it('doubles the delay per attempt and caps it', () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 500 };
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, policy))).toEqual([100, 200, 400, 500, 500]);
  });

  it('refuses a policy without a first attempt', async () => {
    const port = await closedLoopbackPort();
    mailer = new NodemailerMailer({ smtpUrl: `smtp://127.0.0.1:${port}`, outboxDir: '/nonexistent-unused', from: FROM });

    await expect(sendWithRetry(mailer, aMail(), { attempts: 0, baseDelayMs: 1, maxDelayMs: 1 })).rejects.toThrow(RangeError);
  });
});
